#!/usr/bin/env bash
# Run every fuzz target briefly on the stable toolchain (CI smoke run).
#
#   fuzz/run-brief.sh                  # 10 s per target, no sanitizer (plain stable)
#   FUZZ_SECONDS=60 fuzz/run-brief.sh  # longer
#   FUZZ_ASAN=1 fuzz/run-brief.sh      # with AddressSanitizer (RUSTC_BOOTSTRAP=1, slower)
#   CARGO_TARGET_DIR=/tmp/t fuzz/run-brief.sh   # build outside fuzz/target
#
# Installs cargo-fuzz if missing. Seeds each corpus with examples/requests/*, uses the JSON
# dictionary, and exits non-zero if a target crashes (the input is left in fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-10}"
targets=(fuzz_mix_video fuzz_simple_video fuzz_loop_video fuzz_advanced_video)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# CARGO_TARGET_DIR (if set) is passed on: cargo-fuzz locates the binaries itself.
extra=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    extra=(--target-dir "$CARGO_TARGET_DIR")
fi

if [ -n "${FUZZ_ASAN:-}" ]; then
    # cargo blocks RUSTC_BOOTSTRAP in nested invocations, so set it on cargo fuzz directly.
    run() { RUSTC_BOOTSTRAP=1 cargo fuzz run --dev "${extra[@]}" "$@"; }
else
    run() { cargo fuzz run --dev -s none "${extra[@]}" "$@"; }
fi

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp ../examples/requests/valid/*.json ../examples/requests/invalid/*.json "corpus/$t/"
    log="$(mktemp)"
    if run "$t" -- -max_total_time="$secs" -dict="$PWD/json.dict" -print_final_stats=1 >"$log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
        echo "$t: ok, ${runs:-?} runs in ${secs} s ($(( ${runs:-0} / secs )) runs/s)"
    else
        echo "$t: FAILED"
        tail -40 "$log"
        status=1
    fi
    rm -f "$log"
done
exit "$status"
