#!/usr/bin/env bash
# Builds the libFuzzer targets and runs one of them for a given time.
#
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#     TARGET: config | rules | pipeline | vllm_args | manifest | diff | outputs | resolver
#
# Build dir: build-fuzz/ (clang++, -DLAYERPLAN_FUZZ=ON). Corpus: fuzz/corpus-work/TARGET, seeded on
# first use from fixtures/ and, when present, the shared HuggingFace configs
# (LAYERPLAN_HF_CONFIGS, default ../shared/hf-configs); those are copied at run time, never
# committed. Crashes land in fuzz/corpus-work/TARGET-artifacts/; the log in
# fuzz/corpus-work/TARGET.log. A crasher becomes a regression test by moving it to
# fixtures/fuzz-regressions/TARGET/ (tests/lib/regressions_test.cc replays them all).
# One worker, so two targets can run side by side on a 2-core machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: scripts/fuzz.sh config|rules|pipeline|vllm_args|manifest|diff|outputs|resolver SECONDS [libFuzzer flags]"
target=${1:?$usage}
seconds=${2:?$usage}
shift 2
case $target in config|rules|pipeline|vllm_args|manifest|diff|outputs|resolver) ;;
  *) echo "unknown target '$target'" >&2; exit 2;; esac

build=${LAYERPLAN_FUZZ_BUILD:-$root/build-fuzz}
cxx=${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++)}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLAYERPLAN_FUZZ=ON -DLAYERPLAN_TESTS=OFF -DLAYERPLAN_BENCH=OFF \
    -DLAYERPLAN_NCCL=OFF -DLAYERPLAN_MPI=OFF > /dev/null
fi
cmake --build "$build" -j"${JOBS:-2}" --target "fuzz_$target" > /dev/null

work=$root/fuzz/corpus-work
corpus=$work/$target
hf=${LAYERPLAN_HF_CONFIGS:-$root/../shared/hf-configs}
sep=$'\n#----8<----\n'   # fuzz/targets.h: kSeparator
if [ ! -d "$corpus" ]; then
  mkdir -p "$corpus"
  configs=("$root"/fixtures/models/*.json)
  if [ -d "$hf" ]; then
    while IFS= read -r f; do configs+=("$f"); done < <(find "$hf" -name '*.json' | sort)
  fi
  case $target in
    config)
      for f in "${configs[@]}"; do cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-16).json"; done ;;
    rules)
      cp "$root"/fixtures/rules/*.yaml "$corpus/" ;;
    pipeline)
      # Every fixture rules file against the model it names, and each model with a few rules.
      n=0
      for r in "$root"/fixtures/rules/*.yaml; do
        for m in "$root"/fixtures/models/*.json; do
          { cat "$m"; printf '%s' "$sep"; cat "$r"; } > "$corpus/seed$((n++)).txt"
        done
      done
      for f in "${configs[@]}"; do
        { cat "$f"; printf '%s' "$sep"; cat "$root/fixtures/rules/good_tp2_pp2.yaml"; } > "$corpus/seed$((n++)).txt"
      done ;;
    vllm_args)
      # Every launch line quoted in the docs, and the --emit vllm-args line of each golden.
      n=0
      while IFS= read -r line; do printf '%s' "$line" > "$corpus/seed$((n++)).txt"; done < <(
        grep -ho -- '--vllm-args "[^"]*"' "$root"/README.md "$root"/docs/*.md | sed 's/^--vllm-args "//; s/"$//' | sort -u
        grep -ho '"command": "[^"]*"' "$root"/fixtures/golden/*.json | sed 's/^"command": "//; s/"$//' | sort -u) ;;
    manifest)
      cp "$root"/fixtures/manifests/*.json "$root"/fixtures/golden/*.json "$corpus/" ;;
    diff)
      # Each compiled fixture manifest (the small ones) against the next one, and alone.
      small=("$root"/fixtures/manifests/good_compiled_*.json)
      for i in "${!small[@]}"; do
        next=${small[$(( (i + 1) % ${#small[@]} ))]}
        { cat "${small[$i]}"; printf '%s' "$sep"; cat "$next"; } > "$corpus/pair$i.txt"
        cp "${small[$i]}" "$corpus/self$i.txt"
      done ;;
    outputs)
      # path NUL source NUL shape NUL messages...: see batch_of in fuzz/surfaces.h.
      printf 'rules.yaml\0axes:\n  tp: 8\n\0\xc9\x41\0attn_tp (3) does not divide 64\0note\0' > "$corpus/one"
      printf 'a::b,c%%0A.yaml\0x\0\xc9\x4a\x82\0rule "::error::x"\0n\r\n::warning::y\0m\0' > "$corpus/inject"
      printf 'x\0\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\0m' > "$corpus/many" ;;
    resolver)
      printf 'org/name\nabc123\n' > "$corpus/main"
      printf 'org/name\nout\n' > "$corpus/out"
      printf 'org/name@loop\n' > "$corpus/loop"
      printf 'org/name@abc123\n../../x\n' > "$corpus/dotdot"
      printf '../hub/models--org--name\nabc123' > "$corpus/path" ;;
  esac
fi
# diff's inputs are two manifests: the smallest compiled ones take about 90 KB together.
max_len=65536
[ "$target" = diff ] && max_len=$((1 << 19))
mkdir -p "$work/$target-artifacts"
echo "fuzzing $target for ${seconds}s; corpus $corpus ($(ls "$corpus" | wc -l) files)" >&2
exec "$build/fuzz/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
  $([ -f "$root/fuzz/${target/diff/manifest}.dict" ] && echo "-dict=$root/fuzz/${target/diff/manifest}.dict") -artifact_prefix="$work/$target-artifacts/" "$@" \
  2>&1 | tee "$work/$target.log"
