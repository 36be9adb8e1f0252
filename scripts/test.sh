#!/usr/bin/env bash
# The whole test suite: installs the test peers (idempotent), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-peers.sh
cargo test --all-targets "$@"
