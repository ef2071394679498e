#!/usr/bin/env bash
# Makes a Docker daemon available for the end-to-end tests on a machine
# without systemd (CI sandbox, fresh Debian 12): installs docker.io if needed,
# starts dockerd in the background (log: /tmp/dockerd.log) and waits for it.
set -euo pipefail

docker info >/dev/null 2>&1 && exit 0

if ! command -v dockerd >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q docker.io
  docker info >/dev/null 2>&1 && exit 0  # in case its init script started it
fi

# No special flags turned out to be needed here: overlay2 and the iptables
# bridge network work as they are (see .ci/images/smoke.sh).
nohup dockerd >/tmp/dockerd.log 2>&1 &

for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not come up within 60 s; last lines of /tmp/dockerd.log:" >&2
tail -n 30 /tmp/dockerd.log >&2
exit 1
