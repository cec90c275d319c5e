#!/usr/bin/env bash
# `make bench`: datasets of three sizes on PostgreSQL, gunicorn, wrk; writes bench/RESULTS.md.
# Not part of `make test`. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)
# and Redis on 127.0.0.1:6379; starts them if they are installed but not running.
# Environment: BENCH_SIZES=10k,100k,1m  BENCH_SCALE=1 (request counts)  BENCH_REBUILD=1
#              BENCH_PROFILE=<endpoint key> (pyinstrument profile into bench/out/)
#              BENCH_DB_PREFIX=dp_bench (database names)  BENCH_REDIS_URL=redis://.../5
#   A part of the run, e.g. some routes against the floor at 10k only (its report goes to
#   bench/out/RESULTS.md; bench/RESULTS.md keeps the full run):
#              BENCH_ENDPOINTS=key1,key2 (these ENDPOINTS rows of bench/bench.py, and the floor)
#              BENCH_COMPANIONS= (none of write/slot/mix/peer_bench; or a list of them)
#              BENCH_EXTRAS=0 (not the weekly-hours and reschedule benches)
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
