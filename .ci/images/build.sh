#!/usr/bin/env bash
# Builds local stand-ins for the official images the stackgen stack uses
# (redis, oliver006/redis_exporter, prom/prometheus, prom/alertmanager) from
# Debian 12 packages (Alertmanager from Debian 13's: see ../alertmanager.sh), so end-to-end tests can run without a container registry.
# Only a Debian archive is needed (for the base): the one this machine's apt
# already uses, unless DEBIAN_MIRROR names another; the per-service Dockerfiles
# in .ci/images/<service>/ build offline on top of it.
#   .ci/images/build.sh                  build what is missing (base is reused)
#   REBUILD_BASE=1 .ci/images/build.sh   redo the debootstrap too
set -euo pipefail
cd "$(dirname "$0")"

SUITE=bookworm
BASE=stackgen-test/base:$SUITE
PKGS=redis-server,redis-tools,prometheus,prometheus-alertmanager,prometheus-redis-exporter,gosu,wget,ca-certificates,passwd

# The archive this machine's apt installs Debian itself from: the first http(s) or file URI
# of a `deb` source of the release suite ($SUITE, or this machine's own release) with the
# `main` component. apt reads its sources itself (deb822 /etc/apt/sources.list.d/*.sources
# and classic `deb URI suite` lines in /etc/apt/sources.list, options and `Enabled: no`
# included), from its configuration alone: no network, no package lists needed. The security
# archive, -updates, -backports and other vendors' repositories never match: their suites or
# components differ.
apt_mirror() {
  local codename
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true
  apt-get indextargets --no-release-info \
    --format '$(TARGET_OF) $(RELEASE) $(COMPONENT) $(REPO_URI)' 2>/dev/null |
    awk -v a="$SUITE" -v b="$codename" '$1 == "deb" && ($2 == a || $2 == b) && $3 == "main" &&
      $4 ~ /^(https?|file):/ { sub(/\/$/, "", $4); print $4; exit }' || true
}

if [[ ${REBUILD_BASE:-} == 1 ]] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap; }
  mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
  if [[ -z $mirror ]]; then
    echo "no Debian archive for $SUITE found in this machine's apt sources" \
      "(/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list):" \
      "set DEBIAN_MIRROR to the URL of a Debian archive" >&2
    exit 1
  fi
  echo "Debian archive: $mirror"
  rootfs=$(mktemp -d /tmp/stackgen-rootfs.XXXXXX)
  trap 'rm -rf --one-file-system "$rootfs"' EXIT
  start=$SECONDS
  # While configuring packages debootstrap puts an "exit 101" policy-rc.d and a
  # no-op start-stop-daemon into the chroot, so no service (redis, prometheus...)
  # is started; the check below makes sure nothing is left running in it.
  debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$rootfs" "$mirror"
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/root" 2>/dev/null) == "$rootfs" ]]; then
      echo "process $(basename "$p") still running in the chroot" >&2; exit 1
    fi
  done
  # Keep the image small (moment-timezone/data: 212 MB the web UI does not use);
  # Docker provides hostname/hosts/resolv.conf itself.
  find "$rootfs"/var/log -type f -delete
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/{doc,man,info,locale,lintian} "$rootfs"/tmp/* \
    "$rootfs"/usr/share/javascript/moment-timezone/data \
    "$rootfs"/etc/{hostname,resolv.conf}
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -c "CMD [\"bash\"]" - "$BASE"
  echo "base image built in $((SECONDS - start)) s"
fi

start=$SECONDS
# Alertmanager 0.28 (Debian 13's), into the stand-in's build context.
am=${ALERTMANAGER_DIR:-/opt/stackgen-ci/alertmanager}
bash ../alertmanager.sh "$am"
mkdir -p alertmanager/bin
cp "$am/alertmanager" "$am/amtool" alertmanager/bin/
# redis-minimal builds on redis: keep the order.
for svc in redis:7.0 redis-minimal:7.0 redis-exporter:1.45 prometheus:2.42 alertmanager:0.28; do
  docker build -q -t "stackgen-test/$svc" "${svc%%:*}"
done
echo "service images built in $((SECONDS - start)) s"
docker image ls 'stackgen-test/*'
