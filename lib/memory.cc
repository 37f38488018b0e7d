#include "lib/memory.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace layerplan {

std::optional<std::int64_t> parse_byte_size(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0 || i > 20) return std::nullopt;
  std::string number = text.substr(0, i);
  if (number.find('.') != number.rfind('.')) return std::nullopt;
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  long double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kib" || unit == "k")
    scale = 1024.0L;
  else if (unit == "mib" || unit == "m")
    scale = 1024.0L * 1024;
  else if (unit == "gib" || unit == "g")
    scale = 1024.0L * 1024 * 1024;
  else if (unit == "tib" || unit == "t")
    scale = 1024.0L * 1024 * 1024 * 1024;
  else if (unit == "kb")
    scale = 1e3L;
  else if (unit == "mb")
    scale = 1e6L;
  else if (unit == "gb")
    scale = 1e9L;
  else if (unit == "tb")
    scale = 1e12L;
  else
    return std::nullopt;
  long double value = std::strtold(number.c_str(), nullptr) * scale;
  if (!(value >= 1) || value > 1e18L) return std::nullopt;
  return static_cast<std::int64_t>(std::floor(value));
}

std::string format_bytes(std::int64_t bytes) {
  long double v = static_cast<long double>(bytes);
  const char* unit = "B";
  for (const char* u : {"KiB", "MiB", "GiB", "TiB"}) {
    if (std::fabs(static_cast<double>(v)) < 1024.0L) break;
    v /= 1024.0L;
    unit = u;
  }
  if (unit[0] == 'B') return fmt::format("{} B", bytes);
  return fmt::format("{:.2f} {}", static_cast<double>(v), unit);
}

}  // namespace layerplan
