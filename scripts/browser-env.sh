#!/usr/bin/env bash
# Installs what the web UI's browser tests need and prints the venv's python:
# Debian's headless chromium and chromium-driver (when missing) and selenium 4.51.0 from PyPI in
# a cached venv. Usage: scripts/browser-env.sh [VENV_DIR] (default target/selenium-venv).
# selenium is pinned: 4.53 needs a certifi newer than the index offers (see WEBUI.md §11).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-target/selenium-venv}"
python="$venv/bin/python"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2 \
    || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2; }
fi
if [ -x "$python" ] && "$python" -c 'import selenium; assert selenium.__version__ == "4.51.0"' 2>/dev/null; then
  echo "$python"
  exit 0
fi
command -v python3 >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq python3 python3-venv >&2; }
rm -rf "$venv"
python3 -m venv "$venv" >&2 || { apt-get update -qq >&2 && apt-get install -y -qq python3-venv >&2 && python3 -m venv "$venv" >&2; }
"$python" -m pip install -q --disable-pip-version-check selenium==4.51.0 >&2
"$python" -c 'import selenium' >&2
echo "$python"
