#!/usr/bin/env bash
# Benchmark: `stackgen render` of a fleet, as a whole process, at 0, 250, 500 and 1,000
# `[[targets]]` (the example stack.toml plus N targets, each with a password, three labels,
# and two routes). Each run renders, validates and writes both profiles from an empty
# generated/ (hyperfine --prepare 'rm -rf generated'). Reports per size the median time, the
# output size and the peak memory (max RSS), the per-target cost (least squares over the
# sizes), and what `promtool check config` and `promtool test rules` say of the 1,000-target
# tree. With SLOS=1 the stack also has three [[slo]] (availability, errors and latency, per
# target), and promtool runs their tests too. Needs hyperfine and promtool (apt-get install
# hyperfine prometheus). Target: 1,000 targets under 100 ms median, with or without SLOs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-30}
slos=${SLOS:-0}
results=()
for n in 0 250 500 1000; do
  dir="$work/fleet-$n"
  mkdir -p "$dir"
  cp stack.toml "$dir/"
  python3 - "$dir/stack.toml" "$n" "$slos" <<'PY'
import sys
path, n, slos = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if slos:
    with open(path, "a") as f:
        f.write('''
[[slo]]
name = "buffer-availability"
objective = 99.9
sli = "availability"

[[slo]]
name = "buffer-errors"
objective = 99.5
sli = "errors"

[[slo]]
name = "buffer-latency"
objective = 99
sli = "latency"
latency_threshold = "2ms"
''')
regions = ["eu", "us", "ap"]
with open(path, "a") as f:
    for i in range(n):
        env = "prod" if i % 2 == 0 else "staging"
        f.write(f'''
[[targets]]
name = "buffer-{i:04}"
address = "rediss://buffer-{i:04}.redis.internal:6379"
username = "monitor"
password = {{ env = "BUFFER_{i:04}_PASSWORD" }}
labels = {{ env = "{env}", region = "{regions[i % 3]}", role = "buffer" }}
''')
    if n:
        f.write('''
[[alertmanager.routes]]
match = { env = "prod" }
channel = "#prod-redis"

[[alertmanager.routes]]
match = { env = "staging" }
channel = "#staging-redis"
''')
PY
  (cd "$dir" && hyperfine --warmup 3 --runs "$runs" --export-json "$dir/time.json" \
    --prepare 'rm -rf generated' "$bin render -q" >/dev/null 2>&1)
  rss=$(cd "$dir" && rm -rf generated && /usr/bin/time -f %M "$bin" render -q 2>&1 >/dev/null | tail -1)
  bytes=$(du -sb "$dir/generated" | cut -f1)
  results+=("$n $(python3 -c "import json;print(json.load(open('$dir/time.json'))['results'][0]['median'])") $bytes $rss")
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
print("%8s %10s %12s %10s" % ("targets", "median", "output", "max RSS"))
for n, t, b, rss in rows:
    print(f"{int(n):>8} {t*1000:>8.1f} ms {b/1024:>9.0f} KiB {rss/1024:>7.1f} MiB")
xs = [r[0] for r in rows]
mean_x = sum(xs) / len(xs)
def slope(ys):
    mean_y = sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
print(f"per target: {slope([r[1] for r in rows])*1e6:.1f} µs, {slope([r[2] for r in rows]):.0f} bytes, {slope([r[3] for r in rows]):.1f} KiB max RSS")
'
tree="$work/fleet-1000/generated"
for profile in dev prod; do
  echo "promtool, 1,000 targets, $profile:"
  promtool check config "$tree/$profile/prometheus/prometheus.yml" 2>&1 | sed 's/^/  /'
  promtool check rules "$tree/$profile/prometheus/rules/redis-alerts.yml" 2>&1 | sed 's/^/  /'
  promtool test rules "$tree/$profile/prometheus/rules/redis-alerts.test.yml" 2>&1 | sed 's/^/  /'
  promtool test rules "$tree/$profile/prometheus/rules/slo.test.yml" 2>&1 | sed 's/^/  /'
done
