#!/usr/bin/env bash
# The whole test suite: installs the test peers (idempotent), then runs every test. The
# benchmark's smoke run goes first so that the test runner's summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-peers.sh
# The UI's pure modules (schema → form model, URI templates) under Node's own test runner.
node --test tests/js/
cargo test --bench overhead "$@"
cargo test --lib --bins --tests "$@"
