#!/usr/bin/env bash
# The one test command (README "Running the tests"): sets up what a fresh machine lacks, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (install Rust with rustup)" >&2
  exit 1
fi

# The HA tests (issue 5) run against a real ZooKeeper server: Debian's package (Java 17 is present).
if ! [ -f /usr/share/java/zookeeper.jar ]; then
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends zookeeper >/dev/null
fi

# The v1 HTTP API tests (issue 11) drive the cluster with a real outside client: pymesos 0.3.15 from
# PyPI, in a venv cached under the target dir (reinstalled only when missing).
PYMESOS_PYTHON="$(bash scripts/pymesos-venv.sh "$PWD/target/pymesos-venv")"
export PYMESOS_PYTHON

# Every crate's unit, integration and doc tests, plus a build of every bench/bin target so they cannot rot.
cargo build --workspace --all-targets --release --quiet
cargo test --workspace --release --no-fail-fast
