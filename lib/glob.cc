#include "lib/glob.h"

#include <vector>

namespace layerplan {
namespace {

// Matches one class starting at pattern[p] == '['; sets `end` past the closing ']'.
bool class_match(std::string_view pattern, std::size_t p, char c, std::size_t& end) {
  std::size_t i = p + 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      char hi = pattern[i + 2];
      if (lo <= c && c <= hi) matched = true;
      i += 3;
    } else {
      if (lo == c) matched = true;
      ++i;
    }
  }
  end = i + 1;
  return matched != negate;
}

}  // namespace

std::optional<std::string> glob_error(std::string_view pattern) {
  if (pattern.empty()) return "the pattern is empty";
  if (pattern.size() > kMaxGlobBytes) {
    return "it is " + std::to_string(pattern.size()) + " bytes long, more than the limit of " +
           std::to_string(kMaxGlobBytes);
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '[') continue;
    std::size_t j = i + 1;
    if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
    if (j < pattern.size() && pattern[j] == ']') ++j;
    while (j < pattern.size() && pattern[j] != ']') ++j;
    if (j >= pattern.size()) return "'[' at position " + std::to_string(i + 1) + " is never closed";
    i = j;
  }
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        while (p + 1 < pattern.size() && pattern[p + 1] == '*') ++p;  // "**" is "*"
        star = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t end = 0;
        if (class_match(pattern, p, text[t], end)) {
          p = end;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string glob_compact(std::string_view pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '[') {  // copy a class verbatim, as glob_error delimits it
      std::size_t j = i + 1;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      out.append(pattern.substr(i, j + 1 - i));
      i = j;
      continue;
    }
    if (pattern[i] == '*' && !out.empty() && out.back() == '*' && i > 0 && pattern[i - 1] == '*') {
      continue;
    }
    out += pattern[i];
  }
  return out;
}

}  // namespace layerplan
