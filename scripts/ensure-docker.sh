#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when none is installed, and starts dockerd
# (no bridge, no iptables: function containers use network mode "none") when none runs. A dockerd started here has
# Debian's crun registered beside runc: the server creates function containers with it (FNTS_DOCKER_RUNTIME=auto),
# as it starts them tens of milliseconds sooner.
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
  if ! command -v crun >/dev/null 2>&1; then
    echo "ensure-docker: installing crun" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq crun >/dev/null || echo "ensure-docker: crun did not install; runc only" >&2
  fi
  runtimes=""
  if command -v crun >/dev/null 2>&1; then
    runtimes="--add-runtime crun=$(command -v crun)"
    # crun refuses a cgroup v1/v2 hybrid host whose unified hierarchy still holds a controller (hugetlb, say).
    # Mounting each such controller as a v1 hierarchy of its own, like every other one there, empties the unified
    # one; where that is not allowed the server finds crun refusing and falls back to runc by itself.
    unified=/sys/fs/cgroup/unified/cgroup.controllers
    if [ -f "$unified" ]; then
      for c in $(cat "$unified"); do
        [ -e "/sys/fs/cgroup/$c" ] && continue
        $SUDO mkdir "/sys/fs/cgroup/$c" && $SUDO mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" \
          || echo "ensure-docker: could not mount the $c cgroup controller as v1" >&2
      done
    fi
  fi
  echo "ensure-docker: starting dockerd" >&2
  log="${TMPDIR:-/tmp}/fnts-dockerd.log"
  # A session of its own: the engine outlives whatever started it (a job runner that ends by killing its process
  # group would otherwise take dockerd, and every test after it, down with it).
  $SUDO setsid sh -c "nohup dockerd --bridge=none --iptables=false $runtimes >'$log' 2>&1 </dev/null &"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: dockerd did not answer within 60 s; see ${TMPDIR:-/tmp}/fnts-dockerd.log" >&2
  exit 1
fi
