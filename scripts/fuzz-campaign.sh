#!/usr/bin/env bash
# Runs every libFuzzer target side by side on a many-core host, continuing from the corpora in
# fuzz/corpus-work/ (seed them first: scripts/fuzz.sh TARGET 1 for each target), and keeps every
# crash, out-of-memory and timeout instead of stopping at the first.
#
#   scripts/fuzz-campaign.sh SECONDS [TARGET...]
#
# FUZZ_BIN: the folder of the fuzz_TARGET binaries (default build-fuzz/fuzz, as scripts/fuzz.sh
# builds them). FORK: workers per target (default: the cores shared out among the targets, at
# least 1). Logs: fuzz/corpus-work/campaign-TARGET.log; artifacts:
# fuzz/corpus-work/TARGET-artifacts/. Prints each target's libFuzzer summary at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:?usage: scripts/fuzz-campaign.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config rules pipeline vllm_args manifest diff outputs resolver)
bin=${FUZZ_BIN:-$root/build-fuzz/fuzz}
work=$root/fuzz/corpus-work
cores=$(nproc)
fork=${FORK:-$(( cores / ${#targets[@]} > 1 ? cores / ${#targets[@]} : 1 ))}
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "no $bin/fuzz_$t: build it with scripts/fuzz.sh $t 1" >&2; exit 2; }
  [ -d "$work/$t" ] || { echo "no corpus $work/$t: seed it with scripts/fuzz.sh $t 1" >&2; exit 2; }
done
echo "campaign: ${#targets[@]} targets x $fork workers for ${seconds}s on $cores cores ($(uname -n))"
for t in "${targets[@]}"; do
  mkdir -p "$work/$t-artifacts"
  before=$(find "$work/$t" -type f | wc -l)
  echo "$t: corpus $before files before" > "$work/campaign-$t.log"
  max_len=65536
  [ "$t" = diff ] && max_len=$((1 << 19))   # two manifests: as scripts/fuzz.sh
  dict=()
  d=$root/fuzz/${t/diff/manifest}.dict   # diff reads manifests: the same tokens
  [ -f "$d" ] && dict=(-dict="$d")
  # -fork writes one log per worker into the working directory: keep them out of the tree.
  (cd "$(mktemp -d)" && "$bin/fuzz_$t" "$work/$t" -fork="$fork" -ignore_crashes=1 -ignore_ooms=1 \
      -ignore_timeouts=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 "${dict[@]}" -artifact_prefix="$work/$t-artifacts/" \
      >> "$work/campaign-$t.log" 2>&1) &
done
wait
for t in "${targets[@]}"; do
  echo "== $t: corpus $(find "$work/$t" -type f | wc -l) files after;" \
       "artifacts: $(find "$work/$t-artifacts" -type f | wc -l)"
  head -1 "$work/campaign-$t.log"
  grep -E '^#[0-9]+.*(cov|ft):|INFO: fuzzed for|stat::|crash|oom|timeout' "$work/campaign-$t.log" | tail -6
done
