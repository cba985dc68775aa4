#!/usr/bin/env bash
# Screenshots of the web console for the README: runs the console's end-to-end test (a real server, a function in
# Docker, headless Chromium) with FNTS_CONSOLE_SCREENSHOTS set, which saves its pages as PNGs in docs/console/.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
FNTS_CONSOLE_SCREENSHOTS=docs/console npx vitest run test/console.test.ts -t 'in Chromium'
ls -l docs/console
