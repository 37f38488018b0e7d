// The NCCL backend's entry points. When the build found no CUDA/NCCL headers they still exist and
// say that the backend was not built (exit 4).
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "smoke/transport.h"

namespace layerplan::smoke {

[[nodiscard]] bool nccl_backend_built();

// How many CUDA devices this process sees, or why it cannot use any (libraries missing, no
// driver, no device).
[[nodiscard]] std::variant<int, std::string> visible_gpus();

// An NCCL transport driving global ranks `ranks` on CUDA devices `devices` (same length), with a
// world communicator of `world_size` ranks whose unique id process 0 sends through `coordinator`.
[[nodiscard]] std::variant<std::unique_ptr<Transport>, Failure> make_nccl_transport(
    const std::vector<int>& ranks, const std::vector<int>& devices, int world_size,
    Coordinator& coordinator, double timeout_s);

}  // namespace layerplan::smoke
