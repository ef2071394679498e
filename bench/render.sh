#!/usr/bin/env bash
# Benchmark: `stackgen render` of the example project as a whole process, median of many runs.
#   cold: generated/ removed before each run, so every file is rendered, validated and written
#   no-op: generated/ is current, so everything is rendered and validated and nothing written
# Needs hyperfine (apt-get install hyperfine). Target: cold under 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp stack.toml "$work/"
cd "$work"
hyperfine --warmup 5 --runs 50 --export-json "$work/cold.json" \
  --prepare 'rm -rf generated' "$bin render -q" >/dev/null
"$bin" render -q
hyperfine --warmup 5 --runs 50 --export-json "$work/noop.json" "$bin render -q" >/dev/null
for case in cold noop; do
  python3 - "$work/$case.json" "$case" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{sys.argv[2]:>5}: median {r['median']*1000:.1f} ms, mean {r['mean']*1000:.1f} ms ± {r['stddev']*1000:.1f}, min {r['min']*1000:.1f} ms ({len(r['times'])} runs)")
PY
done
