// Glob patterns on layer prefixes: `*` any run of characters (dots included), `?` one
// character, `[abc]` / `[a-z]` / `[!abc]` a class. A pattern matches the whole prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace layerplan {

// Longest pattern accepted: every rule's pattern is matched against every layer prefix.
inline constexpr std::size_t kMaxGlobBytes = 256;

// Why a pattern is malformed (or longer than kMaxGlobBytes), or nullopt when it is fine.
[[nodiscard]] std::optional<std::string> glob_error(std::string_view pattern);
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text);
// The same pattern with each run of `*` (outside classes) made one: it matches the same texts,
// and faster (a pattern is matched against every layer of a model).
[[nodiscard]] std::string glob_compact(std::string_view pattern);

}  // namespace layerplan
