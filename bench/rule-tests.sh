#!/usr/bin/env bash
# Benchmark: `promtool test rules` on the generated rule tests when every alert of the example
# stack.toml has the same `for`, from the starter's own to 292 years: the tests' evaluations and
# promtool's time and peak memory must stay bounded whatever the `for` (the shorter proof of
# src/render/rules.rs). Needs promtool (apt-get install prometheus) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
keys=$("$bin" schema | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["definitions"]["AlertsTable"]["properties"].keys() - {"runbook_base_url"})))' 2>/dev/null || true)
printf '| for | evaluation_interval | user CPU | wall | max RSS |\n|---|---|---|---|---|\n'
for for in example 1h 1d 30d 1y 10y 292y; do
  dir="$work/$for"
  mkdir -p "$dir/secrets"
  if [[ $for == example ]]; then
    cp stack.toml "$dir/"
  else
    sed '/^\[alerts\./,$d' stack.toml >"$dir/stack.toml"
    for key in $keys; do printf '[alerts.%s]\nfor = "%s"\n' "$key" "$for" >>"$dir/stack.toml"; done
  fi
  (cd "$dir" && "$bin" render -q -p dev)
  rules="$dir/generated/dev/prometheus/rules"
  step=$(sed -n 's/^evaluation_interval: *"*\([^"]*\)"*/\1/p' "$rules/redis-alerts.test.yml")
  stats=$( { cd "$rules" && /usr/bin/time -f '%U %e %M' promtool test rules redis-alerts.test.yml >/dev/null; } 2>&1 | tail -1)
  read -r user wall rss <<<"$stats"
  printf '| %s | %s | %s s | %s s | %s MiB |\n' "$for" "$step" "$user" "$wall" "$((rss / 1024))"
done
