#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# fuzz.sh - long libFuzzer runs, outside the test suite (which fuzzes each
# harness for 30 s): build the sanitizer build, then fuzz each harness for
# --seconds (default 600), one after the other, from its committed seed
# corpus. New inputs go to build-fuzz/fuzz-long/NAME/, never into fuzz/corpus/;
# a crash stops that harness and its input is named at the end. To keep a
# crash as a regression seed once it is fixed, copy it into fuzz/corpus/NAME/.
#
# Usage: tools/fuzz.sh [--seconds N] [--jobs J] [HARNESS...]
#   HARNESS: fuzz_frame, fuzz_stack, ... (default: every fuzz/fuzz_*.c)
#   --jobs J: J libFuzzer workers per harness (-fork=J), default 1
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=600
JOBS=1
HARNESSES=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) HARNESSES+=("$1"); shift ;;
    esac
done
case "$SECS$JOBS" in
*[!0-9]*) echo "fuzz.sh: --seconds and --jobs take numbers" >&2; exit 2 ;;
esac
if [ ${#HARNESSES[@]} -eq 0 ]; then
    for src in fuzz/fuzz_*.c; do
        HARNESSES+=("$(basename "$src" .c)")
    done
fi

tools/setup.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DNETSTACK_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${HARNESSES[@]}"

failed=()
for h in "${HARNESSES[@]}"; do
    name=${h#fuzz_}
    out=build-fuzz/fuzz-long/$name
    mkdir -p "$out"
    echo "=== $h: $SECS s, $JOBS job(s), new inputs in $out/"
    fork=()
    [ "$JOBS" -gt 1 ] && fork=(-fork="$JOBS")
    if ! ASAN_OPTIONS=detect_leaks=1 "build-fuzz/$h" -max_total_time="$SECS" \
            -print_final_stats=1 "${fork[@]}" -artifact_prefix="$out/" "$out" \
            "fuzz/corpus/$name"; then
        failed+=("$h: $(ls -t "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null | head -1)")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "no failure in ${#HARNESSES[@]} harness(es)"
