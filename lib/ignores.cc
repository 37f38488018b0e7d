#include "lib/ignores.h"

#include <fmt/format.h>

#include <algorithm>

namespace layerplan {
namespace {

constexpr std::string_view kMarker = "layerplan:";
constexpr std::string_view kIgnore = "ignore=";

bool blank(char c) { return c == ' ' || c == '\t'; }

std::size_t indent_of(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && blank(line[i])) ++i;
  return i;
}

bool blank_or_comment(std::string_view line) {
  std::size_t i = indent_of(line);
  return i == line.size() || line[i] == '#';
}

}  // namespace

std::string unknown_code_message(std::string_view code) {
  if (find_code(code) != nullptr) return "";
  std::vector<std::string> known;
  for (const auto& info : diagnostic_codes()) known.emplace_back(info.code);
  std::string hint = closest_match(code, known);
  return hint.empty()
             ? fmt::format("'{}' is not a diagnostic code of layerplan", code)
             : fmt::format("'{}' is not a diagnostic code of layerplan; did you mean '{}'?", code,
                           hint);
}

std::vector<InlineIgnore> inline_ignores(const SourcePtr& file, Diagnostics& diags) {
  std::vector<InlineIgnore> out;
  int lines = static_cast<int>(file->line_starts.size());
  for (int n = 1; n <= lines; ++n) {
    std::string_view line = file->line_text(n);
    std::size_t hash = line.find('#');
    while (hash != std::string_view::npos) {
      std::size_t i = hash + 1;
      while (i < line.size() && blank(line[i])) ++i;
      if (line.substr(i, kMarker.size()) == kMarker) break;
      hash = line.find('#', hash + 1);
    }
    if (hash == std::string_view::npos) continue;
    std::size_t i = line.find(kMarker, hash) + kMarker.size();
    while (i < line.size() && blank(line[i])) ++i;
    Location where{file, n, static_cast<int>(hash) + 1};
    if (line.substr(i, kIgnore.size()) != kIgnore) {
      diags.report(
          make_warning("ignore-unknown-code", where,
                       "a '# layerplan:' comment must read '# layerplan: ignore=CODE[,CODE...]'"));
      continue;
    }
    i += kIgnore.size();
    std::size_t end = i;
    while (end < line.size() && !blank(line[end])) ++end;
    InlineIgnore ignore;
    ignore.location = where;
    std::string_view list = line.substr(i, end - i);
    while (!list.empty()) {
      std::size_t comma = list.find(',');
      std::string_view code = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (code.empty()) continue;
      if (std::string why = unknown_code_message(code); !why.empty()) {
        diags.report(
            make_warning("ignore-unknown-code",
                         Location{file, n, static_cast<int>(code.data() - line.data()) + 1}, why));
        continue;
      }
      ignore.codes.emplace_back(code);
    }
    if (ignore.codes.empty()) continue;
    // The lines below that are indented deeper than this line's key (or its '-') belong to it.
    std::size_t depth = indent_of(line);
    if (blank_or_comment(line)) depth = std::string_view::npos;  // a comment alone covers its line
    ignore.first_line = ignore.last_line = n;
    for (int m = n + 1; depth != std::string_view::npos && m <= lines; ++m) {
      std::string_view next = file->line_text(m);
      if (blank_or_comment(next)) continue;
      if (indent_of(next) <= depth) break;
      ignore.last_line = m;
    }
    out.push_back(std::move(ignore));
  }
  return out;
}

std::vector<Diagnostic> apply_ignores(std::vector<Diagnostic> diagnostics,
                                      const std::vector<std::string>& codes, const SourcePtr& file,
                                      const std::vector<InlineIgnore>& inline_list) {
  auto ignored = [&](const Diagnostic& d) {
    if (std::find(codes.begin(), codes.end(), d.code) != codes.end()) return true;
    if (!file || d.location.file != file) return false;
    return std::any_of(inline_list.begin(), inline_list.end(), [&](const InlineIgnore& i) {
      return d.location.line >= i.first_line && d.location.line <= i.last_line &&
             std::find(i.codes.begin(), i.codes.end(), d.code) != i.codes.end();
    });
  };
  diagnostics.erase(std::remove_if(diagnostics.begin(), diagnostics.end(), ignored),
                    diagnostics.end());
  return diagnostics;
}

}  // namespace layerplan
