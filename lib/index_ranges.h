// Layer indices as short text: "0-3,5,8-20 step 2" (used by the plan table, the HTML report and
// `layerplan diff`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace layerplan {

// Consecutive runs as a-b, and runs of three or more with a larger step (alternating and periodic
// layer patterns) as "a-b step k", every k-th index from a to b. `v` is ascending.
[[nodiscard]] std::string index_ranges(const std::vector<int>& v);

// What the notation means, for a line under a table that uses it.
inline constexpr std::string_view kIndexRangesLegend =
    "{a-b}: layers a to b; {a-b step k}: every k-th layer from a to b";

}  // namespace layerplan
