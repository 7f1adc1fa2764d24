#!/usr/bin/env bash
# Install what samvideo needs on a fresh Debian (or Ubuntu) machine with Rust, skipping what is
# already there. `scripts/setup.sh build`: what the build needs (nasm for rav1e's and openh264's
# assembly, a C/C++ compiler for openh264, FDK AAC and SQLite, the SVT-AV1 encoder library and
# pkg-config to find it). `scripts/setup.sh test`: that,
# plus what the tests run against (ffmpeg/ffprobe as the independent decoder, Chromium for the
# playback tests, sshd, Python's pyftpdlib and aiosmtpd for the export tests,
# openapi-spec-validator, jsonschema and openapi-python-client for the OpenAPI tests, the Postgres
# server for the store tests and moto's S3 server (`moto[server]`) for the object storage and
# render worker tests, which start their own, DejaVu Serif Bold for the caption font test,
# Node.js with npm and the pinned playwright-core of samvideo-http/tests/playground (its
# package-lock.json) for the playground's browser test; fuzz/run-brief.sh installs cargo-fuzz
# itself).
# Used by scripts/render-example.sh, scripts/test.sh and .ci/run.
set -euo pipefail
what="${1:-build}"

need=()
command -v nasm >/dev/null || need+=(nasm)
command -v c++ >/dev/null || need+=(g++)
# SVT-AV1 encodes videos whose picture moves (samvideo-core/build.rs builds its bridge).
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists SvtAv1Enc 2>/dev/null || need+=(libsvtav1enc-dev)
if [ "$what" = test ]; then
  command -v ffmpeg >/dev/null || need+=(ffmpeg)
  command -v chromium >/dev/null || need+=(chromium)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  # The tests run initdb and postgres themselves (as the `postgres` user when root).
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  # A font file other than the bundled one, for the caption `font_url` test.
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf ] || need+=(fonts-dejavu-core)
  command -v pip3 >/dev/null || python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
  # The playground test drives Chromium with playwright-core (npm).
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$what" = test ]; then
  # The export tests' FTP and SMTP servers; the OpenAPI tests' spec validator, JSON Schema
  # validator and client generator (samvideo-http/tests/openapi/).
  pip_need=()
  python3 -c "import pyftpdlib" 2>/dev/null || pip_need+=(pyftpdlib)
  python3 -c "import aiosmtpd" 2>/dev/null || pip_need+=(aiosmtpd)
  python3 -c "import openapi_spec_validator" 2>/dev/null || pip_need+=(openapi-spec-validator)
  python3 -c "import jsonschema" 2>/dev/null || pip_need+=(jsonschema)
  # openapi-python-client needs Python 3.11 or newer (Debian 12 and later have it).
  python3 -c "import sys; sys.exit(sys.version_info < (3, 11))" \
    || { echo "setup: the OpenAPI tests need Python >= 3.11 (found $(python3 --version))" >&2; exit 1; }
  python3 -c "import openapi_python_client" 2>/dev/null || pip_need+=(openapi-python-client)
  if [ ${#pip_need[@]} -gt 0 ]; then
    echo "setup: installing ${pip_need[*]} (pip)" >&2
    # Debian marks its Python "externally managed": as root (CI) install over it, as a user
    # into the user site.
    python3 -m pip install -q "${pip_need[@]}" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages "${pip_need[@]}" 2>/dev/null \
      || python3 -m pip install -q --user --break-system-packages "${pip_need[@]}"
  fi
  # An in-memory S3-compatible server the scale-out tests start on loopback (moto_server).
  if ! python3 -c "import moto.server" 2>/dev/null; then
    echo "setup: installing moto[server] (pip)" >&2
    python3 -m pip install -q 'moto[server]' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'moto[server]' 2>/dev/null \
      || python3 -m pip install -q --user --break-system-packages 'moto[server]'
  fi
  # playwright-core for the playground test, at the version its lock file pins (no browser
  # download: it drives the Debian Chromium above).
  playground="$(cd "$(dirname "$0")/.." && pwd)/samvideo-http/tests/playground"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
    || { echo "setup: the playground test's playwright-core needs Node.js >= 20 (found $(node --version))" >&2; exit 1; }
  if [ ! -d "$playground/node_modules/playwright-core" ]; then
    command -v npm >/dev/null || { echo "setup: npm is missing (apt-get install npm)" >&2; exit 1; }
    echo "setup: installing playwright-core (npm ci in $playground)" >&2
    npm ci --prefix "$playground" --no-audit --no-fund --loglevel=error
  fi
fi
