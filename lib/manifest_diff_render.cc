// The three renderings of a ManifestDiff: text, Markdown and JSON.
#include <fmt/format.h>

#include "lib/manifest.h"
#include "lib/manifest_diff.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

// Values longer than this are cut in text and Markdown (JSON has them whole).
constexpr std::size_t kMaxShown = 200;
// Both values on one line ("a -> b") while they fit in this many characters together.
constexpr std::size_t kMaxInline = 90;

bool printable(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Cuts `s` to at most `max` bytes on a UTF-8 character boundary, marking the cut.
std::string cut(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + fmt::format("… ({} more bytes)", s.size() - end);
}

// A value for people: strings as they are when printable (JSON-quoted otherwise, so a newline
// in a rule name cannot start a line of its own), anything else as compact JSON.
std::string shown(const std::optional<ojson>& v) {
  if (!v) return "(absent)";
  if (v->is_string() && printable(v->get<std::string>()))
    return cut(v->get<std::string>(), kMaxShown);
  return cut(v->dump(-1, ' ', false, ojson::error_handler_t::replace), kMaxShown);
}

std::string presence_text(LayerPresence p) {
  return p == LayerPresence::kOnlyA ? "only in A" : p == LayerPresence::kOnlyB ? "only in B" : "";
}

std::string kind_text(const LayerRangeDiff& d) {
  return d.flavor.empty() ? d.kind : d.kind + " " + d.flavor;
}

std::string verdict(const ManifestDiff& diff) {
  if (diff.same()) return diff.context.empty() ? "same plan" : "same plan (inputs differ)";
  return fmt::format("plans differ: {}", fmt::join(diff.differing(), ", "));
}

void text_change(std::string& out, const std::string& indent, const FieldChange& c) {
  std::string a = shown(c.a), b = shown(c.b);
  std::string field = c.field.empty() ? "" : cut(c.field, kMaxShown) + ":";
  if (a.size() + b.size() <= kMaxInline) {
    out += indent + field + (field.empty() ? "" : " ") + a + " -> " + b + "\n";
  } else {
    out += indent + (field.empty() ? "" : field + "\n");
    std::string inner = field.empty() ? indent : indent + "  ";
    out += inner + "- " + a + "\n" + inner + "+ " + b + "\n";
  }
}

std::string layers_heading(const ManifestDiff& diff) {
  if (diff.layers_a == diff.layers_b) {
    return fmt::format("{} of {} layers differ", diff.layers_changed, diff.layers_b);
  }
  return fmt::format("{} layers differ (A has {}, B has {})", diff.layers_changed, diff.layers_a,
                     diff.layers_b);
}

void text_layers(std::string& out, const ManifestDiff& diff) {
  out += "layers: " + layers_heading(diff) + "\n";
  for (const auto& d : diff.layers) {
    std::string count = d.prefixes.size() == 1 ? "" : fmt::format(", {} layers", d.prefixes.size());
    std::string head =
        "  " + cut(d.label, kMaxShown) + " (" + cut(kind_text(d), kMaxShown) + count + ")";
    if (d.presence != LayerPresence::kBoth) {
      out += head + ": " + presence_text(d.presence) + "\n";
      continue;
    }
    out += head + ":\n";
    for (const auto& c : d.changes) text_change(out, "    ", c);
  }
}

// A Markdown code span that holds any text: pipes escaped for the table, newlines flattened,
// a fence longer than any run of backticks inside.
std::string code(const std::string& raw) {
  std::string text;
  for (char c : raw) {
    if (c == '|')
      text += "\\|";
    else if (c == '\n' || c == '\r')
      text += ' ';
    else
      text += c;
  }
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  bool pad = text.empty() || text.front() == '`' || text.back() == '`' || text.front() == ' ';
  return fence + (pad ? " " : "") + text + (pad ? " " : "") + fence;
}

std::string md_value(const std::optional<ojson>& v) { return v ? code(shown(v)) : "*absent*"; }

ojson change_json(const FieldChange& c) {
  ojson j;
  j["field"] = c.field;
  if (c.a) j["a"] = *c.a;
  if (c.b) j["b"] = *c.b;
  return j;
}

ojson changes_json(const std::vector<FieldChange>& changes) {
  ojson list = ojson::array();
  for (const auto& c : changes) list.push_back(change_json(c));
  return list;
}

}  // namespace

std::string render_diff_text(const ManifestDiff& diff, const DiffNames& names) {
  std::string out = "--- A: " + shown(ojson(names.a)) + "\n+++ B: " + shown(ojson(names.b)) + "\n";
  for (std::size_t i = 0; i <= diff.sections.size(); ++i) {
    if (i == diff.layers_at && !diff.layers.empty()) text_layers(out, diff);
    if (i == diff.sections.size()) break;
    const SectionDiff& s = diff.sections[i];
    if (s.changes.size() == 1 && s.changes.front().field.empty()) {
      text_change(out, "", FieldChange{s.name, s.changes.front().a, s.changes.front().b});
      continue;
    }
    out += cut(s.name, kMaxShown) + ":\n";
    for (const auto& c : s.changes) text_change(out, "  ", c);
  }
  if (!diff.context.empty()) {
    out += "context (where the manifests came from; not part of the plan):\n";
    for (const auto& c : diff.context) text_change(out, "  ", c);
  }
  return out + verdict(diff) + "\n";
}

std::string render_diff_markdown(const ManifestDiff& diff, const DiffNames& names) {
  std::string out = "### layerplan diff: " + code(names.a) + " → " + code(names.b) + "\n\n";
  out += diff.same() ? "**" + verdict(diff) + ".**\n" : "**plans differ**: " + [&] {
    std::vector<std::string> parts;
    for (const auto& n : diff.differing()) parts.push_back(code(n));
    return fmt::format("{}", fmt::join(parts, ", "));
  }() + "\n";
  if (!diff.sections.empty()) {
    out += "\n| section | field | A | B |\n| --- | --- | --- | --- |\n";
    for (const SectionDiff& s : diff.sections) {
      for (const auto& c : s.changes) {
        out += "| " + code(s.name) + " | " + (c.field.empty() ? "" : code(c.field)) + " | " +
               md_value(c.a) + " | " + md_value(c.b) + " |\n";
      }
    }
  }
  if (!diff.layers.empty()) {
    out += "\n" + layers_heading(diff) +
           ":\n\n| layers | kind | field | A | B |\n| --- | --- | --- | --- | --- |\n";
    for (const auto& d : diff.layers) {
      std::string head =
          code(d.label) +
          (d.prefixes.size() == 1 ? "" : fmt::format(" ({} layers)", d.prefixes.size())) + " | " +
          code(kind_text(d)) + " | ";
      if (d.presence != LayerPresence::kBoth) {
        out += "| " + head + "*" + presence_text(d.presence) + "* | | |\n";
        continue;
      }
      for (const auto& c : d.changes) {
        out += "| " + head + code(c.field) + " | " + md_value(c.a) + " | " + md_value(c.b) + " |\n";
        head = " | | ";
      }
    }
  }
  if (!diff.context.empty()) {
    out +=
        "\nContext (where the manifests came from; not part of the plan):\n\n"
        "| field | A | B |\n| --- | --- | --- |\n";
    for (const auto& c : diff.context) {
      out += "| " + code(c.field) + " | " + md_value(c.a) + " | " + md_value(c.b) + " |\n";
    }
  }
  return out;
}

ojson diff_json(const ManifestDiff& diff, const DiffNames& names, std::string_view version) {
  ojson j;
  j["tool"] = "layerplan";
  j["version"] = std::string(version);
  j["a"] = names.a;
  j["b"] = names.b;
  j["same"] = diff.same();
  j["differences"] = diff.differing();
  ojson sections = ojson::object();
  for (const auto& s : diff.sections) sections[s.name] = changes_json(s.changes);
  j["sections"] = std::move(sections);
  ojson layers;
  layers["count_a"] = diff.layers_a;
  layers["count_b"] = diff.layers_b;
  layers["changed"] = diff.layers_changed;
  ojson ranges = ojson::array();
  for (const auto& d : diff.layers) {
    ojson r;
    r["label"] = d.label;
    r["kind"] = d.kind;
    r["flavor"] = d.flavor.empty() ? ojson(nullptr) : ojson(d.flavor);
    r["count"] = d.prefixes.size();
    r["presence"] = d.presence == LayerPresence::kBoth    ? "both"
                    : d.presence == LayerPresence::kOnlyA ? "only_a"
                                                          : "only_b";
    r["prefixes"] = d.prefixes;
    r["changes"] = changes_json(d.changes);
    ranges.push_back(std::move(r));
  }
  layers["ranges"] = std::move(ranges);
  j["layers"] = std::move(layers);
  j["context"] = changes_json(diff.context);
  return j;
}

}  // namespace layerplan
