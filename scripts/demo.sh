#!/usr/bin/env bash
# Set-up command 1: install, build, and compile the bundled example (Llama-3.1-8B with
# tp=8, attn_tp=4, dcp=2), printing the per-layer plan and writing plan.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Warnings are not errors here (scripts/test.sh turns them on, and shares this build directory):
# a new compiler's new warning must not stop a first run.
echo "demo: configuring build/" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLAYERPLAN_WERROR=OFF -DLAYERPLAN_TESTS=OFF \
  -DLAYERPLAN_UNITY_BUILD=ON \
  -DLAYERPLAN_BENCH=OFF > /dev/null
# The first build takes 2-3 minutes on two cores: show each step as it goes (one line rewritten
# in place on a terminal, a line each in a log), and whatever else the build says as it is.
echo "demo: building layerplan on $(nproc) cores (2-3 minutes the first time)" >&2
start=$SECONDS
clear_line=""
if [ -t 2 ]; then clear_line=$'\r\033[K'; fi
cmake --build build -j "$(nproc)" --target layerplan 2>&1 | while IFS= read -r line; do
  case $line in
    \[*\]\ *)
      if [ -n "$clear_line" ]; then printf '%s  %s' "$clear_line" "${line:0:100}" >&2
      else printf '  %s\n' "$line" >&2; fi ;;
    *) printf '%s%s\n' "$clear_line" "$line" >&2 ;;
  esac
done
printf '%s' "$clear_line" >&2
echo "demo: built build/cli/layerplan in $((SECONDS - start)) s; compiling the example:" >&2
build/cli/layerplan compile --config fixtures/models/llama3_8b.json \
  --rules fixtures/rules/good_llama8b_tpa.yaml --groups -o plan.json
