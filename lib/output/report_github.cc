#include <fmt/format.h>

#include <cstdint>

#include "lib/output/formats.h"

namespace layerplan {
namespace {

// FNV-1a: the token that switches workflow commands back on after a file's log depends on the
// whole log, so text in the log cannot name it in advance.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string_view command_of(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "notice";
  }
  return "error";
}

std::string annotation(const Diagnostic& d, Severity s) {
  std::vector<std::string> props;
  if (d.location.file) {
    props.push_back("file=" + github_escape_property(d.location.file->path));
    if (d.location.line > 0) {
      props.push_back(fmt::format("line={}", d.location.line));
      if (d.location.column > 0) {
        props.push_back(fmt::format("col={}", d.location.column));
        // GitHub's endColumn is the last column of the annotation, inclusive.
        props.push_back(fmt::format("endColumn={}", d.location.end_column() - 1));
      }
    }
  }
  props.push_back("title=" +
                  github_escape_property(fmt::format("{} [{}]", severity_name(s), d.code)));
  std::string message = d.message;
  for (const auto& note : d.notes) {
    std::string where = note.location.to_string();
    message += fmt::format("\nnote: {}{}", where.empty() ? "" : where + ": ", note.message);
  }
  return fmt::format("::{} {}::{}\n", command_of(s), fmt::join(props, ","),
                     github_escape_message(message));
}

}  // namespace

std::string github_escape_message(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string github_escape_property(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : github_escape_message(text)) {
    switch (c) {
      case ':':
        out += "%3A";
        break;
      case ',':
        out += "%2C";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_report_github(const BatchReport& report, const RenderOptions& options) {
  RenderOptions plain = options;
  plain.color = false;
  std::string out;
  // The full report of each file, folded in the log; commands inside it are switched off, since
  // it quotes the files (a line of a hostile file could otherwise read "::error ...").
  for (const auto& file : report.files) {
    std::string text = render_text(file.diagnostics, plain);
    std::string counts = render_summary(file.diagnostics, plain);
    if (!counts.empty()) text += counts + " generated.\n";
    std::string token = fmt::format("layerplan-{:016x}", fnv1a(text));
    out += fmt::format("::group::{}\n",
                       github_escape_message(fmt::format("layerplan check {}: {}", file.path,
                                                         verdict_name(file.verdict))));
    out += fmt::format("::stop-commands::{}\n{}::{}::\n", token, text, token);
    out += "::endgroup::\n";
  }
  // Annotations, within GitHub's limit per level and step.
  for (Severity level : {Severity::kError, Severity::kWarning, Severity::kNote}) {
    std::vector<const Diagnostic*> shown;
    for (const auto& file : report.files) {
      for (const auto& d : file.diagnostics) {
        Severity s =
            options.werror && d.severity == Severity::kWarning ? Severity::kError : d.severity;
        if (s == level) shown.push_back(&d);
      }
    }
    auto limit = static_cast<std::size_t>(kGithubAnnotationLimit);
    std::size_t direct = shown.size() <= limit ? shown.size() : limit - 1;
    for (std::size_t i = 0; i < direct; ++i) out += annotation(*shown[i], level);
    if (direct < shown.size()) {
      std::size_t rest = shown.size() - direct;
      out += fmt::format("::{} title={}::{}\n", command_of(level),
                         github_escape_property(fmt::format("layerplan: {} more", rest)),
                         github_escape_message(fmt::format(
                             "{} more {}s not shown as annotations (GitHub shows {} per level "
                             "and step); see the groups in the log",
                             rest, severity_name(level), kGithubAnnotationLimit)));
    }
  }
  out += report.summary_line() + "\n";
  return out;
}

}  // namespace layerplan
