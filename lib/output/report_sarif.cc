#include <fmt/format.h>

#include <cctype>

#include "lib/output/formats.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

std::string_view level_of(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

// Locations count bytes; SARIF counts characters (columnKind unicodeCodePoints).
int code_point_column(const Location& l, int byte_column) {
  std::string_view line = l.file->line_text(l.line);
  int column = 1;
  for (std::size_t i = 0; i + 1 < static_cast<std::size_t>(byte_column) && i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++column;
  }
  if (static_cast<std::size_t>(byte_column) > line.size() + 1) {
    column += byte_column - static_cast<int>(line.size()) - 1;
  }
  return column;
}

ojson physical_location(const Location& l) {
  ojson p;
  p["artifactLocation"] = {{"uri", sarif_uri(l.file->path)}};
  if (l.line > 0) {
    ojson region;
    region["startLine"] = l.line;
    if (l.column > 0) {
      region["startColumn"] = code_point_column(l, l.column);
      region["endColumn"] = code_point_column(l, l.end_column());
    }
    p["region"] = std::move(region);
  }
  return p;
}

ojson rules_catalogue() {
  ojson rules = ojson::array();
  for (const auto& info : diagnostic_codes()) {
    ojson rule;
    rule["id"] = info.code;
    rule["shortDescription"] = {{"text", info.summary}};
    rule["help"] = {
        {"text", fmt::format("{}. Silence it for a run with `layerplan check --ignore {}`, or on "
                             "one rule with `# layerplan: ignore={}` on its line.",
                             info.summary, info.code, info.code)}};
    rule["defaultConfiguration"] = {{"level", level_of(info.severity)}};
    rules.push_back(std::move(rule));
  }
  return rules;
}

int rule_index(std::string_view code) {
  const auto& codes = diagnostic_codes();
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes[i].code == code) return static_cast<int>(i);
  }
  return -1;
}

ojson result_of(const Diagnostic& d, const FileReport& file, const RenderOptions& options) {
  Severity s = options.werror && d.severity == Severity::kWarning ? Severity::kError : d.severity;
  std::string text = d.message;
  ojson related = ojson::array();
  for (const auto& note : d.notes) {
    if (note.location.file) {
      ojson r;
      r["id"] = related.size();
      r["physicalLocation"] = physical_location(note.location);
      r["message"] = {{"text", note.message}};
      related.push_back(std::move(r));
    } else {
      text += "\n" + note.message;  // a note without a place stays with the message
    }
  }
  ojson r;
  r["ruleId"] = d.code;
  if (int index = rule_index(d.code); index >= 0) r["ruleIndex"] = index;
  r["level"] = level_of(s);
  r["message"] = {{"text", text}};
  // Code scanning needs a place for every result: one without is put on the rules file.
  ojson where;
  if (d.location.file) {
    where["physicalLocation"] = physical_location(d.location);
  } else if (file.path != "-") {
    where["physicalLocation"] = {{"artifactLocation", {{"uri", sarif_uri(file.path)}}}};
  }
  r["locations"] = where.is_null() ? ojson::array() : ojson::array({where});
  if (!related.empty()) r["relatedLocations"] = std::move(related);
  ojson properties;
  properties["layers"] = d.subjects;
  if (!d.valid_values.empty()) properties["valid_values"] = d.valid_values;
  properties["rules_file"] = file.path;
  r["properties"] = std::move(properties);
  return r;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

}  // namespace

std::string sarif_uri(std::string_view path) {
  std::string out;
  if (!path.empty() && path.front() == '/') out = "file://";
  while (path.size() > 2 && path.substr(0, 2) == "./") path.remove_prefix(2);
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    out += unreserved(c) ? std::string(1, ch) : fmt::format("%{:02X}", c);
  }
  return out;
}

ojson report_sarif(const BatchReport& report, const RenderOptions& options,
                   std::string_view version) {
  ojson driver;
  driver["name"] = kToolName;
  driver["version"] = version;
  driver["semanticVersion"] = version;
  driver["informationUri"] = kToolUri;
  driver["rules"] = rules_catalogue();
  ojson results = ojson::array();
  for (const auto& file : report.files) {
    for (const auto& d : file.diagnostics) results.push_back(result_of(d, file, options));
  }
  ojson run;
  run["tool"] = {{"driver", std::move(driver)}};
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = std::move(results);
  ojson sarif;
  sarif["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  sarif["version"] = "2.1.0";
  sarif["runs"] = ojson::array({std::move(run)});
  return sarif;
}

}  // namespace layerplan
