#!/usr/bin/env bash
# Set-up command 2: install, build with warnings as errors, run the whole test suite
# (unit, fixtures, golden manifests, CLI end-to-end, hostile inputs, fuzz regressions, MPI smoke
# harness; GPU tests run where a GPU is, and report themselves skipped elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON > /dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
# The ASan/UBSan stage (scripts/ci-sanitize.sh) is not called yet: it has not been verified
# from a clean clone within CI's time. Run it by hand: bash scripts/ci-sanitize.sh
