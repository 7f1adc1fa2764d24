#!/usr/bin/env bash
# Quick start, 2 of 2: the whole test suite, as CI runs it. Installs what the tests need when
# missing (scripts/setup.sh test), runs every fuzz target briefly (a crash fails and prints the
# input), then `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
fuzz/run-brief.sh
cargo test --workspace --no-fail-fast
