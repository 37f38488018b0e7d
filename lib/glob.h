// Glob patterns on layer prefixes: `*` any run of characters (dots included), `?` one
// character, `[abc]` / `[a-z]` / `[!abc]` a class. A pattern matches the whole prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace layerplan {

// Why a pattern is malformed, or nullopt when it is fine.
[[nodiscard]] std::optional<std::string> glob_error(std::string_view pattern);
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace layerplan
