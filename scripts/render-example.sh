#!/usr/bin/env bash
# Quick start, 1 of 2: install what the build needs when missing (scripts/setup.sh build), then
# render the bundled 16:9 slideshow (local files, no network) to slideshow.mp4 with the release
# binary. Extra arguments go to `samvideo render` (e.g. `--codec h264`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cargo run --release -q -p samvideo-http -- \
  render examples/slideshow/spec.json --endpoint simple-video -o slideshow.mp4 "$@"
