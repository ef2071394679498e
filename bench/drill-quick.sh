#!/usr/bin/env bash
# Benchmark: `stackgen drill --quick alerts` on the example stack.toml as shipped (its scrape and
# evaluation intervals, the starter's Alertmanager timings: group_wait 30s, group_interval 5m),
# with the stand-in images, Grafana off (no image of it here) and ports of its own. Slack and the
# heartbeat post to a webhook container of the bench's on the stack's network. Each round is
# timed whole (the command, from start to exit) and must report every inducible alert induced,
# fired, delivered and resolved; ROUNDS rounds (3 by default), back to back; the median is
# reported. Needs a running engine and .ci/images/build.sh done. Target: median ≤ 5 min.
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
source bench/lib.sh
python3 - stack.toml "$work/stack.toml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
images = {
    "redis:7.2": "stackgen-test/redis:7.0",
    "oliver006/redis_exporter:v1.62.0": "stackgen-test/redis-exporter:1.45",
    "prom/prometheus:v2.53.0": "stackgen-test/prometheus:2.42",
    "prom/alertmanager:v0.27.0": "stackgen-test/alertmanager:0.28",
}
for official, stand_in in images.items():
    assert f'"{official}"' in text, official
    text = text.replace(f'"{official}"', f'"{stand_in}"')
text = text.replace('name = "bluesky"', 'name = "sgbenchquick"')
for port, own in [(6379, 26579), (9121, 29521), (9090, 29590), (9093, 29593), (3000, 23500)]:
    text = re.sub(rf"^port = {port}\b", f"port = {own}", text, count=1, flags=re.M)
text = text.replace("[grafana]\nenabled = true", "[grafana]\nenabled = false")
open(sys.argv[2], "w").write(text)
PY
bench_password "bench-$RANDOM$RANDOM"
printf 'admin-%s\n' "$RANDOM$RANDOM" >"$work/secrets/grafana_admin_password.txt"
chmod 600 "$work/secrets/grafana_admin_password.txt"
export SLACK_WEBHOOK_URL=http://webhook:8080/slack HEARTBEAT_URL=http://webhook:8080/beat
bench_cleanup() { docker rm -f sgbenchquick-webhook >/dev/null 2>&1; }
cd "$work"
"$bin" up -q -p dev
# The receiver: answers every POST with 200, and logs its request line.
docker run -d --name sgbenchquick-webhook --network sgbenchquick_default --network-alias webhook \
  stackgen-test/base:bookworm perl -e 'use IO::Socket::INET; $|=1; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 10, ReuseAddr => 1) or die; while (my $c = $s->accept) { my $len = 0; my $r = <$c>; print $r; while (defined(my $l = <$c>)) { $len = $1 if $l =~ /^Content-Length:\s*(\d+)/i; last if $l =~ /^\r?\n$/ } my $b = ""; read($c, $b, $len) if $len; print $c "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"; close $c }' >/dev/null
times=()
for round in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "$bin" drill --quick alerts -p dev --format json >"$work/report-$round.json" \
    2>"$work/progress-$round.log" || cat "$work/progress-$round.log"
  seconds=$(python3 -c "import time; print(round(time.time() - $start, 1))")
  python3 - "$work/report-$round.json" "$round" "$seconds" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
alerts = report["scenarios"][0]["alerts"]
induced = [a for a in alerts if a["induced"]]
proven = [a for a in induced if a["fired"] and a["delivered"] is not False and a["resolved"]]
print(f"round {sys.argv[2]}: {sys.argv[3]} s, {len(proven)} of {len(induced)} inducible alerts "
      f"induced, fired, delivered and resolved; ok: {report['ok']}")
for a in induced:
    print(f"  {a['alert']}: fired in {a['seconds_to_fire']} s, delivered {a['delivered']}, "
          f"resolved in {a['seconds_to_resolve']} s" + (f", error: {a['error']}" if a["error"] else ""))
assert report["ok"], "the drill failed"
PY
  times+=("$seconds")
done
python3 - "${times[*]}" <<'PY'
import statistics, sys
times = [float(t) for t in sys.argv[1].split()]
print(f"drill --quick alerts: median {statistics.median(times):.1f} s of {len(times)} rounds "
      f"({', '.join(f'{t:.1f}' for t in times)}); target ≤ 300 s")
PY
