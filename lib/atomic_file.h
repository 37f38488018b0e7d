// All-or-nothing output: write to a temporary file in the destination's directory, then rename.
// A failed write leaves any existing file untouched and no temporary behind.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace layerplan {

// Returns an error message, or nullopt on success.
[[nodiscard]] std::optional<std::string> write_file_atomically(const std::string& path,
                                                               const std::string& contents);

// The same, with the contents produced piece by piece: `produce` hands each piece to `write`
// and returns false when `write` did (the write error is reported then).
using ChunkSink = std::function<bool(std::string_view)>;
[[nodiscard]] std::optional<std::string> write_file_atomically(
    const std::string& path, const std::function<bool(const ChunkSink& write)>& produce);

}  // namespace layerplan
