// How this process was launched (base/rank.h: alone, or as one rank of an MPI job), and the
// command line that would launch it, for messages.
#pragma once

#include <string>

#include "base/rank.h"

namespace layerplan::smoke {

// The command line that would launch `world_size` ranks, for messages.
[[nodiscard]] std::string launch_hint(int world_size, const std::string& backend);

}  // namespace layerplan::smoke
