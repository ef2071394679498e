#!/usr/bin/env bash
# Benchmark: `stackgen drill failover`, five times on one managed Sentinel stack (a primary,
# two replicas, three Sentinels; the stand-in images, dev profile, Sentinel's default
# `down_after` of 5 s). Each drill writes for 10 s, kills the primary, follows Sentinel to the
# replica it promotes and leaves the new topology as it is; the next drill kills that one.
# Reports, per drill and as medians: the time to promotion, the time until writes succeed
# again, the writes acknowledged and the acknowledged writes lost. Needs a running engine and
# .ci/images/build.sh done.
cd "$(dirname "$0")/.."
source bench/lib.sh
cat >"$work/stack.toml" <<TOML
[stack]
name = "sgbenchfailover"
[redis]
image = "stackgen-test/redis:7.0"
port = 26479
password = { file = "secrets/redis_password.txt" }
replicas = 2
[redis.sentinel]
enabled = true
port = 26579
[redis_exporter]
image = "stackgen-test/redis-exporter:1.45"
port = 29221
scrape_interval = "5s"
[prometheus]
image = "stackgen-test/prometheus:2.42"
port = 29290
scrape_interval = "5s"
evaluation_interval = "5s"
retention_size = "1GiB"
[alertmanager]
image = "stackgen-test/alertmanager:0.28"
port = 29293
[grafana]
enabled = false
TOML
bench_password bench-failover-password
cd "$work"
"$bin" up -q -p dev
results=()
for i in $(seq "$rounds"); do
  json=$("$bin" drill failover --quick -p dev --format json)
  line=$(python3 -c 'import json,sys; s=json.load(sys.stdin)["scenarios"][0]; print(s["old_primary"], s["new_primary"], s["promotion_s"], s["writes_back_s"], s["acked"], s["lost"], s["lost_seconds_of_writes"], s["ok"])' <<<"$json")
  echo "drill $i: $line"
  results+=("$line")
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
col = lambda i: [float(r[i]) for r in rows]
print(f"median of {len(rows)}: promotion {statistics.median(col(2)):.2f} s, writes back "
      f"{statistics.median(col(3)):.2f} s, {statistics.median(col(4)):.0f} acked, "
      f"{statistics.median(col(5)):.0f} lost ({statistics.median(col(6)):.3f} s of writes)")'
