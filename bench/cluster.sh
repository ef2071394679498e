#!/usr/bin/env bash
# Benchmark: a 100-node Redis Cluster fleet (50 primaries, a replica each). The nodes are
# redis-server processes on this machine, bound to the stack network's gateway address (an
# address of this machine that the stack's containers reach); the stack runs the stand-in
# images (dev profile, no managed Redis) and monitors the cluster from one seed.
#   render: `stackgen render -q` of that stack.toml (hyperfine, 3 warm-up runs, 20 measured),
#           beside the render of the same stack with the 100 nodes listed by hand
#   up:     `stackgen up -q` on the running stack, ROUNDS times: it asks the seed for the
#           cluster's 100 nodes, writes them for Prometheus, and checks every one through the
#           exporter (the first, from the placeholder target to the cluster, reported apart)
# Needs a running engine, .ci/images/build.sh done, redis-server and redis-cli, hyperfine.
cd "$(dirname "$0")/.."
source bench/lib.sh
nodes=${NODES:-100}
bench_cleanup() {
  for pid in "$work"/node-*/pid; do [[ -f $pid ]] && kill "$(cat "$pid")" 2>/dev/null; done
  return 0
}
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
image = "stackgen-test/alertmanager:0.28"
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
    --cluster-announce-ip "$gateway" --protected-mode no --daemonize yes \
    --pidfile "$work/node-$i/pid" --logfile "$work/node-$i/log"
  addresses+=("$gateway:$port")
done
# The cluster, built the way `redis-cli --cluster create` builds it but in one step per node:
# the first half are primaries, each given an even share of the 16,384 slots and its own config
# epoch; every node meets the first; then each of the second half replicates a primary.
cli() { redis-cli -h "$gateway" -p "$1" "${@:2}"; }
primaries=$((nodes / 2))
for i in $(seq "$nodes"); do
  until cli $((30000 + i)) ping >/dev/null 2>&1; do sleep 0.1; done
  cli $((30000 + i)) cluster set-config-epoch "$i" >/dev/null
done
for i in $(seq "$primaries"); do
  cli $((30000 + i)) cluster addslotsrange $(((i - 1) * 16384 / primaries)) \
    $((i * 16384 / primaries - 1)) >/dev/null
done
for i in $(seq 2 "$nodes"); do cli $((30000 + i)) cluster meet "$gateway" 30001 >/dev/null; done
for i in $(seq "$nodes"); do
  until [[ $(cli $((30000 + i)) cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p') == "$nodes" ]]; do
    sleep 0.5
  done
done
for i in $(seq $((primaries + 1)) "$nodes"); do
  cli $((30000 + i)) cluster replicate "$(cli $((30000 + i - primaries)) cluster myid)" >/dev/null
done
until cli 30001 cluster info | grep -q cluster_state:ok &&
  [[ $(cli 30001 cluster nodes | grep -c slave) == $((nodes - primaries)) ]]; do
  sleep 0.5
done
python3 - "$gateway" <<'PY'
import sys, re
text = open("stack.toml").read()
text = text[: text.index("[[targets]]")]
text += f'[[targets]]\nname = "shop"\nkind = "cluster"\nseeds = ["redis://{sys.argv[1]}:30001"]\n'
open("stack.toml", "w").write(text)
PY
start=$(date +%s.%N)
"$bin" up -q -p dev
end=$(date +%s.%N)
python3 -c "print(f'first up, from the placeholder to the cluster: {$end - $start:.2f} s')"
echo "nodes found: $(python3 -c 'import json; print(len(json.load(open(".stackgen/dev/discovered/clusters.json"))))')"
for i in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "$bin" up -q -p dev
  end=$(date +%s.%N)
  python3 -c "print(f'up {$i}: {$end - $start:.2f} s')"
done
# Beside it, the peer a user has without `kind = "cluster"`: the same 100 nodes listed by hand
# as `[[targets]]` of a stack otherwise the same.
mkdir listed
python3 - <<'PY2'
import json
text = open("stack.toml").read()
text = text[: text.index("[[targets]]")]
for group in json.load(open(".stackgen/dev/discovered/clusters.json")):
    address = group["targets"][0]
    name = address.split("//")[1].replace(".", "-").replace(":", "-")
    text += f'[[targets]]\nname = "{name}"\naddress = "{address}"\n'
open("listed/stack.toml", "w").write(text)
PY2
"$bin" render -q -f listed/stack.toml
hyperfine -N --warmup 3 --runs 20 --prepare 'rm -rf generated listed/generated' \
  -n "cluster, 1 seed" "$bin render -q" -n "100 targets by hand" "$bin render -q -f listed/stack.toml"
