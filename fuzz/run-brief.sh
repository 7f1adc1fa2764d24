#!/usr/bin/env bash
# Run every fuzz target for a short fixed time on the stable toolchain: the four request
# targets, the three media decoder targets and the subtitle parser (what CI runs).
#
#   fuzz/run-brief.sh                    # 20 s per target, no sanitizer (plain stable)
#   FUZZ_SECONDS=60 fuzz/run-brief.sh    # longer
#   FUZZ_TARGETS="fuzz_video_decode" fuzz/run-brief.sh   # some targets only
#   FUZZ_ASAN=1 fuzz/run-brief.sh        # with AddressSanitizer (RUSTC_BOOTSTRAP=1, slower)
#   CARGO_TARGET_DIR=/tmp/t fuzz/run-brief.sh   # build under /tmp/t/fuzz (a kept cache)
#
# One build serves all targets: cargo-fuzz's default (release profile, debug assertions and
# overflow checks on), so the decoders run optimized and arithmetic overflow still panics.
# The system allocator stays (no mimalloc here): an allocation sized by hostile input fails
# as "malloc(N) exceeds limit" (libFuzzer's -rss_limit_mb, default 2048 MB) instead of
# hiding in lazily reserved address space.
#
# Corpora: fuzz/seeds/<target>/ (small checked-in files, past findings among them) and, for
# the request targets, examples/requests/{valid,invalid}/*.json with the JSON dictionary.
# Exits non-zero if a target crashes, times out (10 s per input) or runs out of memory; the
# input is left in fuzz/artifacts/<target>/ and its bytes are printed (base64) in the log.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-20}"
request_targets=(fuzz_mix_video fuzz_simple_video fuzz_loop_video fuzz_advanced_video)
decoder_targets=(fuzz_image_decode fuzz_audio_decode fuzz_video_decode fuzz_subtitles fuzz_font)
read -r -a targets <<<"${FUZZ_TARGETS:-${request_targets[*]} ${decoder_targets[*]}}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# A kept CARGO_TARGET_DIR (CI's cache) gets the fuzz build in its own subfolder: the
# instrumented build shares no artifacts with the main workspace's.
extra=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    extra=(--target-dir "$CARGO_TARGET_DIR/fuzz")
fi
flags=(-O -s none)
if [ -n "${FUZZ_ASAN:-}" ]; then
    # cargo blocks RUSTC_BOOTSTRAP in nested invocations, so set it on cargo fuzz directly.
    export RUSTC_BOOTSTRAP=1
    flags=(-O)
fi

build_start=$SECONDS
build_log="$(mktemp)"
if ! cargo fuzz build "${flags[@]}" "${extra[@]}" >"$build_log" 2>&1; then
    tail -60 "$build_log"
    echo "fuzz: build failed"
    exit 1
fi
rm -f "$build_log"
echo "fuzz: built in $((SECONDS - build_start)) s"

passed=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    args=(-max_total_time="$secs" -timeout=10 -print_final_stats=1)
    if [[ " ${request_targets[*]} " == *" $t "* ]]; then
        cp ../examples/requests/valid/*.json ../examples/requests/invalid/*.json "corpus/$t/"
        args+=(-dict="$PWD/json.dict")
    else
        cp seeds/"$t"/* "corpus/$t/"
    fi
    log="$(mktemp)"
    if cargo fuzz run "${flags[@]}" "${extra[@]}" "$t" -- "${args[@]}" >"$log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
        rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)"
        echo "$t: ok, ${runs:-?} runs in ${secs} s ($(( ${runs:-0} / secs )) runs/s), peak RSS ${rss:-?} MB"
        passed=$((passed + 1))
    else
        echo "$t: FAILED"
        tail -60 "$log"
        for a in artifacts/"$t"/*; do
            [ -f "$a" ] || continue
            echo "--- $a ($(stat -c %s "$a") bytes, base64):"
            base64 -w 0 "$a" | head -c 20000
            echo
        done
        failed=$((failed + 1))
    fi
    rm -f "$log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
