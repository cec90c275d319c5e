#!/usr/bin/env bash
# `make bench`: datasets of three sizes on PostgreSQL, gunicorn, wrk; writes bench/RESULTS.md.
# Not part of `make test`. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)
# and Redis on 127.0.0.1:6379; starts them if they are installed but not running.
# Environment: BENCH_SIZES=10k,100k,1m  BENCH_SCALE=1 (request counts)  BENCH_REBUILD=1
#              BENCH_PROFILE=<endpoint key> (pyinstrument profile into bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing Debian's wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "bench: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

exec .venv/bin/python bench/bench.py run "$@"
