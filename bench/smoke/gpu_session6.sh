#!/usr/bin/env bash
# GPU session 6 (docs/gpu-runs.md): the merged launch-line, memory and report work on 2 GPUs.
# Builds, runs the GPU tests, smoke --memory (issue 14), smoke --vllm-args single-process and
# under mpirun (issue 11), a MoE plan's collectives at tp 2 with vLLM's ep set. Output in $OUT.
#   OUT=/tmp/out bash bench/smoke/gpu_session6.sh
set -u
OUT=${OUT:-/tmp/session6-out}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
L=build/cli/layerplan
{
  date -u; nvidia-smi -L; nvidia-smi --query-gpu=memory.total,memory.used --format=csv
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAYERPLAN_WERROR=ON > "$OUT/configure.log" 2>&1 &&
    cmake --build build -j "$(nproc)" > "$OUT/build.log" 2>&1 && echo "build OK" || { echo "build FAILED"; tail -40 "$OUT/build.log"; }
  echo "===== ctest -L gpu"
  ctest --test-dir build -L gpu --output-on-failure 2>&1 | tail -25
  echo "===== smoke --memory, Llama-3.1-8B tp 2 pp 2 (rank 0)"
  $L compile --config fixtures/models/llama3_8b.json --rules fixtures/rules/good_tp2_pp2.yaml --gpu-memory 141GiB -o "$OUT/llama8b_tp2_pp2.json" 2>&1 | tail -12
  timeout 300 $L smoke --manifest "$OUT/llama8b_tp2_pp2.json" --memory --rank 0 --json "$OUT/memory_llama8b_rank0.json" 2>&1 | tail -30; echo "exit ${PIPESTATUS[0]}"
  if [ "$(nvidia-smi -L | wc -l)" -lt 2 ]; then echo "one GPU: the 2-rank runs need two"; else
  echo "===== smoke --vllm-args 'vllm serve llama3_8b -tp 2', single process"
  timeout 180 $L smoke --vllm-args "vllm serve fixtures/models/llama3_8b.json -tp 2" --json "$OUT/vllm_args_single.json" 2>&1 | tail -12; echo "exit ${PIPESTATUS[0]}"
  echo "===== the same under mpirun -np 2 with --gpus-per-node 2 (host check)"
  timeout 180 mpirun -np 2 $L smoke --vllm-args "vllm serve fixtures/models/llama3_8b.json -tp 2" --gpus-per-node 2 --json "$OUT/vllm_args_mpirun.json" 2>&1 | tail -12; echo "exit ${PIPESTATUS[0]}"
  echo "===== DeepSeek-V3 -tp 2 -dp 1 (MoE: vLLM's ep set with EP off), mpirun -np 2"
  timeout 180 mpirun -np 2 $L smoke --vllm-args "vllm serve fixtures/models/deepseek_v3.json -tp 2" --json "$OUT/deepseek_tp2_mpirun.json" 2>&1 | grep -E "group set|membership|moe|attention|PASS|FAIL|error" | head -30; echo "exit ${PIPESTATUS[0]}"
  echo "===== DeepSeek-V3 -tp 1 -dp 2 -ep (MoE dispatch/combine over dp), mpirun -np 2"
  timeout 180 mpirun -np 2 $L smoke --vllm-args "vllm serve fixtures/models/deepseek_v3.json -dp 2 -ep" --json "$OUT/deepseek_dp2_ep_mpirun.json" 2>&1 | grep -E "group set|membership|moe|attention|PASS|FAIL|error" | head -30; echo "exit ${PIPESTATUS[0]}"
  fi
} > "$OUT/session6.log" 2>&1
tail -c 11000 "$OUT/session6.log"
