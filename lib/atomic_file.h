// All-or-nothing output: write to a temporary file in the destination's directory, then rename.
// A failed write leaves any existing file untouched and no temporary behind.
#pragma once

#include <optional>
#include <string>

namespace layerplan {

// Returns an error message, or nullopt on success.
[[nodiscard]] std::optional<std::string> write_file_atomically(const std::string& path,
                                                               const std::string& contents);

}  // namespace layerplan
