// Layer indices as short text: "0-3,5,8,10..20" (used by the plan table and the HTML report).
#pragma once

#include <string>
#include <vector>

namespace layerplan {

// Consecutive runs as a-b, and runs of three or more with a larger step (alternating and periodic
// layer patterns) as a,a+step..b. `v` is ascending.
[[nodiscard]] std::string index_ranges(const std::vector<int>& v);

}  // namespace layerplan
