// The MPI path as a plugin: mpi_backend.cc is built into its own shared object
// (layerplan-mpi.so, linked to MPI) and the layerplan binary loads it only when a smoke run needs
// MPI (smoke/mpi_loader.cc), so check, compile, explain and layers run where Open MPI is not
// installed. The plugin hands out this table; it is built with the binary, so C++ types may cross.
#pragma once

#include "smoke/mpi_backend.h"

namespace layerplan::smoke {

struct MpiPlugin {
  std::string (*library_name)();
  std::variant<std::unique_ptr<Coordinator>, std::string> (*start)();
  int (*node_rank)(Coordinator&);
  std::variant<std::unique_ptr<Transport>, Failure> (*make_transport)(Coordinator&, double);
};

inline constexpr const char* kMpiPluginSymbol = "layerplan_mpi_plugin_v1";
inline constexpr const char* kMpiPluginFile = "layerplan-mpi.so";

}  // namespace layerplan::smoke

extern "C" const layerplan::smoke::MpiPlugin* layerplan_mpi_plugin_v1();
