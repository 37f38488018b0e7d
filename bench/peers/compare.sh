#!/usr/bin/env bash
# layerplan against Megatron-Core's RankGenerator on the same shape, side by side in one run:
# whole-process wall time (median of N; measured with date around GNU time, which adds about a
# millisecond to both) and peak RSS (GNU time), each writing its groups as JSON, and the ratio.
# Usage: bench/peers/compare.sh MEGATRON_CHECKOUT [N]   (from the repository root, after
#        cmake --build build --target layerplan; needs GNU time at /usr/bin/time)
set -euo pipefail
megatron=${1:?usage: compare.sh MEGATRON_CHECKOUT [N]}
n=${2:-5}
bin=${LAYERPLAN:-build/cli/layerplan}
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
measure() {  # NAME COMMAND...: median wall time (date, ns) and the largest peak RSS over n runs
  local name=$1; shift
  local walls=() rss=0
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$tmp/time" "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err"; exit 1; }
    t1=$(date +%s%N)
    read -r kb < "$tmp/time"
    walls+=("$(( (t1 - t0) / 1000 ))")  # microseconds
    (( kb > rss )) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  printf '%-52s %10.1f ms %8.1f MB\n' "$name" "$(echo "$median / 1000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
  last_median=$median
}
echo "world 65,536 (tp 8, pp 2, dp 4,096; layerplan also attn_tp 4, dcp 2), median of $n"
measure "layerplan compile -o (all group sets listed)" \
  "$bin" compile --config "$config" --rules "$tmp/rules.yaml" -o "$tmp/layerplan.json"
layerplan_s=$last_median
measure "Megatron RankGenerator (tp,dp,pp,cp,tp-pp,tp-dp-cp,dp-cp)" \
  python3 bench/peers/megatron_groups.py --megatron "$megatron" --tp 8 --pp 2 --dp 4096 \
  -o "$tmp/megatron.json"
megatron_s=$last_median
if (( megatron_s > 0 )); then
  printf 'ratio layerplan / Megatron: %.4f\n' "$(echo "$layerplan_s / $megatron_s" | bc -l)"
fi
