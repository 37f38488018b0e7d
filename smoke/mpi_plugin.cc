// The entry point of layerplan-mpi.so (smoke/mpi_plugin.h).
#include "smoke/mpi_plugin.h"

extern "C" __attribute__((visibility("default"))) const layerplan::smoke::MpiPlugin*
layerplan_mpi_plugin_v1() {
  using namespace layerplan::smoke;
  static const MpiPlugin kPlugin{&mpi_library_name, &start_mpi, &mpi_node_rank,
                                 &make_mpi_transport};
  return &kPlugin;
}
