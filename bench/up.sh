#!/usr/bin/env bash
# Benchmark: `stackgen up` against docker-compose 1.29 on the same generated compose.yaml, in
# one run, on a real engine with the stand-in images (Grafana disabled: no image of it here).
#   cold:  from a clean engine (no container, network or volume of the project) to every
#          service healthy; for docker-compose, `up -d` then polling until the containers with a
#          healthcheck are healthy and the exporter answers /metrics, which is what up waits for.
#   no-op: a second `stackgen up` with nothing to change.
# docker-compose 1.29 refuses the compose file's top-level `name:` (newer than its format), so
# it gets the same file without that one line and `-p <name>` instead.
# Needs: a running engine, .ci/images/build.sh done, and docker-compose
# (apt-get install docker-compose).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
project=sgbench
trap '(cd "$work" && "$bin" down --volumes -q -p prod) || true; rm -rf "$work"' EXIT
mkdir -p "$work/secrets"
cat >"$work/stack.toml" <<TOML
[stack]
name = "$project"
[redis]
image = "stackgen-test/redis:7.0"
port = 26379
password = { file = "secrets/redis_password.txt" }
[redis_exporter]
image = "stackgen-test/redis-exporter:1.45"
port = 29121
[prometheus]
image = "stackgen-test/prometheus:2.42"
port = 29090
retention_size = "1GiB"
[alertmanager]
image = "stackgen-test/alertmanager:0.25"
port = 29093
[alertmanager.slack]
webhook_url = { file = "secrets/slack_webhook_url" }
[grafana]
enabled = false
TOML
echo "bench-password" >"$work/secrets/redis_password.txt"
echo "http://webhook.invalid/slack" >"$work/secrets/slack_webhook_url"
chmod 644 "$work"/secrets/*
cd "$work"
"$bin" render -q -p prod
sed '/^name:/d' generated/prod/compose.yaml >generated/prod/compose.v1.yaml

clean() {
  "$bin" down --volumes -q -p prod
  docker-compose -p "$project" -f generated/prod/compose.v1.yaml down -v --remove-orphans >/dev/null 2>&1 || true
}
now() { date +%s.%N; }
healthy() {
  local ids
  ids=$(docker ps -q --filter "label=io.stackgen.project=$project")
  [[ $(wc -l <<<"$ids") -eq 4 ]] || return 1
  for id in $ids; do
    status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
    [[ $status == healthy || $status == none ]] || return 1
  done
  wget -q -O /dev/null http://127.0.0.1:29121/metrics
}

declare -a cold_sg cold_dc noop_sg
for i in $(seq "$runs"); do
  clean
  t0=$(now); "$bin" up -q -p prod; t1=$(now)
  cold_sg+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); "$bin" up -q -p prod; t1=$(now)
  noop_sg+=("$(echo "$t1 - $t0" | bc)")
  clean
  t0=$(now)
  docker-compose -p "$project" -f generated/prod/compose.v1.yaml up -d >/dev/null 2>&1
  until healthy; do sleep 0.1; done
  t1=$(now)
  cold_dc+=("$(echo "$t1 - $t0" | bc)")
done
clean
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
echo "runs: $runs"
echo "cold stackgen up:                       median $(median "${cold_sg[@]}") s  (${cold_sg[*]})"
echo "cold docker-compose 1.29 up -d + health: median $(median "${cold_dc[@]}") s  (${cold_dc[*]})"
echo "no-op stackgen up:                      median $(median "${noop_sg[@]}") s  (${noop_sg[*]})"
