#!/usr/bin/env bash
# Benchmark: a 100-node Redis Cluster fleet (50 primaries, a replica each). The nodes are
# redis-server processes on this machine, bound to the stack network's gateway address (an
# address of this machine that the stack's containers reach); the stack runs the stand-in
# images (dev profile, no managed Redis) and monitors the cluster from one seed.
#   render: `stackgen render -q` of that stack.toml (hyperfine, 3 warm-up runs, 20 measured)
#   up:     `stackgen up -q` on the running stack, ROUNDS times: it asks the seed for the
#           cluster's 100 nodes, writes them for Prometheus, and checks every one through the
#           exporter
# Needs a running engine, .ci/images/build.sh done, redis-server and redis-cli, hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
nodes=${NODES:-100}
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
cleanup() {
  for pid in "$work"/node-*/pid; do [[ -f $pid ]] && kill "$(cat "$pid")" 2>/dev/null || true; done
  (cd "$work" && "$bin" down --volumes -q -p dev) || true
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/stack.toml" <<TOML
[stack]
name = "sgbenchcluster"
[redis]
enabled = false
[redis_exporter]
image = "stackgen-test/redis-exporter:1.45"
port = 29321
scrape_interval = "10s"
[prometheus]
image = "stackgen-test/prometheus:2.42"
port = 29390
retention_size = "1GiB"
[alertmanager]
image = "stackgen-test/alertmanager:0.25"
port = 29393
[grafana]
enabled = false
[[targets]]
name = "placeholder"
address = "redis://placeholder:6379"
TOML
cd "$work"
# The network first, to learn its gateway; the placeholder target is down, so this exits 1.
"$bin" up -q -p dev >/dev/null 2>&1 || true
gateway=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' sgbenchcluster_default)
addresses=()
for i in $(seq "$nodes"); do
  port=$((30000 + i))
  mkdir -p "node-$i"
  redis-server --bind "$gateway" --port "$port" --cluster-enabled yes --cluster-config-file \
    "$work/node-$i/nodes.conf" --dir "$work/node-$i" --save '' --appendonly no \
    --protected-mode no --daemonize yes --pidfile "$work/node-$i/pid" --logfile "$work/node-$i/log"
  addresses+=("$gateway:$port")
done
sleep 1
redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
until redis-cli -h "$gateway" -p 30001 cluster info | grep -q cluster_state:ok; do sleep 0.5; done
python3 - "$gateway" <<'PY'
import sys, re
text = open("stack.toml").read()
text = text[: text.index("[[targets]]")]
text += f'[[targets]]\nname = "shop"\nkind = "cluster"\nseeds = ["redis://{sys.argv[1]}:30001"]\n'
open("stack.toml", "w").write(text)
PY
"$bin" up -q -p dev
echo "nodes found: $(python3 -c 'import json; print(len(json.load(open(".stackgen/dev/discovered/clusters.json"))))')"
hyperfine -N --warmup 3 --runs 20 --prepare 'rm -rf generated' "$bin render -q"
for i in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "$bin" up -q -p dev
  end=$(date +%s.%N)
  python3 -c "print(f'up {$i}: {$end - $start:.2f} s')"
done
