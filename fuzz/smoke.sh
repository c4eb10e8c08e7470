#!/usr/bin/env bash
# The fuzz targets' smoke run, for every test run: builds the seven targets, then runs each for
# FUZZ_SECONDS (default 15) starting from the inputs kept in regressions/<target>/, which are
# replayed first, so a regression or a new crash fails the run. The long runs (ten minutes and
# more per target) and their results are in README.md.
#
# cargo-fuzz passes nightly -Z flags to rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain take
# them. For a short run the build is what costs: the targets are built unoptimised (with debug
# assertions and overflow checks) and, relayctl having no unsafe code, without AddressSanitizer,
# which takes 1.8 minutes on 2 cores against 3.5 for the long runs' build; libFuzzer's coverage
# guidance, crash and timeout detection stay on (headers: about 3,700 inputs a second).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-15}
export RUSTC_BOOTSTRAP=1
cargo fuzz build --dev --sanitizer none
for target in $(cargo fuzz list); do
    work=$(mktemp -d)
    seeds=()
    [[ -d regressions/$target ]] && seeds=("regressions/$target")
    if ! cargo fuzz run --dev --sanitizer none "$target" "$work" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 >"$work.log" 2>&1; then
        cat "$work.log" >&2
        echo "fuzz/smoke.sh: target $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    runs=$(grep -oE '^#[0-9]+' "$work.log" | tail -1)
    echo "fuzz/smoke.sh: $target: ${runs#\#} inputs in ${seconds} s, no finding"
    rm -rf "$work" "$work.log"
done
