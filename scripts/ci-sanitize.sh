#!/usr/bin/env bash
# CI stage: the whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (LAYERPLAN_SANITIZE=ON) in its own build directory, and run without the GPU tests.
#
#   scripts/ci-sanitize.sh [BUILD_DIR]      (default: build-sanitize)
#
# Fast on purpose (a 2-core CI machine, a budget of about ten minutes): -O0 -g1 (half the
# compile time of -O1; the sanitizers lose nothing), the library, the CLI and the smoke library as
# unity builds (LAYERPLAN_UNITY_BUILD), the tests' own code with ASan only and no debug
# information (tests/CMakeLists.txt says why), no benchmarks, one parallel build.
#
# Included: the library, CLI, hostile-input and fuzz-regression tests, the smoke unit tests and
# the smoke driver's end-to-end tests under mpirun on the MPI (CPU) backend. For those, Open MPI's
# own allocations (uninstrumented, kept until exit) are suppressed by library name
# (tests/sanitize/lsan.supp, set for those tests only by tests/smoke/expect_exit.cmake); the
# driver's own allocations are still checked.
# Left out: the test labelled browser (what it adds to lib_report_test is Chromium's view of the
# page, and Chromium is not instrumented; 30 s here) and the tests labelled gpu. The CUDA runtime
# and NCCL map memory where ASan keeps its shadow (ASan needs protect_shadow_gap=0 and still
# reports false positives from the uninstrumented driver); they are skipped without a GPU anyway.
#
# Any sanitizer report fails its test: ASan aborts, UBSan does not recover. Two canary tests
# (tests/sanitize/canary.cc) pass only when ASan and UBSan report an error planted on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-sanitize}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$(date +%s)

mkdir -p "$build"
cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1" \
  -DLAYERPLAN_SANITIZE=ON -DLAYERPLAN_UNITY_BUILD=ON -DLAYERPLAN_TESTS=ON -DLAYERPLAN_BENCH=OFF \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }

cmake --build "$build" -j"$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" -LE "gpu|browser" --output-on-failure -j"$jobs"
echo "ci-sanitize: passed in $(( $(date +%s) - start ))s"
