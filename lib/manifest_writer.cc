// Writing manifests as JSON text: dump_json (numeric arrays on one line) and write_manifest,
// which streams the group lists from the layout's formulas. Declared in lib/manifest.h.
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lib/manifest.h"

namespace layerplan {

namespace {
using ojson = nlohmann::ordered_json;
}  // namespace

std::string dump_json(const ojson& value) {
  // Every string read from a file is checked to be UTF-8, but a path on the command line is not:
  // replace what is not, rather than let nlohmann throw.
  std::string text = value.dump(2, ' ', false, ojson::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {  // copy a string through untouched: "[1,2]" may be a rule's name
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      out.append(text, i, end + 1 - i);
      i = end;
      continue;
    }
    if (text[i] != '[') {
      out += text[i];
      continue;
    }
    // Find the matching ']' if everything in between is numbers, commas and white space.
    std::size_t j = i + 1;
    bool numeric = true;
    while (j < text.size() && text[j] != ']') {
      char c = text[j];
      if (!(c == ',' || c == ' ' || c == '\n' || c == '-' || c == '.' || (c >= '0' && c <= '9'))) {
        numeric = false;
        break;
      }
      ++j;
    }
    if (!numeric || j >= text.size()) {
      out += text[i];
      continue;
    }
    out += '[';
    bool first = true;
    std::string number;
    for (std::size_t k = i + 1; k <= j; ++k) {
      char c = text[k];
      if (c == ',' || k == j) {
        if (!number.empty()) {
          out += first ? "" : ", ";
          out += number;
          first = false;
          number.clear();
        }
      } else if (c != ' ' && c != '\n') {
        number += c;
      }
    }
    out += ']';
    i = j;
  }
  return out;
}

bool write_manifest(const ojson& manifest, const Layout& layout, const ChunkSink& write) {
  std::string text = dump_json(manifest) + "\n";
  const std::string key = "\n  \"groups\": null";  // the top-level key: two spaces in
  std::size_t at = text.find(key);
  if (at == std::string::npos) return write(text);
  at += key.size() - 4;
  if (!write(std::string_view(text).substr(0, at))) return false;
  fmt::memory_buffer buf;
  auto flush = [&] {
    bool ok = write(std::string_view(buf.data(), buf.size()));
    buf.clear();
    return ok;
  };
  buf.append(std::string_view("{"));
  for (std::size_t s = 0; s < layout.sets.size(); ++s) {
    const GroupSet& set = layout.sets[s];
    fmt::format_to(std::back_inserter(buf), "{}\n    {}: [", s ? "," : "", ojson(set.name).dump());
    std::int64_t count = set.count();
    // A one-step set is walked with an odometer over its digits; a longer one rank by rank.
    const GroupStep* step = set.steps.size() == 1 ? &set.steps.front() : nullptr;
    std::vector<std::int64_t> digits(step ? step->sizes.size() : 0, 0);
    std::int64_t index = 0;
    auto next = [&] {
      for (std::size_t k = digits.size(); k-- > 0;) {
        index += step->strides[k];
        if (++digits[k] < step->sizes[k]) return;
        index -= step->sizes[k] * step->strides[k];
        digits[k] = 0;
      }
    };
    for (std::int64_t g = 0; g < count; ++g) {
      buf.append(std::string_view(g ? ",\n      [" : "\n      ["));
      for (std::int64_t i = 0; i < set.group_size; ++i) {
        if (i) buf.append(std::string_view(", "));
        fmt::format_int number(step ? index : set.rank(g, i));
        buf.append(number.data(), number.data() + number.size());
        if (step) next();
      }
      buf.push_back(']');
      if (buf.size() > (1 << 16) && !flush()) return false;
    }
    buf.append(std::string_view(count ? "\n    ]" : "]"));
  }
  buf.append(std::string_view(layout.sets.empty() ? "}" : "\n  }"));
  if (!flush()) return false;
  return write(std::string_view(text).substr(at + 4));
}

}  // namespace layerplan
