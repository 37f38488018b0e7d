#include "cli/tables.h"

#include <map>

#include <fmt/format.h>

#include "lib/engine/vllm_layout.h"
#include "lib/index_ranges.h"
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

std::string render(const std::vector<std::string>& header, const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> table;
  table.push_back(header);
  for (const auto& r : rows) {
    std::string prefix = r.shape;
    if (!r.indices.empty()) {
      std::string idx = r.indices.size() == 1 ? std::to_string(r.indices[0])
                                               : "{" + index_ranges(r.indices) + "}";
      std::size_t at = prefix.find("{}");
      if (at != std::string::npos) prefix.replace(at, 2, idx);
    }
    std::vector<std::string> line{prefix};
    line.insert(line.end(), r.cells.begin(), r.cells.end());
    table.push_back(std::move(line));
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& line : table)
    for (std::size_t i = 0; i < line.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], line[i].size());
  std::string out;
  for (std::size_t n = 0; n < table.size(); ++n) {
    std::string text;
    for (std::size_t i = 0; i < table[n].size(); ++i) {
      text += i + 1 == table[n].size() ? table[n][i] : fmt::format("{:<{}}  ", table[n][i], width[i]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
    if (n == 0) out += std::string(text.size(), '-') + "\n";
  }
  return out;
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
  std::vector<Row> rows;
  for (std::size_t i = 0; i < c.plans.size(); ++i) {
    const LayerPlan& p = c.plans[i];
    const Layer& l = *p.layer;
    Row row;
    row.shape = all_layers ? l.prefix : prefix_shape(l, "{}");
    if (!all_layers && l.index) row.indices.push_back(*l.index);
    std::string rule = p.fallback() ? "global" : fmt::format("#{} L{}", p.rule,
                                                             c.rules->rules[static_cast<std::size_t>(p.rule)].location.line);
    auto group = [](const nlohmann::ordered_json& g) { return g.is_null() ? std::string("-") : g.get<std::string>(); };
    auto plan = c.engine->layer_plan(p, c.axes);
    row.cells = {std::string(kind_name(l.kind)) + (l.mtp ? " (mtp)" : ""),
                 l.kind == LayerKind::kAttention ? std::string(flavor_name(l.flavor)) : "-",
                 rule,
                 fmt::format("{} {}", p.plan.tp_size.value, group(plan["tp_group"])),
                 std::to_string(p.plan.dcp_size.value),
                 std::to_string(p.plan.ep_size.value),
                 memory_cell(c, i),
                 compact(c.engine->per_rank(p, c.axes))};
    rows.push_back(std::move(row));
  }
  return render({"layer", "kind", "flavor", "rule", "tp (group)", "dcp", "ep", "weights/rank (kv B/tok)", "per rank"},
                fold(std::move(rows), all_layers));
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
  return render({"layer", "kind", "flavor", "shape"}, fold(std::move(rows), all_layers));
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
