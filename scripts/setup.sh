#!/usr/bin/env bash
# One-time setup on a fresh Debian machine with Node 20: Docker engine, librdkafka (the Kafka client links
# Debian's build instead of downloading one), the shells the completion tests run in, PostgreSQL (the tests run a
# throwaway cluster of it), npm dependencies, build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
# zsh and fish: the CLI's completion scripts are tested in the real shells. nginx: the several-servers test and
# bench run Debian's nginx (as a child process, never the system service) in front of two fnts servers. postgresql:
# the server binaries the store's tests start a throwaway cluster of (test/support/postgres.ts); the cluster Debian
# may start is not used. chromium: the web console's test drives Debian's headless Chromium with playwright-core
# (nothing is downloaded). wrk and hyperfine: load and timing for the benchmarks (bench/).
if ! dpkg -s librdkafka-dev >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1 || ! command -v zsh >/dev/null 2>&1 \
  || ! command -v fish >/dev/null 2>&1 || ! dpkg -s nginx >/dev/null 2>&1 || ! dpkg -s postgresql >/dev/null 2>&1 \
  || ! dpkg -s chromium >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1 || ! command -v hyperfine >/dev/null 2>&1; then
  echo "setup: installing librdkafka-dev, gcc, zsh, fish, nginx, postgresql, chromium, wrk and hyperfine" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq librdkafka-dev libzstd-dev gcc zsh fish nginx postgresql chromium wrk hyperfine >/dev/null
fi

# @confluentinc/kafka-javascript compiles against the system librdkafka: nothing is downloaded.
export CKJS_LINKING=dynamic
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
npm run build
