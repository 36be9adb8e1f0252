#!/usr/bin/env bash
# Installs the real peers the test suite drives, idempotently: the npm MCP servers (exact
# versions from tests/peers/package-lock.json), the Python SDK in tests/peers/.venv (pinned in
# tests/peers/requirements.txt), and Debian's chromium + chromium-driver for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=tests/peers

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

lock_sum=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
if ! stamp_ok "$peers/node_modules/.mcpscope-stamp" "$lock_sum"; then
  echo "installing npm test peers" >&2
  npm ci --prefix "$peers" --no-audit --no-fund >&2
  echo "$lock_sum" > "$peers/node_modules/.mcpscope-stamp"
fi

req_sum=$(sha256sum "$peers/requirements.txt" | cut -d' ' -f1)
if ! stamp_ok "$peers/.venv/.mcpscope-stamp" "$req_sum"; then
  echo "installing the Python SDK test peer" >&2
  python3 -m venv "$peers/.venv"
  "$peers/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$peers/requirements.txt" >&2
  echo "$req_sum" > "$peers/.venv/.mcpscope-stamp"
fi

if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  echo "installing Debian chromium and chromium-driver" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq >&2
  $sudo_cmd apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >&2
fi
