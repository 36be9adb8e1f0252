#!/usr/bin/env bash
# Installs the real peers the test suite drives, idempotently: the npm MCP servers (exact
# versions from tests/peers/package-lock.json, with the conformance suite and the Node 22 it
# needs), the Python SDK 1.x in tests/peers/.venv (pinned in tests/peers/requirements.txt) and
# 2.x in tests/peers/.venv2 (requirements-sdk2.txt), Debian's chromium + chromium-driver for the browser tests,
# and the official inspector (the bench peers), whose --cli the one-shot is compared with.
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

# A virtual environment at $1 holding exactly the pins of $2, rebuilt when the pins change.
venv() {
  local sum
  sum=$(sha256sum "$2" | cut -d' ' -f1)
  if ! stamp_ok "$1/.mcpscope-stamp" "$sum"; then
    echo "installing $3" >&2
    python3 -m venv "$1"
    "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2" >&2
    echo "$sum" > "$1/.mcpscope-stamp"
  fi
}
scripts/install-bench-peers.sh

venv "$peers/.venv" "$peers/requirements.txt" "the Python SDK 1.x test peer and uv"
venv "$peers/.venv2" "$peers/requirements-sdk2.txt" "the Python SDK 2.x test peer"

if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  echo "installing Debian chromium and chromium-driver" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq >&2
  $sudo_cmd apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >&2
fi
