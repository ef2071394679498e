#!/usr/bin/env bash
# Benchmark: `stackgen drill baseline` against redis-benchmark, side by side in one run, on the
# same Redis (a stack of the stand-in images, dev profile), with the same clients, pipeline and
# value size: 50 connections, 16 commands per pipeline, 256-byte values, SET and GET.
#   drill:           `stackgen drill baseline --duration 10s` (half SET, half GET, alternating)
#   redis-benchmark: `redis-benchmark -c 50 -P 16 -d 256 -r 50000 -t set,get -n N`: SET then GET,
#                    each N requests over the same number of keys the drill writes (50
#                    connections × 1000); its ops/s is N SETs and N GETs over the time both took
#                    (the harmonic mean of the two rates), N sized for about 10 s
# Rounds alternate (drill, redis-benchmark, drill, …); medians reported. Needs a running engine,
# .ci/images/build.sh done, redis-tools. Target: drill ≥ 0.9× redis-benchmark's ops/s.
cd "$(dirname "$0")/.."
source bench/lib.sh
cat >"$work/stack.toml" <<TOML
[stack]
name = "sgbenchdrill"
[redis]
image = "stackgen-test/redis:7.0"
port = 26479
password = { file = "secrets/redis_password.txt" }
[redis_exporter]
image = "stackgen-test/redis-exporter:1.45"
port = 29221
scrape_interval = "5s"
[prometheus]
image = "stackgen-test/prometheus:2.42"
port = 29290
scrape_interval = "5s"
retention_size = "1GiB"
[alertmanager]
image = "stackgen-test/alertmanager:0.28"
port = 29293
[grafana]
enabled = false
TOML
bench_password "bench-$RANDOM$RANDOM"
cd "$work"
"$bin" up -q -p dev
export REDISCLI_AUTH
REDISCLI_AUTH=$(cat secrets/redis_password.txt)
drill=() bench=()
sleep 11
for round in $(seq "$rounds"); do
  ops=$("$bin" drill baseline -q -p dev --duration 10s --clients 50 --pipeline 16 \
    --value-size 256 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["scenarios"][0]["ops_per_sec"])')
  drill+=("$ops")
  n=$(python3 -c "print(int($ops * 5))")
  rates=$(redis-benchmark -h 127.0.0.1 -p 26479 -a "$REDISCLI_AUTH" -c 50 -P 16 -d 256 -r 50000 -t set,get -n "$n" --csv \
    | python3 -c 'import csv,sys; r=[float(row[1]) for row in csv.reader(sys.stdin) if row and row[0] in ("SET","GET")]; print(len(r)/sum(1/x for x in r))')
  bench+=("$rates")
  redis-cli -p 26479 --no-auth-warning flushall >/dev/null
  # Prometheus counts every command Redis processes: let a scrape pass between the two tools.
  sleep 11
  echo "round $round: drill $ops ops/s, redis-benchmark $rates ops/s"
done
python3 - "${drill[*]}" "${bench[*]}" <<'PY'
import statistics, sys
drill = [float(x) for x in sys.argv[1].split()]
bench = [float(x) for x in sys.argv[2].split()]
d, b = statistics.median(drill), statistics.median(bench)
print(f"median: drill {d:.0f} ops/s, redis-benchmark {b:.0f} ops/s, ratio {d/b:.2f}")
PY
