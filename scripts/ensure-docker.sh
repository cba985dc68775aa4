#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when none is installed, and starts dockerd
# (no bridge, no iptables: function containers use network mode "none") when none runs.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd" >&2
  log="${TMPDIR:-/tmp}/fnts-dockerd.log"
  # A session of its own: the engine outlives whatever started it (a job runner that ends by killing its process
  # group would otherwise take dockerd, and every test after it, down with it).
  $SUDO setsid sh -c "nohup dockerd --bridge=none --iptables=false >'$log' 2>&1 </dev/null &"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: dockerd did not answer within 60 s; see ${TMPDIR:-/tmp}/fnts-dockerd.log" >&2
  exit 1
fi
