#!/bin/bash
# Measures every row of the performance table (issue 15) in one run and prints the benches' key=value
# lines, each prefixed with its row. Usage: bash scripts/bench-table.sh [--rounds N] [--quick]
# Binaries come from target/release (built with `cargo build --release --workspace`); the runs are not
# niced, so run it on a quiet machine. Each bench prints medians of its own rounds; the peers (actix,
# raw TCP) are measured inside actor-bench in the same run.
set -u
cd "$(dirname "$0")/.."
rounds=3
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "bench-table: unknown flag '$1'" >&2; exit 1 ;;
  esac
done
bin=target/release
for b in actor-bench allocator-bench failover-bench launch-bench macro-bench scale-bench; do
  [ -x "$bin/$b" ] || { echo "bench-table: $bin/$b is missing: cargo build --release --workspace" >&2; exit 1; }
done
row() { # row <name> <command...>: every stdout line of the command, prefixed with the row's name
  local name="$1"; shift
  echo "# $name: $*" >&2
  "$@" 2>/dev/null | sed "s/^/row=$name /"
}
echo "date=$(date -u +%FT%TZ) load=$(cut -d' ' -f1 /proc/loadavg) rounds=$rounds quick=$quick"
if [ "$quick" = 1 ]; then
  row runtime "$bin/actor-bench" --quick --runs "$rounds"
  row allocator "$bin/allocator-bench" --quick
  row failover "$bin/failover-bench" --agents 2000 --tasks_per_agent 10 --session 10secs
  row launch "$bin/launch-bench" --tasks 100
  row overhead "$bin/macro-bench" --quick --experiments overhead
  row scale "$bin/scale-bench" --agents 1000,5000 --warmup 1secs --window 3secs
  exit 0
fi
row runtime "$bin/actor-bench" --runs "$rounds"
row allocator "$bin/allocator-bench" --agents 100000 --frameworks 1000 --runs "$rounds"
for i in $(seq "$rounds"); do
  row failover "$bin/failover-bench" --agents 40000 --tasks_per_agent 10 --session 10secs
done
row failover_2s "$bin/failover-bench" --agents 40000 --tasks_per_agent 10 --session 2secs
for i in $(seq "$rounds"); do row launch "$bin/launch-bench" --tasks 1000; done
row overhead "$bin/macro-bench" --experiments overhead
row scale "$bin/scale-bench" --agents 1000,10000,50000,100000
echo "end=$(date -u +%FT%TZ) load=$(cut -d' ' -f1 /proc/loadavg)"
