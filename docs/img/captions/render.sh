#!/usr/bin/env bash
# Regenerates the preset pictures of docs/captions.md: one frame per caption_style over the
# bundled social example's first still, the caption band of a 9:16 low-quality render scaled to
# 360 px wide (8-bit palette PNG, each well under 40 KB).
# Usage: docs/img/captions/render.sh [path/to/samvideo]   (default: cargo run --release)
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp examples/social/portrait-1.jpg "$tmp/"
for style in classic boxed-line boxed-word highlight one-word pop; do
  cat >"$tmp/spec.json" <<JSON
{"media_list": [{"type": "image", "url": "portrait-1.jpg", "duration": 2}],
 "transcripts": [{"words": "Captions people actually read", "start": 0, "end": 2}],
 "settings": {"aspect_ratio": "9:16", "output_quality": "low", "fps": 30, "caption_style": "$style"}}
JSON
  if [ -n "$bin" ]; then
    (cd "$tmp" && "$bin" render spec.json --endpoint mix-video --format y4m -o out.y4m >/dev/null)
  else
    cargo run -q --release -p samvideo-http -- render "$tmp/spec.json" --endpoint mix-video --format y4m -o "$tmp/out.y4m" >/dev/null
  fi
  # 0.6 s: "people" is spoken (and, for pop, still growing at 0.5 s would be mid-pop).
  ffmpeg -loglevel error -y -ss 0.6 -i "$tmp/out.y4m" -frames:v 1 \
    -vf "crop=480:300:0:440,scale=360:-2,split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse=dither=none" \
    "docs/img/captions/$style.png"
done
ls -l docs/img/captions/*.png
