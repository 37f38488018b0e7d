#include "cli/tables.h"

#include <fmt/format.h>

#include <map>

#include "lib/engine/vllm_layout.h"
#include "lib/index_ranges.h"
#include "lib/layer_facts.h"
#include "lib/manifest.h"
#include "lib/memory.h"

namespace layerplan::cli {
namespace {

struct Row {
  std::string shape;               // prefix with {i} in place of the index
  std::vector<std::string> cells;  // everything after the prefix
  std::vector<int> indices;
};

// Folds the rows with equal shape and cells between two rows without an index (embedding,
// LM head) into the first of them, so interleaved layer patterns read as a few rows.
std::vector<Row> fold(std::vector<Row> rows, bool all_layers) {
  if (all_layers) return rows;
  std::vector<Row> out;
  std::map<std::string, std::size_t> open;  // key -> index in out of the row still growing
  for (auto& row : rows) {
    if (row.indices.empty()) {
      out.push_back(std::move(row));
      open.clear();
      continue;
    }
    std::string key = row.shape + "\x1f" + fmt::format("{}", fmt::join(row.cells, "\x1f"));
    auto it = open.find(key);
    if (it != open.end()) {
      out[it->second].indices.push_back(row.indices.front());
      continue;
    }
    open[key] = out.size();
    out.push_back(std::move(row));
  }
  return out;
}

// Tables stay within this width. A table whose rows fit is one line a row; otherwise its last
// `details` columns (the rule and the per-rank sizes, the shape) go on lines of their own under
// each row, "header: value", wrapped at spaces.
constexpr std::size_t kTableWidth = 120;
constexpr std::string_view kDetailIndent = "    ";
constexpr std::string_view kWrapIndent = "      ";

// `text` cut at spaces into lines of at most `width` (a word longer than that stands alone).
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines(1);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width)
      lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
    start = end + 1;
  }
  return lines;
}

// Display width: a UTF-8 character (a rule name may hold some) takes one column.
std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& text, std::size_t width) {
  std::size_t w = columns(text);
  return w >= width ? text : text + std::string(width - w, ' ');
}

std::string lay_out(const std::vector<std::vector<std::string>>& table, std::size_t shown) {
  std::vector<std::size_t> width(shown, 0);
  for (const auto& line : table)
    for (std::size_t i = 0; i < shown && i < line.size(); ++i)
      width[i] = std::max(width[i], columns(line[i]));
  std::string out;
  for (std::size_t n = 0; n < table.size(); ++n) {
    std::string text;
    for (std::size_t i = 0; i < shown && i < table[n].size(); ++i) {
      text += i + 1 == shown ? table[n][i] : pad(table[n][i], width[i]) + "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
    if (n == 0) out += std::string(std::min(columns(text), kTableWidth), '-') + "\n";
    if (n == 0 || shown == table[n].size()) continue;
    std::vector<std::string> details;
    for (std::size_t i = shown; i < table[n].size(); ++i) {
      details.push_back(table[0][i] + ": " + table[n][i]);
    }
    std::string joined = fmt::format("{}", fmt::join(details, "; "));
    std::vector<std::string> lines = wrap(joined, kTableWidth - kWrapIndent.size());
    for (std::size_t k = 0; k < lines.size(); ++k) {
      out += std::string(k == 0 ? kDetailIndent : kWrapIndent) + lines[k] + "\n";
    }
  }
  return out;
}

std::string render(const std::vector<std::string>& header, const std::vector<Row>& rows,
                   std::size_t details) {
  std::vector<std::vector<std::string>> table;
  table.push_back(header);
  bool folded = false;
  for (const auto& r : rows) {
    std::string prefix = r.shape;
    if (!r.indices.empty()) {
      std::string idx = r.indices.size() == 1 ? std::to_string(r.indices[0])
                                              : "{" + index_ranges(r.indices) + "}";
      folded = folded || r.indices.size() > 1;
      std::size_t at = prefix.find("{}");
      if (at != std::string::npos) prefix.replace(at, 2, idx);
    }
    std::vector<std::string> line{prefix};
    line.insert(line.end(), r.cells.begin(), r.cells.end());
    table.push_back(std::move(line));
  }
  std::string out = lay_out(table, header.size());
  bool fits = true;
  for (std::size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    fits = fits && columns(std::string_view(out).substr(at, end - at)) <= kTableWidth;
  }
  if (!fits) out = lay_out(table, header.size() - std::min(details, header.size() - 1));
  if (folded) out += std::string(kIndexRangesLegend) + "\n";
  return out;
}

// A rule as the table names it: "#0 (L10)", or "#0 experts (L10)" when it has a name (cut, and
// control characters shown as '?', so a name cannot break the table).
std::string rule_cell(const Rule& rule) {
  std::string name;
  for (char ch : rule.name) name += static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? '?' : ch;
  if (name.size() > 24) {
    std::size_t end = 23;
    while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
    name = name.substr(0, end) + "…";
  }
  return name.empty() ? fmt::format("#{} (L{})", rule.position, rule.location.line)
                      : fmt::format("#{} {} (L{})", rule.position, name, rule.location.line);
}

// "axes: tp=8 attn_tp=4 dcp=2 pcp=1 pp=1 dp=1 (world size 8)", as the manifest lists them.
std::string axes_line(const AxisValues& a) {
  std::string out = "axes:";
  for (const auto& [name, value] : axis_list(a)) out += fmt::format(" {}={}", name, value);
  return out + fmt::format(" (world size {})\n", a.world_size);
}

std::string compact(const nlohmann::ordered_json& j) {
  std::vector<std::string> parts;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    parts.push_back(fmt::format("{}={}", it.key(), v));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

// Weights one rank holds for the layer, and the KV bytes it writes per cached token.
std::string memory_cell(const Compilation& c, std::size_t i) {
  if (!c.memory || i >= c.memory->layers.size()) return "-";
  const LayerMemory& m = c.memory->layers[i];
  std::string out = m.shared ? "shared" : format_bytes(m.weight_bytes);
  if (m.kv_bytes_per_token > 0) out += fmt::format(" ({})", m.kv_bytes_per_token);
  return out;
}

}  // namespace

std::string plan_table(const Compilation& c, bool all_layers) {
  bool staged = c.axes.pp > 1;
  PlanFacts facts = plan_facts(*c.engine, *c.model, c.axes, c.plans, *c.layout);
  std::vector<Row> rows;
  for (std::size_t i = 0; i < facts.layers.size(); ++i) {
    const LayerFacts& f = facts.layers[i];
    const LayerPlan& p = *f.plan;
    const Layer& l = *p.layer;
    Row row;
    row.shape = all_layers ? l.prefix : prefix_shape(l, "{}");
    if (!all_layers && l.index) row.indices.push_back(*l.index);
    std::string rule =
        p.fallback() ? "global" : rule_cell(c.rules->rules[static_cast<std::size_t>(p.rule)]);
    row.cells = {std::string(kind_name(l.kind)) + (l.mtp ? " (mtp)" : ""),
                 l.kind == LayerKind::kAttention ? std::string(flavor_name(l.flavor)) : "-"};
    if (staged) row.cells.push_back(f.stage ? std::to_string(*f.stage) : "-");
    for (std::string cell : {fmt::format("{} {}", f.fields.tp_size,
                                         f.fields.tp_group.empty() ? "-" : f.fields.tp_group),
                             std::to_string(f.fields.dcp_size), std::to_string(f.fields.ep_size),
                             memory_cell(c, i), rule, per_rank_text(f.per_rank)}) {
      row.cells.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header = {"layer", "kind", "flavor"};
  if (staged) header.push_back("stage");
  for (const char* h : {"tp (group)", "dcp", "ep", "weights/rank (kv B/tok)", "rule", "per rank"}) {
    header.push_back(h);
  }
  return axes_line(c.axes) + render(header, fold(std::move(rows), all_layers), 2);
}

std::string layers_table(const Model& model, bool all_layers) {
  std::vector<Row> rows;
  for (const auto& l : model.layers) {
    Row row;
    row.shape = all_layers ? l.prefix : prefix_shape(l, "{}");
    if (!all_layers && l.index) row.indices.push_back(*l.index);
    row.cells = {std::string(kind_name(l.kind)) + (l.mtp ? " (mtp)" : ""),
                 l.kind == LayerKind::kAttention ? std::string(flavor_name(l.flavor)) : "-",
                 compact(layer_shape(l))};
    rows.push_back(std::move(row));
  }
  return render({"layer", "kind", "flavor", "shape"}, fold(std::move(rows), all_layers), 1);
}

std::string groups_table(const Layout& layout, std::size_t max_groups) {
  std::string out;
  for (const auto& set : layout.sets) {
    std::vector<std::string> shown;
    auto count = static_cast<std::size_t>(set.count());
    for (std::size_t i = 0; i < count && i < max_groups; ++i) {
      shown.push_back(fmt::format("[{}]", fmt::join(set.group(static_cast<std::int64_t>(i)), ",")));
    }
    if (count > max_groups) shown.push_back(fmt::format("... ({} groups)", count));
    out += fmt::format("{:<8} {}\n", set.name, fmt::join(shown, " "));
  }
  return out;
}

std::string nodes_table(const NodePlacement& placement) {
  std::string out = fmt::format("nodes ({} ranks a node, {}):\n", placement.ranks_per_node,
                                placement.derived_from);
  for (std::size_t n = 0; n < placement.nodes.size(); ++n) {
    const auto& ranks = placement.nodes[n];
    out += fmt::format("  node {}: ranks {}-{}\n", n, ranks.front(), ranks.back());
  }
  return out;
}

}  // namespace layerplan::cli
