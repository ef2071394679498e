#!/usr/bin/env bash
# Smoke test for the stand-in images built by .ci/images/build.sh: starts each one
# the way the stack does and checks that it answers. Removes what it started.
set -euo pipefail

NET=stackgen-smoke
PW=smoke-secret
NAMES=(smoke-redis smoke-redis-noconf smoke-exporter smoke-prometheus smoke-alertmanager)
tmp=$(mktemp -d)
cleanup() {
  docker rm -f "${NAMES[@]}" >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap 'cleanup; rm -rf "$tmp"' EXIT
cleanup

# check SECONDS WHAT CMD...: retry CMD once a second until it succeeds.
check() {
  local n=$1 what=$2; shift 2
  for _ in $(seq "$n"); do
    if "$@" >/dev/null 2>&1; then echo "ok: $what"; return; fi
    sleep 1
  done
  echo "FAIL: $what" >&2
  for c in $(docker ps -a --format "{{.Names}}" --filter "network=$NET"); do
    docker logs --tail 10 "$c" 2>&1 | sed "s/^/$c: /" >&2
  done
  exit 1
}
run() { docker run -d --network "$NET" --name "$@" >/dev/null; }
dx() { docker exec "$@"; }

docker network create "$NET" >/dev/null

# redis with a config file and a password, mounted the way the stack does it.
printf 'requirepass %s\nappendonly yes\n' "$PW" >"$tmp/redis.conf"
printf '{"redis://smoke-redis:6379":"%s"}\n' "$PW" >"$tmp/redis-pw.json"
chmod 644 "$tmp"/*
run smoke-redis -v "$tmp/redis.conf:/usr/local/etc/redis/redis.conf:ro" \
  stackgen-test/redis:7.0 redis-server /usr/local/etc/redis/redis.conf
ping_pw() { [[ $(dx smoke-redis redis-cli -a "$PW" --no-auth-warning ping) == PONG ]]; }
ping_nopw() { dx smoke-redis redis-cli ping | grep -q NOAUTH; }
runs_as_redis() { dx smoke-redis grep -Eq '^Uid:\s+999\s' /proc/1/status; }
check 20 "redis: ping with password -> PONG" ping_pw
check 1 "redis: ping without password -> NOAUTH" ping_nopw
check 1 "redis: redis-server runs as uid 999 (redis)" runs_as_redis

# redis with the default CMD: like upstream (protected-mode built off), it is
# reachable from another container without a password.
run smoke-redis-noconf stackgen-test/redis:7.0
ping_other() { [[ $(dx smoke-redis redis-cli -h smoke-redis-noconf ping) == PONG ]]; }
check 20 "redis: default CMD answers another container" ping_other

# redis_exporter with the JSON password file.
run smoke-exporter -v "$tmp/redis-pw.json:/redis-pw.json:ro" stackgen-test/redis-exporter:1.45 \
  -redis.addr=redis://smoke-redis:6379 -redis.password-file=/redis-pw.json
redis_up() { dx smoke-exporter wget -qO- http://localhost:9121/metrics | grep -qx 'redis_up 1'; }
check 20 "redis_exporter: redis_up 1" redis_up

# prometheus and alertmanager with their default configs.
run smoke-prometheus stackgen-test/prometheus:2.42
run smoke-alertmanager stackgen-test/alertmanager:0.28
check 30 "prometheus: /-/healthy" dx smoke-prometheus wget -qO- http://localhost:9090/-/healthy
check 1 "prometheus: promtool check config" \
  dx smoke-prometheus promtool check config /etc/prometheus/prometheus.yml
check 30 "alertmanager: /-/ready" dx smoke-alertmanager wget -qO- http://localhost:9093/-/ready
check 1 "alertmanager: amtool check-config" \
  dx smoke-alertmanager amtool check-config /etc/alertmanager/alertmanager.yml
echo "all stand-in images work"
