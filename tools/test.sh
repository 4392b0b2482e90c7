#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test.sh - build netstack and run every test: the README's test command.
#
# 1. tools/setup.sh: install the packages, fetch and verify lwIP's source.
# 2. Release build (gcc): unit suites, the same suites under valgrind, and the
#    end-to-end tests with a real guest kernel (root: network namespaces, tap).
# 3. Sanitizer build (clang, ASan+UBSan): unit suites again, a bounded
#    libFuzzer run of every harness, and the end-to-end tests against the
#    sanitizer build of netstackd (e2e-asan/).
#
# Usage: tools/test.sh [--quick]   (--quick: skip step 3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=$(nproc)

tools/setup.sh

echo "=== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure

if [ "${1:-}" != "--quick" ]; then
    echo "=== sanitizer build: unit suites, fuzzing, end-to-end tests"
    cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DNETSTACK_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-fuzz -j"$JOBS"
    ctest --test-dir build-fuzz --output-on-failure
fi
