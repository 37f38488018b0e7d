// CUDA runtime and NCCL entry points, loaded at run time with dlopen so that a layerplan binary
// built with the NCCL backend still runs (check, compile, smoke --backend mpi) where neither
// library is installed. Compiled only when cuda_runtime_api.h and nccl.h were found.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <string>
#include <variant>

namespace layerplan::smoke {

#define LAYERPLAN_CUDA_FUNCTIONS(X) \
  X(cudaGetDeviceCount)             \
  X(cudaSetDevice)                  \
  X(cudaFree)                       \
  X(cudaMemcpyAsync)                \
  X(cudaStreamCreateWithFlags)      \
  X(cudaStreamDestroy)              \
  X(cudaStreamQuery)                \
  X(cudaEventRecord)                \
  X(cudaEventElapsedTime)           \
  X(cudaEventDestroy)               \
  X(cudaDeviceGetPCIBusId)          \
  X(cudaGetDeviceProperties)        \
  X(cudaRuntimeGetVersion)          \
  X(cudaDriverGetVersion)           \
  X(cudaGetErrorString)             \
  X(cudaMemGetInfo)

// Functions that cuda_runtime_api.h also overloads for C++: named with their C signature.
using CudaMallocFn = cudaError_t (*)(void**, size_t);
using CudaEventCreateFn = cudaError_t (*)(cudaEvent_t*);
#define LAYERPLAN_CUDA_OVERLOADED(X) \
  X(cudaMalloc, CudaMallocFn)        \
  X(cudaEventCreate, CudaEventCreateFn)

#define LAYERPLAN_NCCL_FUNCTIONS(X) \
  X(ncclGetVersion)                 \
  X(ncclGetUniqueId)                \
  X(ncclCommInitRankConfig)         \
  X(ncclCommSplit)                  \
  X(ncclCommGetAsyncError)          \
  X(ncclCommAbort)                  \
  X(ncclGetErrorString)             \
  X(ncclGetLastError)               \
  X(ncclGroupStart)                 \
  X(ncclGroupEnd)                   \
  X(ncclAllReduce)                  \
  X(ncclAllGather)                  \
  X(ncclReduceScatter)              \
  X(ncclSend)                       \
  X(ncclRecv)

#define LAYERPLAN_API_FIELD(name) decltype(&::name) name = nullptr;
#define LAYERPLAN_API_TYPED_FIELD(name, type) type name = nullptr;

struct CudaApi {
  LAYERPLAN_CUDA_FUNCTIONS(LAYERPLAN_API_FIELD)
  LAYERPLAN_CUDA_OVERLOADED(LAYERPLAN_API_TYPED_FIELD)
};

struct NcclApi {
  LAYERPLAN_NCCL_FUNCTIONS(LAYERPLAN_API_FIELD)
};

#undef LAYERPLAN_API_FIELD
#undef LAYERPLAN_API_TYPED_FIELD

struct GpuLibraries {
  CudaApi cuda;
  NcclApi nccl;
  std::string cuda_path;  // what dlopen was given
  std::string nccl_path;
};

// Loads libcudart (LAYERPLAN_LIBCUDART, libcudart.so.13, libcudart.so, libcudart.so.12, then the
// CUDA library folder found at build time) and libnccl (LAYERPLAN_LIBNCCL, libnccl.so.2,
// libnccl.so). The libraries stay loaded for the life of the process. On failure, says what was
// tried.
[[nodiscard]] std::variant<GpuLibraries, std::string> load_gpu_libraries();

// "2.28.9" from NCCL's version code.
[[nodiscard]] std::string nccl_version_text(int code);

}  // namespace layerplan::smoke
