#!/usr/bin/env bash
# The main command (README "Quick start"): build, start an in-process cluster (mesos-local: one master and
# three agents), run the example frameworks on it, show their tasks finishing and the cluster's state.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-5050}"
TASKS="${TASKS:-12}"
MASTER="127.0.0.1:${PORT}"

echo "==> building (release)"
cargo build --release --quiet -p mesos-local -p agent -p mesos-examples --bins
BIN="${CARGO_TARGET_DIR:-target}/release"

WORK_DIR="$(mktemp -d -t mesos-demo.XXXXXX)"
"$BIN/mesos-local" --num_agents 3 --port "$PORT" --work_dir "$WORK_DIR" \
  --resources "cpus:2;mem:2048;disk:10000;ports:[31000-32000]" >"$WORK_DIR/mesos-local.log" 2>&1 &
LOCAL_PID=$!
cleanup() {
  kill "$LOCAL_PID" 2>/dev/null || true
  wait "$LOCAL_PID" 2>/dev/null || true
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

# Wait until the master answers HTTP (bash's /dev/tcp: no curl needed).
http_get() {
  exec 3<>"/dev/tcp/127.0.0.1/${PORT}" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}
for _ in $(seq 1 100); do
  if http_get /health >/dev/null 2>&1; then break; fi
  if ! kill -0 "$LOCAL_PID" 2>/dev/null; then cat "$WORK_DIR/mesos-local.log"; exit 1; fi
  sleep 0.1
done
echo "==> mesos-local is up: master at $MASTER, state at http://$MASTER/master/state"

echo "==> shell-framework: $TASKS command tasks (real child processes under the command executor)"
"$BIN/shell-framework" --master "$MASTER" --num_tasks "$TASKS" --command 'echo "hello from $(hostname) pid $$"; sleep 0.2'

echo "==> test-framework: $TASKS tasks on a custom Rust executor"
"$BIN/test-framework" --master "$MASTER" --num_tasks "$TASKS"

echo "==> /metrics/snapshot (excerpt)"
http_get /metrics/snapshot | tr ',' '\n' | grep -E '"master/(slaves_active|frameworks_active|tasks_finished|tasks_failed|cpus_total|mem_total)"' || true
echo
# A task object's own state is followed by its statuses (keys are sorted), unlike the states inside them.
FINISHED=$(http_get /master/state | grep -o '"state":"TASK_FINISHED","statuses"' | wc -l)
echo "==> /master/state: $FINISHED tasks TASK_FINISHED (under completed_frameworks[].completed_tasks)"
echo "==> done: every task finished. (While a cluster runs, see http://$MASTER/master/state)"
