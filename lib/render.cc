#include "lib/render.h"

#include <fmt/format.h>

namespace layerplan {
namespace {

constexpr const char* kReset = "\033[0m";
constexpr const char* kBold = "\033[1m";

const char* color_of(Severity s) {
  switch (s) {
    case Severity::kError:
      return "\033[1;31m";
    case Severity::kWarning:
      return "\033[1;35m";
    case Severity::kNote:
      return "\033[1;36m";
  }
  return "";
}

Severity shown(Severity s, const RenderOptions& o) {
  return (o.werror && s == Severity::kWarning) ? Severity::kError : s;
}

std::string subjects_line(const Diagnostic& d, const RenderOptions& o) {
  if (d.subjects.size() <= 1) return d.subjects.empty() ? "" : fmt::format("in {}", d.subjects[0]);
  std::vector<std::string> shown_subjects;
  std::size_t n = d.subjects.size();
  if (n <= o.max_subjects) {
    shown_subjects = d.subjects;
  } else {
    for (std::size_t i = 0; i + 1 < o.max_subjects; ++i) shown_subjects.push_back(d.subjects[i]);
    shown_subjects.push_back(
        fmt::format("... and {} more, last {}", n - o.max_subjects + 1, d.subjects.back()));
  }
  return fmt::format("in {} layers: {}", n, fmt::join(shown_subjects, ", "));
}

// Cuts a long source line down to a window around column `col` (0-based) and moves `col`
// into it; returns how many bytes were cut from the front. A minified or hostile file can have
// a line of megabytes. Cuts fall on UTF-8 character boundaries.
std::size_t clip_line(std::string_view& line, std::size_t& col) {
  constexpr std::size_t kWidth = 160;
  if (line.size() <= kWidth) return 0;
  auto boundary = [&](std::size_t i) {
    while (i > 0 && i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) --i;
    return i;
  };
  std::size_t begin = col > kWidth / 2 ? boundary(std::min(col - kWidth / 2, line.size())) : 0;
  std::size_t end = boundary(std::min(begin + kWidth, line.size()));
  if (end < line.size() && end <= begin) end = line.size();
  line = line.substr(begin, end - begin);
  col -= std::min(col, begin);
  return begin;
}

}  // namespace

std::string render_text(const std::vector<Diagnostic>& diagnostics, const RenderOptions& o) {
  std::string out;
  auto paint = [&](const char* code, std::string_view text) {
    return o.color ? fmt::format("{}{}{}", code, text, kReset) : std::string(text);
  };
  for (const auto& d : diagnostics) {
    Severity s = shown(d.severity, o);
    std::string where = d.location.to_string();
    out += fmt::format("{}{}: {} [{}]\n", where.empty() ? "" : paint(kBold, where + ": "),
                       paint(color_of(s), severity_name(s)), d.message, d.code);
    if (d.location.file && d.location.line > 0) {
      std::string_view full = d.location.file->line_text(d.location.line);
      std::string_view line = full;
      auto col = static_cast<std::size_t>(std::max(d.location.column, 1) - 1);
      std::size_t skipped = clip_line(line, col);
      std::string shown = fmt::format("{}{}{}", skipped > 0 ? "..." : "", line,
                                      skipped + line.size() < full.size() ? "..." : "");
      if (skipped > 0) col += 3;
      std::string number = std::to_string(d.location.line);
      out += fmt::format(" {} | {}\n", number, shown);
      if (d.location.column > 0) {
        std::string pad;
        for (std::size_t i = 0; i < col && i < shown.size(); ++i) {
          auto c = static_cast<unsigned char>(shown[i]);
          if ((c & 0xC0) != 0x80) pad += c == '\t' ? '\t' : ' ';  // one per character
        }
        std::size_t width = col < shown.size() ? token_width(shown, col) : 1;
        std::string caret = "^" + std::string(width - 1, '~');
        out += fmt::format(" {} | {}{}\n", std::string(number.size(), ' '), pad,
                           paint(color_of(s), caret));
      }
    }
    for (const auto& note : d.notes) {
      std::string nw = note.location.to_string();
      out += fmt::format("{}{}: {}\n", nw.empty() ? "" : paint(kBold, nw + ": "),
                         paint(color_of(Severity::kNote), "note"), note.message);
    }
    std::string subjects = subjects_line(d, o);
    if (!subjects.empty())
      out += fmt::format("{}: {}\n", paint(color_of(Severity::kNote), "note"), subjects);
  }
  return out;
}

std::string render_summary(const std::vector<Diagnostic>& diagnostics, const RenderOptions& o) {
  int errors = 0, warnings = 0, notes = 0;
  for (const auto& d : diagnostics) {
    switch (shown(d.severity, o)) {
      case Severity::kError:
        ++errors;
        break;
      case Severity::kWarning:
        ++warnings;
        break;
      case Severity::kNote:
        ++notes;
        break;
    }
  }
  std::vector<std::string> parts;
  auto add = [&](int n, const char* word) {
    if (n > 0) parts.push_back(fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"));
  };
  add(errors, "error");
  add(warnings, "warning");
  add(notes, "note");
  return fmt::format("{}", fmt::join(parts, ", "));
}

nlohmann::ordered_json diagnostics_json(const std::vector<Diagnostic>& diagnostics,
                                        const RenderOptions& o) {
  auto location = [](const Location& l) {
    nlohmann::ordered_json j;
    j["file"] = l.file ? nlohmann::ordered_json(l.file->path) : nlohmann::ordered_json(nullptr);
    j["line"] = l.line > 0 ? nlohmann::ordered_json(l.line) : nlohmann::ordered_json(nullptr);
    j["column"] = l.column > 0 ? nlohmann::ordered_json(l.column) : nlohmann::ordered_json(nullptr);
    int end = l.end_column();
    j["end_column"] = end > 0 ? nlohmann::ordered_json(end) : nlohmann::ordered_json(nullptr);
    return j;
  };
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& d : diagnostics) {
    nlohmann::ordered_json j;
    j["code"] = d.code;
    j["severity"] = severity_name(shown(d.severity, o));
    j["location"] = location(d.location);
    j["message"] = d.message;
    nlohmann::ordered_json notes = nlohmann::ordered_json::array();
    for (const auto& n : d.notes)
      notes.push_back({{"location", location(n.location)}, {"message", n.message}});
    j["notes"] = std::move(notes);
    j["layers"] = d.subjects;
    j["valid_values"] = d.valid_values;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace layerplan
