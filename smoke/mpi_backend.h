// MPI: the launch path for one rank per process (mpirun, srun) and the CPU backend that runs the
// same membership and data checks without GPUs. Built only when MPI is found; otherwise these
// functions say so.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "smoke/transport.h"

namespace layerplan::smoke {

[[nodiscard]] bool mpi_built();
[[nodiscard]] std::string mpi_library_name();  // "Open MPI", or why there is none

// Initialises MPI unless it already is, and coordinates over MPI_COMM_WORLD. The coordinator
// finalises MPI on destruction if it initialised it.
[[nodiscard]] std::variant<std::unique_ptr<Coordinator>, std::string> start_mpi();

// The rank of this process among the processes of its node (MPI_COMM_TYPE_SHARED).
[[nodiscard]] int mpi_node_rank(Coordinator& coordinator);

// The CPU backend: one slot (this process's rank) per process.
[[nodiscard]] std::variant<std::unique_ptr<Transport>, Failure> make_mpi_transport(
    Coordinator& coordinator, double timeout_s);

}  // namespace layerplan::smoke
