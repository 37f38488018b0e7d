// Text (nccl-tests style) and JSON renderings of a Report.
#include <cstdio>
#include <ostream>

#include "smoke/report.h"

namespace layerplan::smoke {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string pad(const std::string& s, std::size_t width, bool left = false) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

std::string groups_text(const GroupSet& set) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(set.groups.size(), 8);
  for (std::size_t g = 0; g < shown; ++g) out += (g ? " " : "") + format_ranks(set.groups[g]);
  if (shown < set.groups.size()) out += " ... (" + std::to_string(set.groups.size()) + " groups)";
  return out;
}

std::string type_label(const ReportInput& in) {
  return std::string(element_name(in.type)) + (in.on_cpu ? "*" : "");
}

void render_set(const Report& report, const ReportInput& in, std::size_t si, std::ostream& out) {
  const GroupSet& set = in.view->sets[si];
  const SetResult& r = report.sets[si];
  const int n = set.uniform_size();
  out << "#\n# group set \"" << set.name << "\": " << set.groups.size() << " group(s) of "
      << (n > 0 ? std::to_string(n) : "unequal sizes") << ": " << groups_text(set) << "\n";
  const DerivedSet& d = in.derived[si];
  if (r.status == "trivial") {
    out << "#   groups of 1 rank: no communicator (vLLM builds none either); membership proved by "
           "derivation only\n";
  } else if (r.status == "OK") {
    out << "#   membership OK: all-gather of global ranks equals the manifest's order, seeded "
           "all_reduce exact\n";
  } else if (r.status == "not checked") {
    out << "#   membership not checked on the devices (see the runtime failure below)\n";
  } else {
    out << "#   membership FAILED:\n";
    for (const auto& p : r.problems) out << "#     " << p << "\n";
  }
  out << "#   lists vs vLLM: "
      << (!d.derivable ? "not derived: " + d.rule
                       : (in.findings[si].empty() ? "match (" : "DIFFER (") + d.rule + ")")
      << "\n";
  if (!in.shared_with[si].empty()) {
    out << "#   communicator: reuses " << in.shared_with[si] << " (same groups)\n";
  }
  if (r.entries.empty() || report.ranks.empty()) return;  // nothing ran on the devices
  out << "#" << pad("size", 13) << pad("count", 12) << pad("type", 11) << pad("redop", 6)
      << pad("op", 15) << pad("time", 10) << pad("algbw", 9) << pad("busbw", 9) << pad("#wrong", 8)
      << "  used by\n";
  out << "#" << pad("(B)", 13) << pad("(elements)", 12) << pad("", 11) << pad("", 6) << pad("", 15)
      << pad("(us)", 10) << pad("(GB/s)", 9) << pad("(GB/s)", 9) << "\n";
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    const TimedEntry& e = (*in.entries)[static_cast<std::size_t>(r.entries[i])];
    const RowResult& row = r.rows[i];
    const bool reduces = e.op == Op::kAllReduce || e.op == Op::kReduceScatter;
    out << " " << pad(std::to_string(e.bytes), 13) << pad(std::to_string(e.count), 12)
        << pad(type_label(in), 11) << pad(reduces ? "sum" : "none", 6)
        << pad(std::string(op_name(e.op)), 15)
        << pad(row.measured ? fixed(row.time_us, 2) : "-", 10)
        << pad(row.measured ? fixed(row.algbw_gbps, 2) : "-", 9)
        << pad(row.measured ? fixed(row.busbw_gbps, 2) : "-", 9)
        << pad(row.measured ? std::to_string(row.wrong) : "-", 8) << "  " << e.used_by << "\n";
  }
}

}  // namespace

void render_text(const Report& report, const ReportInput& in, std::ostream& out) {
  const SmokeOptions& o = *in.options;
  const Axes& a = in.view->axes;
  out << "# layerplan smoke: "
      << (o.manifest_label.empty() ? std::string("manifest") : o.manifest_label)
      << (in.view->architecture.empty() ? "" : " (" + in.view->architecture + ")") << "\n";
  out << "# world_size " << in.view->world_size << ": tp=" << a.tp << " attn_tp=" << a.attn_tp
      << " dcp=" << a.dcp << " pcp=" << a.pcp << " pp=" << a.pp << " dp=" << a.dp
      << (a.ep > 0 ? " ep=" + std::to_string(a.ep) : "") << "\n";
  out << "# backend " << o.backend << (in.on_cpu ? " (CPU timings, not GPU)" : "") << ": "
      << (in.launch.empty() ? std::string("not started") : in.launch)
      << (report.versions.empty() ? "" : "; " + report.versions) << "\n";
  out << "# dtype " << in.dtype
      << (in.dtype != element_name(in.type)
              ? " (moved as " + std::string(element_name(in.type)) + " on the CPU backend)"
              : "")
      << ", tokens " << o.tokens << ", warmup " << o.warmup << ", iters " << o.iters << ", timeout "
      << fixed(o.timeout_s, 0) << " s, sweep " << o.sweep_bytes << " B"
      << (o.min_busbw_gbps ? ", min busbw " + fixed(*o.min_busbw_gbps, 2) + " GB/s" : "") << "\n";
  out << "#\n";
  for (const RankInfo& r : report.ranks) {
    out << "#  Rank " << pad(std::to_string(r.rank), 3) << " Pid " << pad(std::to_string(r.pid), 7)
        << " on " << r.host << " device " << pad(std::to_string(r.device), 2) << " ["
        << r.pci_bus_id << "] " << r.device_name << "\n";
  }
  for (std::size_t si = 0; si < in.view->sets.size(); ++si) render_set(report, in, si, out);
  out << "#\n";
  if (in.on_cpu) {
    out << "# * MPI has no 2-byte float reductions: the CPU backend moves int16 of the same size "
           "for 2-byte dtypes; times are CPU/MPI, not GPU\n";
  }
  out << "# Out of bounds values : " << report.wrong << (report.wrong == 0 ? " OK" : " FAILED")
      << "\n";
  out << "# Avg bus bandwidth    : "
      << (report.avg_busbw_gbps ? fixed(*report.avg_busbw_gbps, 2) + " GB/s (all_reduce of " +
                                      std::to_string(o.sweep_bytes) + " B, mean over group sets)"
                                : std::string("-"))
      << "\n";
  out << "# Wall time            : " << fixed(in.wall_s, 2) << " s\n";
  auto list = [&](const char* title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    out << "#\n# " << title << ":\n";
    for (const auto& i : items) out << "#   " << i << "\n";
  };
  list("membership or data wrong (exit 3)", report.membership_failures);
  list("bandwidth below the gate (exit 3)", report.gate_failures);
  list("runtime failure (exit 4)", report.runtime_failures);
  out << "layerplan smoke: " << report.verdict << std::endl;
}

nlohmann::ordered_json render_json(const Report& report, const ReportInput& in) {
  using J = nlohmann::ordered_json;
  const SmokeOptions& o = *in.options;
  const Axes& a = in.view->axes;
  J j;
  j["tool"] = "layerplan smoke";
  j["verdict"] = report.exit_code == 0 ? "PASS" : "FAIL";
  j["summary"] = report.verdict;
  j["exit_code"] = report.exit_code;
  j["manifest"] = o.manifest_label;
  j["architecture"] = in.view->architecture;
  j["world_size"] = in.view->world_size;
  j["axes"] = {{"tp", a.tp},   {"attn_tp", a.attn_tp}, {"dcp", a.dcp},
               {"pcp", a.pcp}, {"pp", a.pp},           {"dp", a.dp}};
  if (a.ep > 0) j["axes"]["ep"] = a.ep;
  j["backend"] = o.backend;
  j["launch"] = in.launch;
  j["versions"] = report.versions;
  j["dtype"] = in.dtype;
  j["element_type"] = element_name(in.type);
  j["cpu_timings"] = in.on_cpu;
  j["tokens"] = o.tokens;
  j["warmup"] = o.warmup;
  j["iters"] = o.iters;
  j["timeout_s"] = o.timeout_s;
  j["sweep_bytes"] = o.sweep_bytes;
  j["min_busbw_gbps"] = o.min_busbw_gbps ? J(*o.min_busbw_gbps) : J(nullptr);
  j["ranks"] = J::array();
  for (const RankInfo& r : report.ranks) {
    j["ranks"].push_back({{"rank", r.rank},
                          {"host", r.host},
                          {"pid", r.pid},
                          {"device", r.device},
                          {"device_name", r.device_name},
                          {"pci_bus_id", r.pci_bus_id}});
  }
  j["group_sets"] = J::array();
  for (std::size_t si = 0; si < in.view->sets.size(); ++si) {
    const GroupSet& set = in.view->sets[si];
    const SetResult& r = report.sets[si];
    J s;
    s["name"] = set.name;
    s["group_size"] = set.uniform_size();
    s["num_groups"] = set.groups.size();
    s["groups"] = set.groups;
    s["status"] = r.status;
    // Groups of one rank get no communicator (vLLM builds none either:
    // parallel_state.py::GroupCoordinator.__init__ only for world_size > 1).
    s["membership_proved_by"] = r.status == "trivial" ? J("derivation")
                                : r.status == "OK"    ? J("communicators")
                                                      : J(nullptr);
    s["vllm_layout"] = {{"derivable", in.derived[si].derivable},
                        {"matches", in.derived[si].derivable && in.findings[si].empty()},
                        {"rule", in.derived[si].rule}};
    s["shared_communicator_with"] = in.shared_with[si];
    s["problems"] = r.problems;
    s["results"] = J::array();
    for (std::size_t i = 0; i < r.entries.size(); ++i) {
      const TimedEntry& e = (*in.entries)[static_cast<std::size_t>(r.entries[i])];
      const RowResult& row = r.rows[i];
      J x;
      x["op"] = op_name(e.op);
      x["sweep"] = e.sweep;
      x["elements_per_token"] = e.elements_per_token;
      x["size_bytes"] = e.bytes;
      x["count"] = e.count;
      x["type"] = element_name(in.type);
      x["time_us"] = row.measured ? J(row.time_us) : J(nullptr);
      x["algbw_gbps"] = row.measured ? J(row.algbw_gbps) : J(nullptr);
      x["busbw_gbps"] = row.measured ? J(row.busbw_gbps) : J(nullptr);
      x["wrong"] = row.wrong;
      x["used_by"] = e.used_by;
      x["users"] = e.users;
      s["results"].push_back(std::move(x));
    }
    j["group_sets"].push_back(std::move(s));
  }
  j["out_of_bounds"] = {{"count", report.wrong}, {"okay", report.wrong == 0}};
  j["average_bus_bandwidth_gbps"] = report.avg_busbw_gbps ? J(*report.avg_busbw_gbps) : J(nullptr);
  j["failures"] = {{"membership", report.membership_failures},
                   {"gate", report.gate_failures},
                   {"runtime", report.runtime_failures}};
  j["wall_time_s"] = in.wall_s;
  return j;
}

}  // namespace layerplan::smoke
