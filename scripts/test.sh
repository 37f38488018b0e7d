#!/usr/bin/env bash
# Set-up command 2: install, build with warnings as errors, run the whole test suite
# (unit, fixtures, golden manifests, CLI end-to-end, hostile inputs, fuzz regressions, MPI smoke
# harness; GPU tests run where a GPU is, and report themselves skipped elsewhere), then all but
# the GPU tests once more under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
# A one-off build: the library, CLI and smoke library as unity builds, and line tables only for
# debug information (-g1: file and line in a backtrace, not the types; a third less compile time
# than -g). Together with fmt compiled once (base/fmt_impl.cc) this halves the build on 2 cores.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON \
  -DLAYERPLAN_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" > /dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
# Second stage: the tests again, built with ASan and UBSan in build-sanitize/ (about 9 minutes
# on 2 cores; docs/fuzzing.md says what it leaves out and why).
scripts/ci-sanitize.sh
