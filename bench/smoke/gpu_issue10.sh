#!/usr/bin/env bash
# Issue 10's GPU session (docs/gpu-runs.md): build, run the whole test suite with the GPU tests,
# then smoke the new layouts (DCP spanning PCP, one-rank sets, vLLM's ep set on a MoE model) on
# 2 GPUs, single-process and under mpirun. Output to $OUT.
#   OUT=/tmp/out bash bench/smoke/gpu_issue10.sh
set -u
OUT=${OUT:-/tmp/issue10-out}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
log=$OUT/run.log
{
  date -u; nvidia-smi -L; g++ --version | head -1; cmake --version | head -1
  env | grep -E '^NCCL' | sort
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON > "$OUT/configure.log" 2>&1 &&
    cmake --build build -j "$(nproc)" > "$OUT/build.log" 2>&1 && echo "build OK" || { echo "build FAILED"; tail -50 "$OUT/build.log"; }
  ctest --test-dir build -j 8 --output-on-failure 2>&1 | tail -45
  L=build/cli/layerplan
  for plan in deepseek_v3_pcp2_dcp2:deepseek_v3 deepseek_v3_tp2_pcp2_dcp2:deepseek_v3 llama8b_tp2:llama3_8b; do
    name=${plan%%:*}; model=${plan##*:}
    [ "$name" = deepseek_v3_tp2_pcp2_dcp2 ] && continue  # 4 ranks: not on a 2-GPU machine
    echo "===== compile $name"
    $L compile --allow-unverified --config fixtures/models/$model.json --rules bench/smoke/rules/$name.yaml -o "$OUT/$name.json" 2>&1 | tail -3
    echo "===== smoke $name single-process"
    timeout 180 $L smoke --manifest "$OUT/$name.json" --json "$OUT/${name}_single.json" 2>&1 | tail -40; echo "exit ${PIPESTATUS[0]}"
    echo "===== smoke $name mpirun -np 2"
    timeout 180 mpirun -np 2 $L smoke --manifest "$OUT/$name.json" --json "$OUT/${name}_mpirun.json" 2>&1 | tail -40; echo "exit ${PIPESTATUS[0]}"
  done
  echo "===== the pre-#46570 (consecutive) DCP layout must be refused: exit 3"
  timeout 120 mpirun -np 4 --oversubscribe $L smoke --backend mpi --manifest fixtures/manifests/bad_dcp_consecutive_with_pcp.json 2>&1 | tail -8; echo "exit ${PIPESTATUS[0]}"
} > "$log" 2>&1
cat "$log" | tail -150
