// The rank grid: one SVG view per group set, each group in its own colour, groups that span nodes
// outlined. Rows are nodes when they are known, else tp-major blocks of equal (dp, pp, pcp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "lib/report_html.h"

namespace layerplan {
namespace {

constexpr int kCell = 34, kCellH = 22, kGap = 3, kLabel = 78, kMaxCols = 16;

struct GridRow {
  std::string label;
  std::vector<std::int64_t> ranks;
};

// Which ranks are drawn: [0, count), and how the page describes them.
struct Window {
  std::int64_t count = 0;
  std::string scope;  // empty when the whole world is drawn
};

Window window_of(const ReportModel& m, std::int64_t limit) {
  std::int64_t stage = m.tp * m.pcp, replica = stage * m.pp;
  if (m.world_size <= limit) return {m.world_size, ""};
  if (replica <= limit) {
    return {replica, fmt::format("DP replica 0 in full (ranks 0-{}: its {} pipeline stage{} of "
                                 "tp*pcp = {} ranks)",
                                 replica - 1, m.pp, m.pp == 1 ? "" : "s", stage)};
  }
  if (stage <= limit) {
    return {stage, fmt::format("pipeline stage 0 of DP replica 0 in full (ranks 0-{})", stage - 1)};
  }
  return {limit, fmt::format("the first {} ranks of pipeline stage 0 of DP replica 0", limit)};
}

// Node index of every rank (-1: unknown), and the node names.
struct Nodes {
  std::vector<std::int64_t> of;  // empty when nodes are unknown
  std::vector<std::string> names;
  std::string source;
};

Nodes nodes_of(const ReportModel& m, const ReportOptions& o) {
  Nodes n;
  if (o.gpus_per_node > 0) {
    n.of.resize(static_cast<std::size_t>(m.world_size));
    for (std::int64_t r = 0; r < m.world_size; ++r)
      n.of[static_cast<std::size_t>(r)] = r / o.gpus_per_node;
    for (std::int64_t k = 0; k * o.gpus_per_node < m.world_size; ++k)
      n.names.push_back(fmt::format("node {}", k));
    n.source = fmt::format("--gpus-per-node {}", o.gpus_per_node);
  } else if (!m.nodes.empty()) {
    n.of.assign(static_cast<std::size_t>(m.world_size), -1);
    for (std::size_t k = 0; k < m.nodes.size(); ++k) {
      for (std::int64_t r : m.nodes[k].ranks)
        n.of[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(k);
      n.names.push_back(m.nodes[k].name);
    }
    n.source = "the manifest's nodes";
  }
  return n;
}

std::vector<GridRow> rows_of(const ReportModel& m, const ReportOptions& o, const Nodes& nodes,
                             std::int64_t count) {
  std::vector<GridRow> rows;
  if (o.gpus_per_node > 0) {
    for (std::int64_t start = 0; start < count; start += o.gpus_per_node) {
      GridRow row{fmt::format("node {}", start / o.gpus_per_node), {}};
      for (std::int64_t r = start; r < std::min(count, start + o.gpus_per_node); ++r)
        row.ranks.push_back(r);
      rows.push_back(std::move(row));
    }
    return rows;
  }
  if (!nodes.of.empty()) {
    for (const auto& node : m.nodes) {
      GridRow row{node.name, {}};
      for (std::int64_t r : node.ranks) {
        if (r < count) row.ranks.push_back(r);
      }
      if (!row.ranks.empty()) rows.push_back(std::move(row));
    }
    GridRow rest{"no node", {}};
    for (std::int64_t r = 0; r < count; ++r) {
      if (nodes.of[static_cast<std::size_t>(r)] < 0) rest.ranks.push_back(r);
    }
    if (!rest.ranks.empty()) rows.push_back(std::move(rest));
    return rows;
  }
  for (std::int64_t start = 0, block = 0; start < count; start += m.tp, ++block) {
    std::int64_t c = block % m.pcp, p = block / m.pcp % m.pp, d = block / (m.pcp * m.pp);
    std::vector<std::string> parts;
    if (m.dp > 1) parts.push_back(fmt::format("dp {}", d));
    if (m.pp > 1) parts.push_back(fmt::format("pp {}", p));
    if (m.pcp > 1) parts.push_back(fmt::format("pcp {}", c));
    GridRow row{parts.empty() ? std::string("ranks") : fmt::format("{}", fmt::join(parts, " ")),
                {}};
    for (std::int64_t r = start; r < std::min(count, start + m.tp); ++r) row.ranks.push_back(r);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string colour(std::size_t group) {
  int hue = static_cast<int>(std::fmod(static_cast<double>(group) * 137.508, 360.0));
  int light =
      68 + static_cast<int>(group / 7 % 3) * 6;  // neighbours of equal hue differ in lightness
  return fmt::format("hsl({},70%,{}%)", hue, light);
}

std::string members_text(const std::vector<std::int64_t>& g) {
  if (g.size() <= 32) return fmt::format("{}", fmt::join(g, ", "));
  std::vector<std::int64_t> head(g.begin(), g.begin() + 8), tail(g.end() - 4, g.end());
  return fmt::format("{}, ..., {} ({} ranks)", fmt::join(head, ", "), fmt::join(tail, ", "),
                     g.size());
}

std::string node_list(const std::set<std::int64_t>& ids, const Nodes& nodes) {
  std::vector<std::string> names;
  for (std::int64_t id : ids) {
    if (names.size() == 6) {
      names.push_back(fmt::format("... ({} nodes)", ids.size()));
      break;
    }
    names.push_back(id < 0 ? "no node" : nodes.names[static_cast<std::size_t>(id)]);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

// One view: the grid coloured by the groups of `set`, and the list of the drawn groups.
std::string view(const std::string& name, const std::string& attrs, const std::string& title,
                 const ReportGroupSet& set, const std::vector<GridRow>& rows, const Nodes& nodes,
                 std::int64_t count) {
  std::vector<std::int64_t> group_of(static_cast<std::size_t>(count), -1), pos_of(group_of);
  std::vector<std::int64_t> drawn;  // groups with a member in the window, in order
  if (set.layout) {
    // Each drawn rank's group and position from the formula: no group is listed in full.
    for (std::int64_t r = 0; r < count; ++r) {
      auto [g, k] = set.layout->locate(r);
      group_of[static_cast<std::size_t>(r)] = g;
      pos_of[static_cast<std::size_t>(r)] = k;
      drawn.push_back(g);
    }
    std::sort(drawn.begin(), drawn.end());
    drawn.erase(std::unique(drawn.begin(), drawn.end()), drawn.end());
  } else {
    for (std::size_t g = 0; g < set.groups.size(); ++g) {
      bool any = false;
      for (std::size_t k = 0; k < set.groups[g].size(); ++k) {
        std::int64_t r = set.groups[g][k];
        if (r < count) {
          group_of[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(g);
          pos_of[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(k);
          any = true;
        }
      }
      if (any) drawn.push_back(static_cast<std::int64_t>(g));
    }
  }
  // The members of the drawn groups (each rank is in one group of a set, so at most the world),
  // kept for the first kMaxListedGroups, and which nodes each spans.
  std::vector<std::vector<std::int64_t>> listed;
  std::vector<bool> spans(drawn.size(), false);
  std::vector<std::set<std::int64_t>> span_nodes(drawn.size());
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    if (i >= kMaxListedGroups && nodes.of.empty()) break;
    std::vector<std::int64_t> members = set.members(drawn[i]);
    if (!nodes.of.empty()) {
      for (std::int64_t r : members) span_nodes[i].insert(nodes.of[static_cast<std::size_t>(r)]);
      spans[i] = span_nodes[i].size() > 1;
    }
    if (i < kMaxListedGroups) listed.push_back(std::move(members));
  }
  // Whether group g (drawn) spans nodes, by its rank in `drawn`.
  auto spans_of = [&](std::int64_t g) {
    auto at = std::lower_bound(drawn.begin(), drawn.end(), g);
    return at != drawn.end() && *at == g && spans[static_cast<std::size_t>(at - drawn.begin())];
  };
  std::size_t lines = 0;
  for (const auto& row : rows) lines += (row.ranks.size() + kMaxCols - 1) / kMaxCols;
  std::size_t cols = 1;
  for (const auto& row : rows)
    cols = std::max(cols, std::min<std::size_t>(row.ranks.size(), kMaxCols));
  int width = kLabel + static_cast<int>(cols) * (kCell + kGap);
  int height = static_cast<int>(lines) * (kCellH + kGap) + static_cast<int>(rows.size()) * 4;
  std::size_t spanning = static_cast<std::size_t>(std::count(spans.begin(), spans.end(), true));

  std::string out = fmt::format("<section class=\"view\" data-view=\"{}\"{}>\n<h3>{}</h3>\n",
                                html_escape(name), attrs, title);
  if (spanning > 0) {
    out += fmt::format("<p class=\"spans\">{} of {} drawn group{} span nodes (outlined)</p>\n",
                       spanning, drawn.size(), drawn.size() == 1 ? "" : "s");
  }
  out += fmt::format(
      "<svg class=\"grid\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{} groups\">\n",
      width, height, width, height, html_escape(name));
  int y = 0;
  for (const auto& row : rows) {
    std::string label = row.label.size() > 12 ? row.label.substr(0, 11) + "~" : row.label;
    out +=
        fmt::format("<text class=\"rl\" x=\"0\" y=\"{}\">{}</text>\n", y + 15, html_escape(label));
    for (std::size_t i = 0; i < row.ranks.size(); ++i) {
      if (i > 0 && i % kMaxCols == 0) y += kCellH + kGap;
      std::int64_t r = row.ranks[i];
      std::int64_t g = group_of[static_cast<std::size_t>(r)];
      int x = kLabel + static_cast<int>(i % kMaxCols) * (kCell + kGap);
      bool x_node = g >= 0 && spans_of(g);
      out += fmt::format(
          "<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
          "data-rank=\"{}\" data-group=\"{}\" data-pos=\"{}\"/>"
          "<text x=\"{}\" y=\"{}\">{}</text>\n",
          x_node ? " class=\"x\"" : "", x, y, kCell, kCellH,
          g < 0 ? std::string("#eee") : colour(static_cast<std::size_t>(g)), r, g,
          pos_of[static_cast<std::size_t>(r)], x + kCell / 2, y + 15, r);
    }
    y += kCellH + kGap + 4;
  }
  out += "</svg>\n<table class=\"groups\"><tr><th>group</th><th>ranks, in rank-in-group order</th>";
  out += nodes.of.empty() ? "</tr>\n" : "<th>nodes</th></tr>\n";
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const auto g = static_cast<std::size_t>(drawn[i]);
    out += fmt::format(
        "<tr data-group=\"{}\"{}><td><span class=\"sw\" "
        "style=\"background:{}\"></span>{}</td><td>{}</td>",
        g, spans[i] ? " class=\"x\"" : "", colour(g), g, members_text(listed[i]));
    if (!nodes.of.empty())
      out += fmt::format("<td>{}</td>", html_escape(node_list(span_nodes[i], nodes)));
    out += "</tr>\n";
  }
  out += "</table>\n";
  if (drawn.size() > kMaxListedGroups) {
    out += fmt::format("<p class=\"more\">and {} more drawn groups</p>\n",
                       drawn.size() - kMaxListedGroups);
  }
  return out + "</section>\n";
}

}  // namespace

std::string render_rank_grid(const ReportModel& m, const ReportOptions& o) {
  Window w = window_of(m, std::max<std::int64_t>(1, o.max_drawn_ranks));
  Nodes nodes = nodes_of(m, o);
  std::vector<GridRow> rows = rows_of(m, o, nodes, w.count);
  std::string out = "<section id=\"groups\">\n<h2>Rank groups</h2>\n<p>";
  out +=
      nodes.of.empty()
          ? fmt::format(
                "Rows are tp-major blocks of {} rank{} (equal dp, pp and pcp); node "
                "boundaries are unknown (<code>--gpus-per-node N</code> draws them).",
                m.tp, m.tp == 1 ? "" : "s")
          : fmt::format(
                "Rows are nodes ({} node{}, from {}); groups that span nodes are "
                "outlined.",
                nodes.names.size(), nodes.names.size() == 1 ? "" : "s", html_escape(nodes.source));
  out += " Hover over a GPU to see its rank in every set.</p>\n";
  if (!w.scope.empty()) {
    out += fmt::format(
        "<p class=\"partial\" data-drawn=\"{}\">World size {} is too large to draw every rank: "
        "drawn "
        "is {}. Rank r = ((d*pp + p)*pcp + c)*tp + t (d &lt; {}, p &lt; {}, c &lt; {}, t &lt; {}); "
        "every other pipeline stage and DP replica has the same groups, shifted by {} ranks per "
        "stage and {} per replica. Groups that reach beyond the drawn ranks (those of pp, dp, ep "
        "and world) are coloured where they meet them and listed, abridged, below each view; group "
        "counts are those of the whole world.</p>\n",
        w.count, m.world_size, html_escape(w.scope), m.dp, m.pp, m.pcp, m.tp, m.tp * m.pcp,
        m.tp * m.pcp * m.pp);
  }
  out += "<div class=\"views\">\n";
  if (!nodes.of.empty()) {
    std::vector<std::vector<std::int64_t>> node_groups;
    for (std::size_t k = 0; k < nodes.names.size(); ++k) node_groups.emplace_back();
    for (std::int64_t r = 0; r < m.world_size; ++r) {
      std::int64_t n = nodes.of[static_cast<std::size_t>(r)];
      if (n >= 0) node_groups[static_cast<std::size_t>(n)].push_back(r);
    }
    node_groups.erase(std::remove_if(node_groups.begin(), node_groups.end(),
                                     [](const auto& g) { return g.empty(); }),
                      node_groups.end());
    const std::size_t node_count = node_groups.size();
    out +=
        view("nodes", " data-nodes=\"1\"", fmt::format("nodes <small>{}</small>", node_count),
             ReportGroupSet{"nodes", std::move(node_groups), std::nullopt}, rows, Nodes{}, w.count);
  }
  for (const auto& set : m.sets) {
    const std::int64_t largest = set.largest();
    const std::int64_t groups = set.group_count();
    std::string name = html_escape(set.name);
    if (largest <= 1) {
      out += fmt::format(
          "<section class=\"view single\" data-view=\"{0}\" data-set=\"{0}\" "
          "data-singleton=\"{1}\">"
          "<h3>{0}</h3><p>{1} groups of one rank each (vLLM creates them without a communicator): "
          "not drawn.</p></section>\n",
          name, groups);
      continue;
    }
    std::string sizes = fmt::format("{} group{}", groups, groups == 1 ? "" : "s");
    sizes +=
        set.uniform() ? fmt::format(" of {}", largest) : fmt::format(", up to {} ranks", largest);
    out += view(set.name, fmt::format(" data-set=\"{}\"", name),
                fmt::format("{} <small>{}</small>", name, sizes), set, rows, nodes, w.count);
  }
  return out + "</div>\n</section>\n";
}

}  // namespace layerplan
