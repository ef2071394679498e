#!/usr/bin/env bash
# Alertmanager and amtool 0.28 from Debian 13's package, for the stand-in image and for lint's
# amtool on this machine: Debian 12's 0.25 predates a webhook's `url_file` (0.26), which the
# heartbeat receiver reads its URL from, as prom/alertmanager:v0.27.0 (the default image)
# does. The binaries need only the C library of Debian 12. The archive is the one this
# machine's apt installs Debian from (DEBIAN_MIRROR overrides it), read by apt itself; apt's
# own state is kept apart, in a private folder, so the machine's sources are left as they are.
#   .ci/alertmanager.sh DIR     puts alertmanager and amtool into DIR (kept if already there)
set -euo pipefail
dir=${1:?usage: .ci/alertmanager.sh DIR}
want=0.28.1
if [[ -x $dir/alertmanager && $("$dir/amtool" --version 2>&1) == *"version $want"* ]]; then
  exit 0
fi
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --no-release-info \
  --format '$(TARGET_OF) $(COMPONENT) $(REPO_URI)' 2>/dev/null |
  awk '$1 == "deb" && $2 == "main" && $3 ~ /^(https?|file):/ && $3 !~ /security/ {
    sub(/\/$/, "", $3); print $3; exit }' || true)}
[[ -n $mirror ]] || { echo "no Debian archive in this machine's apt sources: set DEBIAN_MIRROR" >&2; exit 1; }
state=$(mktemp -d /tmp/stackgen-apt.XXXXXX)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state"/{lists/partial,cache/archives/partial}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
  >"$state/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Debug::NoLocking=1
  -o APT::Sandbox::User=root)
apt-get "${apt_private[@]}" update -qq
(cd "$state" && apt-get "${apt_private[@]}" download -qq "prometheus-alertmanager=$want*")
dpkg-deb -x "$state"/prometheus-alertmanager_*.deb "$state/root"
mkdir -p "$dir"
install -m 0755 "$state/root/usr/bin/prometheus-alertmanager" "$dir/alertmanager"
install -m 0755 "$state/root/usr/bin/amtool" "$dir/amtool"
"$dir/amtool" --version 2>&1 | head -1
