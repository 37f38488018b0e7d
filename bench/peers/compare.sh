#!/usr/bin/env bash
# layerplan against Megatron-Core's RankGenerator on the same shape, side by side in one run:
# whole-process wall time (median of N) and peak RSS, each writing its groups as JSON.
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
measure() {  # NAME COMMAND...: median wall seconds and the largest peak RSS over n runs
  local name=$1; shift
  local walls=() rss=0
  for _ in $(seq "$n"); do
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err"; exit 1; }
    read -r wall kb < "$tmp/time"
    walls+=("$wall")
    (( kb > rss )) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  printf '%-52s %8s s %8.1f MB\n' "$name" "$median" "$(echo "$rss / 1024" | bc -l)"
}
echo "world 65,536 (tp 8, pp 2, dp 4,096; layerplan also attn_tp 4, dcp 2), median of $n"
measure "layerplan compile -o (all group sets listed)" \
  "$bin" compile --config "$config" --rules "$tmp/rules.yaml" -o "$tmp/layerplan.json"
measure "Megatron RankGenerator (tp,dp,pp,cp,tp-pp,tp-dp-cp,dp-cp)" \
  python3 bench/peers/megatron_groups.py --megatron "$megatron" --tp 8 --pp 2 --dp 4096 \
  -o "$tmp/megatron.json"
