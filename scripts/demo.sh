#!/usr/bin/env bash
# Set-up command 1: install, build, and compile the bundled example (Llama-3.1-8B with
# tp=8, attn_tp=4, dcp=2), printing the per-layer plan and writing plan.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Warnings are not errors here (scripts/test.sh turns them on, and shares this build directory):
# a new compiler's new warning must not stop a first run.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLAYERPLAN_WERROR=OFF -DLAYERPLAN_TESTS=OFF \
  -DLAYERPLAN_BENCH=OFF > /dev/null
cmake --build build -j "$(nproc)" --target layerplan > /dev/null
build/cli/layerplan compile --config fixtures/models/llama3_8b.json \
  --rules fixtures/rules/good_llama8b_tpa.yaml --groups -o plan.json
