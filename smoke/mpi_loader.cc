// The MPI functions of smoke/mpi_backend.h, answered by layerplan-mpi.so, loaded on first use
// from beside the executable, from ../lib/layerplan/ (installed), or from the build tree.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "smoke/mpi_plugin.h"

namespace layerplan::smoke {
namespace {

std::string executable_dir() {
  char path[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "";
  std::string p(path, static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
}

struct Loaded {
  const MpiPlugin* plugin = nullptr;
  std::string why;  // when plugin is null
};

const Loaded& loaded() {
  static const Loaded kLoaded = [] {
    Loaded l;
    std::string dir = executable_dir();
    std::vector<std::string> candidates = {dir + "/" + kMpiPluginFile,
                                           dir + "/../lib/layerplan/" + kMpiPluginFile};
#ifdef LAYERPLAN_MPI_PLUGIN_BUILD_PATH
    candidates.emplace_back(LAYERPLAN_MPI_PLUGIN_BUILD_PATH);
#endif
    std::string errors;
    for (const auto& path : candidates) {
      if (::access(path.c_str(), F_OK) != 0) continue;
      void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        const char* e = ::dlerror();
        errors += std::string("; ") + (e != nullptr ? e : path);
        continue;
      }
      using Entry = const MpiPlugin* (*)();
      auto entry = reinterpret_cast<Entry>(::dlsym(handle, kMpiPluginSymbol));
      if (entry != nullptr) {
        l.plugin = entry();
        return l;
      }
    }
    l.why = std::string("the MPI plugin ") + kMpiPluginFile +
            " could not be loaded (is Open MPI installed?)" + errors;
    return l;
  }();
  return kLoaded;
}

}  // namespace

bool mpi_built() { return loaded().plugin != nullptr; }

std::string mpi_library_name() {
  return loaded().plugin != nullptr ? loaded().plugin->library_name() : loaded().why;
}

std::variant<std::unique_ptr<Coordinator>, std::string> start_mpi() {
  if (loaded().plugin == nullptr) return loaded().why;
  return loaded().plugin->start();
}

int mpi_node_rank(Coordinator& coordinator) {
  return loaded().plugin != nullptr ? loaded().plugin->node_rank(coordinator) : 0;
}

std::variant<std::unique_ptr<Transport>, Failure> make_mpi_transport(Coordinator& coordinator,
                                                                     double timeout_s) {
  if (loaded().plugin == nullptr) return Failure{2, loaded().why, false};
  return loaded().plugin->make_transport(coordinator, timeout_s);
}

}  // namespace layerplan::smoke
