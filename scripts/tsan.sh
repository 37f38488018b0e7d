#!/usr/bin/env bash
# ThreadSanitizer over the code that runs threads: the manifest writer's workers
# (lib/manifest_writer.cc) and `compile`, which makes its table while the manifest is written.
# Not part of CI (a third build would take it past 20 minutes on 2 cores); run it after changing
# either, and on the GPU host (docs/gpu-runs.md). Usage: scripts/tsan.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
rounds=${2:-20}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_UNITY_BUILD=ON \
  -DLAYERPLAN_STATIC_RUNTIME=OFF -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" > /dev/null
cmake --build "$dir" -j "$(nproc)" --target lib_manifest_writer_test layerplan hostile_test
# A race makes the process exit 66: the writer test fails, and so does every hostile test that
# runs the binary and expects it to succeed.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
for ((i = 1; i <= rounds; ++i)); do
  "$dir/tests/lib/lib_manifest_writer_test" > /dev/null || { echo "tsan: round $i failed" >&2; exit 1; }
done
"$dir/tests/cli/hostile_test" "hostile: the manifest's bytes do not depend on the number of threads writing it"
echo "tsan: $rounds rounds of lib_manifest_writer_test and the threads test of hostile_test, no race"
