#include "lib/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "lib/index_ranges.h"
#include "lib/model.h"
#include "lib/render.h"

namespace layerplan {
namespace {

// Runs before anything else on the page: any script error is recorded on <html data-js-errors>,
// where a test (or a person) can read it.
constexpr const char* kErrorCatcher =
    "window.layerplanErrors=[];window.addEventListener('error',function(e){"
    "window.layerplanErrors.push(String(e.message));document.documentElement.setAttribute("
    "'data-js-errors',window.layerplanErrors.join(' | '));});";

std::string value_of(const ReportFields& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

std::string fields_dl(const ReportFields& fields) {
  std::string out = "<dl>";
  for (const auto& [k, v] : fields)
    out += fmt::format("<dt>{}</dt><dd>{}</dd>", html_escape(k), html_escape(v));
  return out + "</dl>\n";
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, units[u]);
}

std::string bar(double value, double max) {
  double pct = max > 0 ? std::max(0.0, std::min(100.0, 100.0 * value / max)) : 0;
  return fmt::format("<span class=\"bar\"><span style=\"width:{:.1f}%\"></span></span>", pct);
}

std::string header(const ReportModel& m, const ReportOptions& o) {
  std::string arch = value_of(m.model, "architecture");
  std::string out = fmt::format("<header>\n<h1>layerplan report: {}</h1>\n", html_escape(arch));
  if (o.diagnostics) {
    std::string summary = render_summary(*o.diagnostics, RenderOptions{false, o.werror, 4});
    out += fmt::format("<p class=\"verdict {}\">VALID{}</p>\n", summary.empty() ? "ok" : "warn",
                       summary.empty() ? "" : ", with " + html_escape(summary));
  } else {
    out +=
        "<p class=\"verdict ok\">VALID <small>(layerplan writes a manifest only for a plan that "
        "checked clean; the manifest does not record the diagnostics)</small></p>\n";
  }
  out += "<div class=\"facts\">\n<div><h2>Model</h2>" + fields_dl(m.model) + "</div>\n";
  out += fmt::format("<div><h2>Axes</h2><p class=\"axes\"><b>world {}</b>", m.world_size);
  for (const auto& [k, v] : m.axes) out += fmt::format(" <span>{} {}</span>", html_escape(k), v);
  out += "</p>";
  if (!m.engine.empty()) out += "<h2>Engine</h2>" + fields_dl(m.engine);
  out += "</div>\n<div><h2>Inputs</h2>" + fields_dl(m.inputs);
  if (!m.generator.empty()) out += "<h2>Generator</h2>" + fields_dl(m.generator);
  return out + "</div>\n</div>\n</header>\n";
}

struct LayerRow {
  std::string shape;  // prefix with {} in place of the index
  std::vector<std::string> cells;
  std::vector<int> indices;
  const ReportLayer* first = nullptr;
};

std::string group_text(std::int64_t size, const std::string& group) {
  if (group.empty()) return std::to_string(size);
  return fmt::format("{} <small>on {}</small>", size, html_escape(group));
}

std::vector<std::string> layer_cells(const ReportLayer& l) {
  std::string rule =
      l.has_rule
          ? fmt::format("{}#{}, line {}",
                        l.rule_name.empty() ? "" : "<b>" + html_escape(l.rule_name) + "</b> ",
                        l.rule_position, l.rule_line)
          : std::string("<i>global plan</i> (no rule matched)");
  std::string per_rank;
  for (const auto& [k, v] : l.per_rank) {
    per_rank +=
        fmt::format("<span class=\"kv\">{} <b>{}</b></span> ", html_escape(k), html_escape(v));
  }
  std::string comms;
  for (const auto& c : l.comms) {
    comms += fmt::format("<div title=\"{}\">{} <small>on</small> {} <small>{}/token</small></div>",
                         html_escape(c.why), html_escape(c.op), html_escape(c.group),
                         c.elements_per_token);
  }
  return {html_escape(l.kind) + (l.mtp ? " <small>(mtp)</small>" : ""),
          l.flavor.empty() ? "-" : html_escape(l.flavor),
          std::to_string(l.stage),
          rule,
          group_text(l.tp_size, l.tp_group),
          group_text(l.dcp_size, l.dcp_group),
          group_text(l.ep_size, l.ep_group),
          per_rank,
          comms.empty() ? "-" : comms};
}

// Folds decoder layers with equal shape and cells between two rows without an index (embedding,
// LM head), as `compile` prints its table.
std::vector<LayerRow> folded_rows(const ReportModel& m) {
  std::vector<LayerRow> out;
  std::map<std::string, std::size_t> open;
  for (const auto& l : m.layers) {
    Layer layer;
    layer.prefix = l.prefix;
    if (l.index && *l.index <= 1000000) layer.index = static_cast<int>(*l.index);
    LayerRow row{prefix_shape(layer, "{}"), layer_cells(l), {}, &l};
    if (layer.index) row.indices.push_back(*layer.index);
    if (row.indices.empty() || row.shape == l.prefix) {
      out.push_back(std::move(row));
      open.clear();
      continue;
    }
    std::string key = row.shape + "\x1f" + fmt::format("{}", fmt::join(row.cells, "\x1f"));
    for (const auto& [k, v] : l.memory) key += fmt::format("\x1f{}={}", k, v);
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

std::string layers_section(const ReportModel& m) {
  bool memory = std::any_of(m.layers.begin(), m.layers.end(),
                            [](const auto& l) { return !l.memory.empty(); });
  std::map<std::string, double> max_of;
  for (const auto& l : m.layers) {
    for (const auto& [k, v] : l.memory) max_of[k] = std::max(max_of[k], v);
  }
  auto rows = folded_rows(m);
  std::string out = fmt::format(
      "<section id=\"layers\">\n<h2>Per-layer plan <small>{} layers in {} rows</small></h2>\n"
      "<table class=\"layers\"><tr><th>layers</th><th>kind</th><th>flavor</th><th>stage</th>"
      "<th>rule</th><th>tp</th><th>dcp</th><th>ep</th><th>per "
      "rank</th><th>collectives</th>{}</tr>\n",
      m.layers.size(), rows.size(), memory ? "<th>bytes per rank</th>" : "");
  for (const auto& r : rows) {
    std::string name = html_escape(r.shape);
    std::string count;
    if (!r.indices.empty()) {
      std::string idx = r.indices.size() == 1 ? std::to_string(r.indices[0])
                                              : "{" + index_ranges(r.indices) + "}";
      std::size_t at = name.find("{}");
      if (at != std::string::npos) name.replace(at, 2, "<b>" + idx + "</b>");
      if (r.indices.size() > 1)
        count = fmt::format(" <small>({} layers)</small>", r.indices.size());
    }
    out += fmt::format("<tr class=\"{}\"><td class=\"prefix\">{}{}</td>",
                       html_escape(r.first->kind), name, count);
    for (const auto& cell : r.cells) out += "<td>" + cell + "</td>";
    if (memory) {
      out += "<td>";
      for (const auto& [k, v] : r.first->memory) {
        out += fmt::format("<div class=\"mem\">{}{} {}</div>", bar(v, max_of[k]), html_escape(k),
                           html_escape(bytes_text(v)));
      }
      out += "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string pipeline_section(const ReportModel& m) {
  if (m.stages.empty() && m.pipeline_comms.empty() && m.memory.empty()) return "";
  std::string out = "<section id=\"pipeline\">\n<h2>Pipeline</h2>\n";
  if (!m.stages.empty()) {
    out += "<table><tr><th>stage</th><th>decoder layers</th><th>count</th></tr>\n";
    for (const auto& s : m.stages) {
      out += fmt::format("<tr><td>{}</td><td>{}-{}</td><td>{}</td></tr>\n", s.stage, s.first_layer,
                         s.last_layer, s.num_layers);
    }
    out += "</table>\n";
  }
  for (const auto& c : m.pipeline_comms) {
    out += fmt::format("<p>{} on {}, {} elements per token: {}</p>\n", html_escape(c.op),
                       html_escape(c.group), c.elements_per_token, html_escape(c.why));
  }
  if (!m.memory.empty()) {
    double max = 0;
    for (const auto& [k, v] : m.memory) max = std::max(max, v);
    out += "<h2>Memory</h2>\n<table class=\"memory\">\n";
    for (const auto& [k, v] : m.memory) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(k),
                         html_escape(bytes_text(v)), bar(v, max));
    }
    out += "</table>\n";
  }
  return out + "</section>\n";
}

std::string diagnostics_section(const ReportOptions& o) {
  std::string out = "<section id=\"diagnostics\">\n<h2>Diagnostics</h2>\n";
  if (!o.diagnostics) {
    return out +
           "<p>Not recorded in the manifest: <code>layerplan compile ... --emit html FILE</code> "
           "includes them.</p>\n</section>\n";
  }
  if (o.diagnostics->empty()) return out + "<p>None.</p>\n</section>\n";
  RenderOptions ro{false, o.werror, 8};
  return out + "<pre class=\"diags\">" + html_escape(render_text(*o.diagnostics, ro)) +
         "</pre>\n</section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_report_html(const ReportModel& m, const ReportOptions& o) {
  std::string arch = html_escape(value_of(m.model, "architecture"));
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // Nothing may be fetched: no network, no other file.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>layerplan: {}, world {}</title>\n<script>{}</script>\n<style>\n{}</style>\n</head>\n"
      "<body data-world=\"{}\" data-tp=\"{}\" data-pcp=\"{}\" data-pp=\"{}\" data-dp=\"{}\">\n",
      arch, m.world_size, kErrorCatcher, report_css(), m.world_size, m.tp, m.pcp, m.pp, m.dp);
  out += header(m, o);
  out += "<main>\n" + render_rank_grid(m, o) + layers_section(m) + pipeline_section(m) +
         diagnostics_section(o) + "</main>\n";
  out += fmt::format(
      "<footer>Written by {} {}. Self-contained: inline CSS, SVG and script; nothing "
      "is fetched.</footer>\n",
      html_escape(value_of(m.generator, "name").empty() ? "layerplan"
                                                        : value_of(m.generator, "name")),
      html_escape(value_of(m.generator, "version")));
  out += "<pre id=\"info\" hidden></pre>\n<script>\n";
  out += report_js();
  return out + "</script>\n</body>\n</html>\n";
}

}  // namespace layerplan
