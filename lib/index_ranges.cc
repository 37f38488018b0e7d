#include "lib/index_ranges.h"

#include <fmt/format.h>

namespace layerplan {

std::string index_ranges(const std::vector<int>& v) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (j > i) {
      parts.push_back(fmt::format("{}-{}", v[i], v[j]));
      i = j + 1;
      continue;
    }
    std::size_t k = i + 1;
    if (k < v.size()) {
      int step = v[k] - v[i];
      while (k + 1 < v.size() && v[k + 1] - v[k] == step) ++k;
      // Leave the start of a consecutive run to that run.
      if (k + 1 < v.size() && v[k + 1] == v[k] + 1) --k;
    }
    if (k < v.size() && k >= i + 2) {
      parts.push_back(fmt::format("{}-{} step {}", v[i], v[k], v[i + 1] - v[i]));
      i = k + 1;
      continue;
    }
    parts.push_back(std::to_string(v[i]));
    ++i;
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

}  // namespace layerplan
