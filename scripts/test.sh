#!/usr/bin/env bash
# Set-up command 2: install, build with warnings as errors, run the whole test suite
# (unit, fixtures, golden manifests, CLI end-to-end, MPI smoke harness; GPU tests run where a
# GPU is, and report themselves skipped elsewhere), then the sanitizer build of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON > /dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
if [ -x scripts/ci-sanitize.sh ]; then
  scripts/ci-sanitize.sh
fi
