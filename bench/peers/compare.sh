#!/usr/bin/env bash
# layerplan against Megatron-Core's RankGenerator on the same shape, side by side in one run:
# whole-process wall time (median of N), CPU time and peak RSS, each writing its groups as
# JSON, and the ratio of the wall times.
# Usage: bench/peers/compare.sh MEGATRON_CHECKOUT [N]   (from the repository root, after
#        cmake --build build --target layerplan layerplan-process-bench)
set -euo pipefail
megatron=${1:?usage: compare.sh MEGATRON_CHECKOUT [N]}
n=${2:-5}
bin=${LAYERPLAN:-build/cli/layerplan}
bench=${BENCH:-build/bench/layerplan-process-bench}
# PYTHON="python3 -S" leaves site-packages out, so the script reads Megatron's definitions even
# where torch is installed (importing megatron.core.parallel_state imports torch first).
read -ra python <<< "${PYTHON:-python3}"
[[ -x $bench ]] || { echo "compare.sh: build $bench first (cmake --build build --target layerplan-process-bench)" >&2; exit 2; }
config=${CONFIG:-../shared/hf-configs/llama3/Meta-Llama-3.1-405B.json}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/rules.yaml" <<'YAML'
parallelism_rules:
  axes: {tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 4096}
  rules:
    - match: {kind: attention}
      plan: {tp_size: attn_tp, dcp_size: dcp}
    - match: {kind: mlp}
      plan: {tp_size: tp}
YAML
# The issue's second plan at the same world: DeepSeek-V3 with MLA at tp 8 under DCP 8, experts
# over ep 256 (the same tp 8, pp 2, dp 4,096 for Megatron, whose script computes no expert
# groups: less work on its side than layerplan's).
deepseek=${DEEPSEEK_CONFIG:-fixtures/models/deepseek_v3.json}
cat > "$tmp/deepseek.yaml" <<'YAML'
parallelism_rules:
  axes: {tp: 8, attn_tp: 1, dcp: 8, pp: 2, dp: 4096, ep: 256}
  rules:
    - match: {kind: attention, attention_flavor: mla}
      plan: {tp_size: tp, dcp_size: dcp}
    - match: {kind: moe}
      plan: {tp_size: tp, ep_size: ep}
    - match: {kind: mlp}
      plan: {tp_size: tp}
YAML
# Each command is timed by layerplan-process-bench --run: fork + exec of the command itself, its
# wall time from fork to exit (median of n), CPU time and peak RSS from wait4. Nothing else runs
# around either command (a shell or GNU time around each would add the same milliseconds to
# both, which is most of layerplan's time and little of Megatron's).
measure() {  # LABEL COMMAND...: prints the row and sets last_median (microseconds)
  local label=$1; shift
  local row
  row=$("$bench" --run "$n" "$label" "$@") || { echo "$row"; echo "failed: $*" >&2; exit 1; }
  echo "$row"
  last_median=$(awk '{ printf "%d", $(NF-5) * 1000 }' <<< "$row")
}
printf '%-72s %8s %8s %8s %8s %12s %s\n' "world 65,536 (tp 8, pp 2, dp 4,096; layerplan's plans also dcp, ep), median of $n" \
  "wall ms" "min ms" "cpu ms" "RSS MB" "" "exit"
measure "layerplan compile -o, Llama-3.1-405B (all group sets listed)" \
  "$bin" compile --config "$config" --rules "$tmp/rules.yaml" -o "$tmp/layerplan.json"
layerplan_us=$last_median
measure "layerplan compile -o, DeepSeek-V3 (all group sets listed)" \
  "$bin" compile --config "$deepseek" --rules "$tmp/deepseek.yaml" -o "$tmp/deepseek.json"
deepseek_us=$last_median
measure "Megatron RankGenerator (tp,dp,pp,cp,tp-pp,tp-dp-cp,dp-cp) as JSON" \
  "${python[@]}" bench/peers/megatron_groups.py --megatron "$megatron" --tp 8 --pp 2 --dp 4096 \
  -o "$tmp/megatron.json"
megatron_us=$last_median
if (( megatron_us > 0 )); then
  awk -v a="$layerplan_us" -v d="$deepseek_us" -v b="$megatron_us" 'BEGIN {
    printf "ratio of the median wall times, layerplan / Megatron: %.4f (Llama-3.1-405B), %.4f (DeepSeek-V3)\n", a / b, d / b }'
fi
