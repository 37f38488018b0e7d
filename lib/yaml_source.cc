#include "lib/yaml_source.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_map>

namespace layerplan {
namespace {

// Counts nodes, following aliases, and stops at the limits.
bool within_limits(const SourcePtr& file, const YAML::Node& node, int depth, std::size_t& count,
                   const YamlLimits& limits, Diagnostics& diags) {
  if (++count > limits.max_nodes) {
    diags.report(make_error("yaml-limit", location_of(file, node),
                            fmt::format("the document expands to more than {} nodes (aliases "
                                        "included); refusing to read it",
                                        limits.max_nodes)));
    return false;
  }
  if (depth > limits.max_depth) {
    diags.report(
        make_error("yaml-limit", location_of(file, node),
                   fmt::format("the document nests deeper than {} levels", limits.max_depth)));
    return false;
  }
  if (node.IsScalar() && node.Scalar().size() > limits.max_scalar_bytes) {
    diags.report(make_error("yaml-limit", location_of(file, node),
                            fmt::format("a value of {} bytes is longer than the limit of {}",
                                        node.Scalar().size(), limits.max_scalar_bytes)));
    return false;
  }
  // The file is valid UTF-8, but an escape such as "\ud800" can still produce invalid bytes.
  if (node.IsScalar() && find_invalid_utf8(node.Scalar()) != std::string_view::npos) {
    diags.report(make_error("yaml-syntax", location_of(file, node),
                            "an escape in this string stands for no Unicode character (a lone "
                            "surrogate, or beyond U+10FFFF)"));
    return false;
  }
  if (node.IsSequence()) {
    for (const auto& child : node) {
      if (!within_limits(file, child, depth + 1, count, limits, diags)) return false;
    }
  } else if (node.IsMap()) {
    for (const auto& pair : node) {
      if (!within_limits(file, pair.first, depth + 1, count, limits, diags)) return false;
      if (!within_limits(file, pair.second, depth + 1, count, limits, diags)) return false;
    }
  }
  return true;
}

// The first tab in the indentation of a line up to `last_line` + 1 (yaml-cpp reports a tab's
// trouble on its line or the one before); line 0 when there is none.
Location indentation_tab(const SourcePtr& file, int last_line) {
  int lines = static_cast<int>(file->line_starts.size());
  int until = last_line > 0 ? std::min(last_line + 1, lines) : lines;
  for (int line = 1; line <= until; ++line) {
    std::string_view text = file->line_text(line);
    for (std::size_t i = 0;
         i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '-'); ++i) {
      if (text[i] == '\t') return Location{file, line, static_cast<int>(i) + 1};
    }
  }
  return Location{};
}

}  // namespace

Location location_of(const SourcePtr& file, const YAML::Node& node) {
  if (!node.IsDefined()) return Location{file, 0, 0};
  YAML::Mark mark = node.Mark();
  if (mark.line < 0) return Location{file, 0, 0};
  return Location{file, mark.line + 1, mark.column + 1};
}

std::optional<YAML::Node> load_yaml(const SourcePtr& file, Diagnostics& diags,
                                    const YamlLimits& limits) {
  if (std::size_t bad = find_invalid_utf8(file->text); bad != std::string_view::npos) {
    auto [line, column] = file->position_of(bad);
    diags.report(make_error("yaml-syntax", Location{file, line, column},
                            "the file is not valid UTF-8 text"));
    return std::nullopt;
  }
  // yaml-cpp takes NUL bytes near the start for UTF-16 or UTF-32 and transcodes the file, which
  // can produce invalid UTF-8 of its own; YAML text may not hold NUL anyway.
  if (std::size_t nul = file->text.find('\0'); nul != std::string::npos) {
    auto [line, column] = file->position_of(nul);
    diags.report(make_error("yaml-syntax", Location{file, line, column},
                            "the file holds a NUL byte; YAML must be UTF-8 text"));
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(file->text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp (0.7 and later) stops its recursive parser itself, before our own depth check.
    Location location{file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                      e.mark.column >= 0 ? e.mark.column + 1 : 0};
    diags.report(
        make_error("yaml-limit", location,
                   fmt::format("the document nests deeper than {} levels", limits.max_depth)));
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    Location location{file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                      e.mark.column >= 0 ? e.mark.column + 1 : 0};
    Diagnostic d = make_error("yaml-syntax", location, fmt::format("invalid YAML: {}", e.msg));
    if (Location tab = indentation_tab(file, location.line); tab.line > 0) {
      d.notes.push_back({tab,
                         "this line is indented with a tab; YAML allows only spaces in "
                         "indentation: replace the tab with spaces"});
    }
    diags.report(std::move(d));
    return std::nullopt;
  }
  std::size_t count = 0;
  if (!within_limits(file, root, 0, count, limits, diags)) return std::nullopt;
  return root;
}

std::string_view yaml_type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

std::vector<YamlEntry> map_entries(const SourcePtr& file, const YAML::Node& map,
                                   std::string_view context,
                                   const std::vector<std::string>& allowed, Diagnostics& diags) {
  std::vector<YamlEntry> entries;
  std::unordered_map<std::string, Location> seen;  // key -> where it was first given
  for (const auto& pair : map) {
    Location key_location = location_of(file, pair.first);
    if (!pair.first.IsScalar()) {
      diags.report(make_error("wrong-type", key_location,
                              fmt::format("keys of {} must be plain names", context)));
      continue;
    }
    std::string key = pair.first.Scalar();
    if (auto [it, first] = seen.try_emplace(key, key_location); !first) {
      Diagnostic d = make_error("duplicate-key", key_location,
                                fmt::format("'{}' appears twice in {}", key, context));
      d.notes.push_back({it->second, "first given here"});
      diags.report(std::move(d));
      continue;
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string hint = closest_match(key, allowed);
      Diagnostic d = make_error(
          "unknown-key", key_location,
          hint.empty()
              ? fmt::format("unknown key '{}' in {}", key, context)
              : fmt::format("unknown key '{}' in {}; did you mean '{}'?", key, context, hint));
      d.notes.push_back({{}, fmt::format("valid keys: {}", fmt::join(allowed, ", "))});
      diags.report(std::move(d));
      continue;
    }
    entries.push_back({key, pair.first, pair.second});
  }
  return entries;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view digits = text;
  if (digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> read_positive_int(const SourcePtr& file, const YAML::Node& node,
                                              std::string_view what, std::int64_t max,
                                              Diagnostics& diags) {
  Location location = location_of(file, node);
  if (!node.IsScalar()) {
    diags.report(make_error(
        "wrong-type", location,
        fmt::format("{} must be a positive integer, got {}", what, yaml_type_name(node))));
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  auto value = parse_integer(text);
  if (!value) {
    bool looks_numeric = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                           text[0] == '-' || text[0] == '+' || text[0] == '.');
    std::string why =
        looks_numeric ? (text.find_first_of(".eE") != std::string::npos ? "not an integer"
                                                                        : "out of the 64-bit range")
                      : "not a number";
    diags.report(
        make_error("invalid-value", location,
                   fmt::format("{} must be a positive integer, got '{}' ({})", what, text, why)));
    return std::nullopt;
  }
  if (*value < 1 || *value > max) {
    std::string range = max == std::numeric_limits<std::int64_t>::max()
                            ? std::string("a positive integer")
                            : fmt::format("between 1 and {}", max);
    diags.report(make_error("invalid-value", location,
                            fmt::format("{} must be {}, got {}", what, range, *value)));
    return std::nullopt;
  }
  return value;
}

}  // namespace layerplan
