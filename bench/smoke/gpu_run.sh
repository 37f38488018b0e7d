#!/usr/bin/env bash
# The GPU session of `layerplan smoke` (docs/gpu-runs.md): build from source, run the test suite,
# run the smoke plans single-process and under mpirun, the failure cases, and the PyTorch
# comparison; everything is logged to $OUT/run_<N>gpu.log and the reports tarred into
# $OUT/results_<N>gpu.tar.gz.
#   OUT=/tmp/out bash bench/smoke/gpu_run.sh 4      (or 2)
set -u
N=${1:-4}
OUT=${OUT:-/tmp/smoke-out}
W=$OUT/work_${N}gpu
mkdir -p "$W"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
F=fixtures/manifests

step() { echo; echo "===== $* ($(date -u +%H:%M:%S))"; }

# run NAME EXPECTED_EXIT COMMAND...: runs, prints the full output, exit status and wall time.
run() {
  local name=$1 want=$2; shift 2
  step "$name: $*"
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout 180 "$@" >"$W/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  cat "$W/$name.log"
  local verdict=ok; [ "$rc" = "$want" ] || verdict=UNEXPECTED
  local wall; wall=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
  echo "--> $name: exit $rc (expected $want) $verdict, wall $wall s"
  echo "$name exit=$rc want=$want $verdict wall=${wall}s" >>"$W/summary.txt"
}

main() {
  step "environment"
  date -u; hostname; uname -r
  nvidia-smi -L; nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,memory.total --format=csv
  nvidia-smi topo -m
  env | grep -E '^(NCCL|CUDA|TORCH|NVSHMEM)' | sort
  g++ --version | head -1; cmake --version | head -1; mpirun --version 2>&1 | head -1
  ls -la /usr/include/nccl.h /usr/local/cuda/include/nccl.h /usr/local/cuda/include/cuda_runtime_api.h 2>&1
  ldconfig -p | grep -E 'libnccl|libcudart|libmpi\.so'
  python3 -c 'import torch; print("torch", torch.__version__, "nccl", torch.cuda.nccl.version(), "gpus", torch.cuda.device_count())'
  TORCH_NCCL=$(python3 bench/smoke/torch_busbw.py --print-nccl-path 2>/dev/null)
  echo "torch loads $TORCH_NCCL"
  if ! ldconfig -p | grep -q 'libnccl.so.2 '; then
    export LAYERPLAN_LIBNCCL=$TORCH_NCCL; echo "no system libnccl.so.2: using $LAYERPLAN_LIBNCCL"
  fi
  local extra=()
  if [ ! -f /usr/include/nccl.h ] && [ ! -f /usr/local/cuda/include/nccl.h ]; then
    extra+=(-DLAYERPLAN_NCCL_INCLUDE_DIR=$PWD/.smoke-carry/include); echo "using the carried nccl.h"
  fi

  step "build (full project)"
  B=build
  if [ -n "${SMOKE_BUILD_DIR:-}" ]; then
    B=$SMOKE_BUILD_DIR; echo "using the existing build in $B"
  elif cmake -S . -B build -DLAYERPLAN_TESTS=ON "${extra[@]}" >"$W/configure.log" 2>&1 &&
     cmake --build build -j "$(nproc)" >"$W/build.log" 2>&1; then
    grep -E 'layerplan smoke|Catch2' "$W/configure.log"; echo "full build OK"
  else
    tail -30 "$W/configure.log" "$W/build.log"
    step "build (smoke only, bench/smoke/standalone)"
    B=build-smoke
    cmake -S bench/smoke/standalone -B build-smoke "${extra[@]}" \
      -DLAYERPLAN_JSON_INCLUDE_DIR=$PWD/.smoke-carry/include >"$W/configure-smoke.log" 2>&1
    cmake --build build-smoke -j "$(nproc)" >"$W/build-smoke.log" 2>&1
    tail -20 "$W/configure-smoke.log" "$W/build-smoke.log"
  fi
  D=$B/smoke/layerplan-smoke-driver
  $D --features

  step "ctest"
  (cd $B && timeout 240 ctest --output-on-failure -LE gpu -j 16 >"$W/ctest.log" 2>&1;
   timeout 240 ctest --output-on-failure -L gpu -V >"$W/ctest-gpu.log" 2>&1)
  grep -E 'tests passed|Failed|Skipped|Not Run|\*\*\*' "$W/ctest.log" | tail -20
  cat "$W/ctest-gpu.log"

  local mpi=(mpirun --bind-to none --oversubscribe -np)
  if [ "$N" = 4 ]; then
    local plans=(llama8b_tp4_attn2_dcp2 deepseek_v3_tp4_attn1_dcp4_ep4 llama8b_tp2_pp2)
    for p in "${plans[@]}"; do
      run "single_$p" 0 $D --manifest $F/good_compiled_$p.json --json "$W/single_$p.json"
    done
    for p in "${plans[@]}"; do
      run "mpirun_$p" 0 "${mpi[@]}" 4 $D --manifest $F/good_compiled_$p.json --json "$W/mpirun_$p.json"
    done
    if [ -x build/cli/layerplan ]; then
      run cli_compile_and_smoke 0 build/cli/layerplan smoke --config fixtures/models/llama3_8b.json \
        --rules bench/smoke/rules/llama8b_tp4_attn2_dcp2.yaml
      run cli_mpirun_smoke 0 "${mpi[@]}" 4 build/cli/layerplan smoke \
        --manifest $F/good_compiled_deepseek_v3_tp4_attn1_dcp4_ep4.json
    fi
    run single_bad_dcp_swapped 3 $D --manifest $F/bad_dcp_swapped.json
    run mpirun_bad_dcp_swapped 3 "${mpi[@]}" 4 $D --manifest $F/bad_dcp_swapped.json
    run single_inject_hang 4 $D --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json --inject-hang dcp --timeout 5
    run mpirun_inject_hang 4 "${mpi[@]}" 4 $D --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json --inject-hang dcp --timeout 5
    run single_needs_8 2 $D --manifest $F/good_llama8b_tp8_attn4_dcp2.json
    run mpirun_np2_of_4 2 "${mpi[@]}" 2 $D --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json
    run single_gate 3 $D --manifest $F/good_compiled_llama8b_tp2_pp2.json --min-busbw 100000
    run mpi_backend_cpu_4 0 "${mpi[@]}" 4 $D --backend mpi --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json --sweep-bytes 8388608
    if [ -n "$TORCH_NCCL" ]; then
      run single_torchnccl_llama8b_tp4_attn2_dcp2 0 env LAYERPLAN_LIBNCCL=$TORCH_NCCL $D \
        --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json --json "$W/single_torchnccl_llama8b_tp4_attn2_dcp2.json"
      run single_torchnccl_deepseek_v3_tp4_attn1_dcp4_ep4 0 env LAYERPLAN_LIBNCCL=$TORCH_NCCL $D \
        --manifest $F/good_compiled_deepseek_v3_tp4_attn1_dcp4_ep4.json --json "$W/single_torchnccl_deepseek_v3_tp4_attn1_dcp4_ep4.json"
    fi
    for p in llama8b_tp4_attn2_dcp2 deepseek_v3_tp4_attn1_dcp4_ep4 llama8b_tp2_pp2; do
      local js=() f
      for f in "$W/single_$p.json" "$W/mpirun_$p.json" "$W/single_torchnccl_$p.json"; do
        [ -f "$f" ] && js+=("$f")
      done
      [ ${#js[@]} -gt 0 ] && js=(--smoke-json "${js[@]}")
      run "torch_$p" 0 env PYTHONUNBUFFERED=1 python3 bench/smoke/torch_busbw.py \
        --manifest $F/good_compiled_$p.json "${js[@]}" --out "$W/torch_$p.json"
    done
  else
    local plans=(llama8b_tp2 llama8b_pp2 llama8b_dp2)
    for p in "${plans[@]}"; do
      run "single_$p" 0 $D --manifest $F/good_compiled_$p.json --json "$W/single_$p.json"
      run "mpirun_$p" 0 "${mpi[@]}" 2 $D --manifest $F/good_compiled_$p.json --json "$W/mpirun_$p.json"
    done
    run single_bad_tp2_swapped 3 $D --manifest $F/bad_tp2_swapped.json
    run mpirun_bad_tp2_swapped 3 "${mpi[@]}" 2 $D --manifest $F/bad_tp2_swapped.json
    run single_inject_hang 4 $D --manifest $F/good_compiled_llama8b_tp2.json --inject-hang tp --timeout 5
    run mpirun_inject_hang 4 "${mpi[@]}" 2 $D --manifest $F/good_compiled_llama8b_tp2.json --inject-hang tp --timeout 5
    run single_gate 3 $D --manifest $F/good_compiled_llama8b_tp2.json --min-busbw 100000
    run mpi_backend_cpu_2 0 "${mpi[@]}" 2 $D --backend mpi --manifest $F/good_compiled_llama8b_tp2.json --sweep-bytes 8388608
    if [ -x build/cli/layerplan ]; then
      run cli_compile_and_smoke 0 build/cli/layerplan smoke --config fixtures/models/llama3_8b.json \
        --rules bench/smoke/rules/llama8b_tp2.yaml
    fi
    run single_needs_4 2 $D --manifest $F/good_compiled_llama8b_tp4_attn2_dcp2.json
    if [ -n "$TORCH_NCCL" ]; then
      run single_torchnccl_llama8b_tp2 0 env LAYERPLAN_LIBNCCL=$TORCH_NCCL $D \
        --manifest $F/good_compiled_llama8b_tp2.json --json "$W/single_torchnccl_llama8b_tp2.json"
    fi
    for p in "${plans[@]}"; do
      local js=() f
      for f in "$W/single_$p.json" "$W/mpirun_$p.json" "$W/single_torchnccl_$p.json"; do
        [ -f "$f" ] && js+=("$f")
      done
      [ ${#js[@]} -gt 0 ] && js=(--smoke-json "${js[@]}")
      run "torch_$p" 0 env PYTHONUNBUFFERED=1 python3 bench/smoke/torch_busbw.py \
        --manifest $F/good_compiled_$p.json "${js[@]}" --out "$W/torch_$p.json"
    done
  fi
  step "summary"
  cat "$W/summary.txt"
}

main 2>&1 | tee "$OUT/run_${N}gpu.log"
cp "$W/ctest.log" "$OUT/ctest_${N}gpu.log" 2>/dev/null
tar -czf "$OUT/results_${N}gpu.tar.gz" -C "$OUT" "work_${N}gpu"
rm -rf "$W"
