#!/usr/bin/env bash
# Installs pymesos 0.3.15 (a real outside client of the v1 HTTP APIs), and the Marathon and Chronos
# clients marathon 0.13.0 and chronos-python 1.2.1 (run against service-framework and
# cron-framework), into a cached venv and prints the venv's python.
# Usage: scripts/pymesos-venv.sh [VENV_DIR] (default target/pymesos-venv).
# pymesos' dependency http-parser 0.9.0 ships only as source whose C extension does not build on
# Python 3.11+: its pure-Python package is copied in instead (see MESOS-V1-API.md §4).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-target/pymesos-venv}"
python="$venv/bin/python"
if [ -x "$python" ] && "$python" -c 'import pymesos, pymesos.process, addict, six, marathon, chronos' 2>/dev/null; then
  echo "$python"
  exit 0
fi
command -v python3 >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq python3 python3-venv >/dev/null; }
rm -rf "$venv"
python3 -m venv "$venv" >&2 || { apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv" >&2; }
"$python" -m pip install -q --disable-pip-version-check --no-deps pymesos==0.3.15 >&2
"$python" -m pip install -q --disable-pip-version-check six addict kazoo >&2
"$python" -m pip install -q --disable-pip-version-check marathon==0.13.0 chronos-python==1.2.1 >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: http-parser==0.9.0 -d "$work" >&2
tar -xzf "$work"/http-parser-0.9.0.tar.gz -C "$work"
site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp -r "$work"/http-parser-0.9.0/http_parser "$site"/
"$python" -c 'import pymesos, pymesos.process, marathon, chronos' >&2
echo "$python"
