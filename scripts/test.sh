#!/usr/bin/env bash
# Set-up command 2: install, build with warnings as errors, run the whole test suite
# (unit, fixtures, golden manifests, CLI end-to-end, hostile inputs, fuzz regressions, MPI smoke
# harness; GPU tests run where a GPU is, and report themselves skipped elsewhere), then all but
# the GPU tests once more under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON > /dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
# Second stage: the tests again, built with ASan and UBSan in build-sanitize/ (about 4 minutes
# on 2 cores; docs/fuzzing.md says what it leaves out and why).
scripts/ci-sanitize.sh
