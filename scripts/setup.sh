#!/usr/bin/env bash
# One-time setup on a fresh Debian machine with Node 20: Docker engine, npm dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
npm run build
