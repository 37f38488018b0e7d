#include "smoke/cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace layerplan::smoke {
namespace {

#define LAYERPLAN_STR2(x) #x
#define LAYERPLAN_STR(x) LAYERPLAN_STR2(x)  // expands macros first (e.g. _v2 / _ptsz renames)

struct Opened {
  void* handle = nullptr;
  std::string path;
};

// The first library dlopen finds: $env_var when set, then `names`, then `in_build_dir` in the
// CUDA library directory found at build time. What failed is added to `tried`.
Opened open_first(const char* env_var, std::vector<std::string> names, const char* in_build_dir,
                  std::string& tried) {
  if (const char* forced = std::getenv(env_var); forced != nullptr && *forced != '\0') {
    names.insert(names.begin(), forced);
  }
#ifdef LAYERPLAN_SMOKE_CUDA_LIBDIR
  names.push_back(std::string(LAYERPLAN_SMOKE_CUDA_LIBDIR) + "/" + in_build_dir);
#else
  (void)in_build_dir;
#endif
  for (const auto& name : names) {
    dlerror();
    if (void* h = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return {h, name};
    const char* why = dlerror();
    tried += "\n  " + name + ": " + (why ? why : "not found");
  }
  return {};
}

template <typename T>
bool bind(void* handle, const char* symbol, T& into, std::string& missing) {
  into = reinterpret_cast<T>(dlsym(handle, symbol));
  if (into == nullptr) missing += std::string(missing.empty() ? "" : ", ") + symbol;
  return into != nullptr;
}

}  // namespace

std::string nccl_version_text(int code) {
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch; older ones major*1000 + minor*100 + patch.
  const int major = code >= 10000 ? code / 10000 : code / 1000;
  const int minor = code >= 10000 ? code / 100 % 100 : code / 100 % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(code % 100);
}

std::variant<GpuLibraries, std::string> load_gpu_libraries() {
  GpuLibraries libs;
  std::string tried;
  const Opened cuda =
      open_first("LAYERPLAN_LIBCUDART", {"libcudart.so.13", "libcudart.so", "libcudart.so.12"},
                 "libcudart.so", tried);
  if (cuda.handle == nullptr) {
    return "cannot load the CUDA runtime (set LAYERPLAN_LIBCUDART to its path); tried:" + tried;
  }
  const Opened nccl =
      open_first("LAYERPLAN_LIBNCCL", {"libnccl.so.2", "libnccl.so"}, "libnccl.so.2", tried);
  if (nccl.handle == nullptr) {
    return "cannot load NCCL (set LAYERPLAN_LIBNCCL to its path); tried:" + tried;
  }
  libs.cuda_path = cuda.path;
  libs.nccl_path = nccl.path;
  std::string missing;
#define LAYERPLAN_BIND_CUDA(name) bind(cuda.handle, LAYERPLAN_STR(name), libs.cuda.name, missing);
#define LAYERPLAN_BIND_NCCL(name) bind(nccl.handle, LAYERPLAN_STR(name), libs.nccl.name, missing);
#define LAYERPLAN_BIND_TYPED(name, type) bind(cuda.handle, #name, libs.cuda.name, missing);
  LAYERPLAN_CUDA_FUNCTIONS(LAYERPLAN_BIND_CUDA)
  LAYERPLAN_CUDA_OVERLOADED(LAYERPLAN_BIND_TYPED)
  LAYERPLAN_NCCL_FUNCTIONS(LAYERPLAN_BIND_NCCL)
#undef LAYERPLAN_BIND_CUDA
#undef LAYERPLAN_BIND_NCCL
#undef LAYERPLAN_BIND_TYPED
  if (!missing.empty()) {
    return "the loaded CUDA runtime (" + cuda.path + ") or NCCL (" + nccl.path +
           ") lacks: " + missing + " (NCCL >= 2.18 is needed for ncclCommSplit)";
  }
  return libs;
}

}  // namespace layerplan::smoke
