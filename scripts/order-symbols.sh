#!/usr/bin/env bash
# Writes build/symbol-order.txt: the functions a release mcpscope runs from start to an idle
# session (server-everything connected, its tools listed, one call), in the order callgrind
# first sees them. build.rs links the release binary with them placed together. `cargo build
# --release` and `cargo bench` name the same functions differently (each profile's own hashes),
# so both builds are traced and the file holds both names. Run it again when the start-up path
# has changed much (a name that no longer exists is passed over).
# Needs valgrind and the test peers (scripts/install-test-peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
everything=tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js
names=$(mktemp)

trace() {
  local bin=$1 out port pid
  out=$(mktemp)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$out" \
    "$bin" --port "$port" --no-open --token order -- node "$everything" stdio >/dev/null 2>&1 &
  pid=$!
  api() { curl -s -H "Authorization: Bearer order" -H "Content-Type: application/json" "$@"; }
  for _ in $(seq 1 120); do
    api "http://127.0.0.1:$port/api/session" 2>/dev/null | grep -q '"connected"' && break
    sleep 1
  done
  api -d '{"method":"tools/list"}' "http://127.0.0.1:$port/api/request" >/dev/null
  api -d '{"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}' "http://127.0.0.1:$port/api/request" >/dev/null
  sleep 3
  kill -TERM "$pid"
  wait "$pid" || true
  # Each function's name at its first mention (callgrind names a function once, as the one
  # running or the one called, then by number).
  grep -E '^c?fn=\([0-9]+\) ' "$out" | sed -E 's/^c?fn=\([0-9]+\) //' | grep -vE '^0x' >> "$names"
  rm -f "$out"
}

cargo build --release --locked
cp target/release/mcpscope "$names.release"
trace "$names.release"
cargo bench --locked --bench overhead --no-run
trace target/release/mcpscope
# A name callgrind marks as a recursive call (`name'2`) is the same function.
sed -E "s/'[0-9]+$//" "$names" | awk '!seen[$0]++' > build/symbol-order.txt
rm -f "$names" "$names.release"
echo "build/symbol-order.txt: $(wc -l < build/symbol-order.txt) functions"
