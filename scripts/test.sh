#!/usr/bin/env bash
# The one test command (README "Running the tests"): sets up what a fresh machine lacks, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (install Rust with rustup)" >&2
  exit 1
fi

# Every crate's unit, integration and doc tests, plus a build of every bench/bin target so they cannot rot.
cargo build --workspace --all-targets --release --quiet
cargo test --workspace --release
