#!/usr/bin/env bash
# Installs what `cargo bench` compares mcpscope with, idempotently: the official MCP inspector
# (for its --cli) and the Node 22 it needs, at the exact versions of benches/peers/package-lock.json.
# The test suite installs them too (a test compares --cli with the official one); without them the
# bench leaves the inspector's column out and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=benches/peers
lock_sum=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
stamp="$peers/node_modules/.mcpscope-stamp"
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; }; then
  echo "installing the bench peers (official inspector, Node 22)" >&2
  npm ci --prefix "$peers" --no-audit --no-fund >&2
  echo "$lock_sum" > "$stamp"
fi
