#include "smoke/report.h"

#include <algorithm>
#include <map>
#include <set>

namespace layerplan::smoke {
namespace {

std::string quoted(const std::string& name) { return "group set \"" + name + "\""; }

std::string gbps(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Observations of one set, by group index and position.
using SetObservations =
    std::map<int, std::map<int, std::pair<const RankResult*, const GroupObservation*>>>;

SetObservations observations(const std::vector<const RankResult*>& ranks, const std::string& set) {
  SetObservations out;
  for (const RankResult* r : ranks) {
    for (const GroupObservation& o : r->groups) {
      if (o.set == set) out[o.group_index][o.position] = {r, &o};
    }
  }
  return out;
}

void check_set(const ReportInput& in, std::size_t si, const std::vector<const RankResult*>& ranks,
               SetResult& out) {
  const GroupSet& set = in.view->sets[si];
  const auto seen = observations(ranks, set.name);
  // Findings from the manifest alone, with what the communicators showed for the same group.
  for (const MembershipFinding& f : in.findings[si]) {
    std::string message = f.message;
    auto g = seen.find(f.group_index);
    if (g != seen.end() && !g->second.empty()) {
      message += "; observed " + format_ranks(g->second.begin()->second.second->observed) +
                 " (all-gather of global ranks on the communicator built from the manifest)";
    }
    out.problems.push_back(message);
  }
  if (!in.runnable[si]) {
    out.status = out.problems.empty() ? "trivial" : "FAILED";
    return;
  }
  if (seen.size() != set.groups.size()) {
    out.status = out.problems.empty() ? "not checked" : "FAILED";
    return;
  }
  for (const auto& [g, members] : seen) {
    const auto& listed = set.groups[static_cast<std::size_t>(g)];
    for (const auto& [position, entry] : members) {
      const auto& [rank, o] = entry;
      const std::string head = quoted(set.name) + " group " + std::to_string(g);
      if (o->observed != listed) {
        out.problems.push_back(head + ": the all-gather of global ranks on rank " +
                               std::to_string(rank->info.rank) + "'s communicator gave " +
                               format_ranks(o->observed) + ", the manifest lists " +
                               format_ranks(listed));
      }
      if (o->allreduce_wrong > 0) {
        out.problems.push_back(
            head + ": seeded all_reduce wrong on rank " + std::to_string(rank->info.rank) + ": " +
            std::to_string(o->allreduce_wrong) + " of " + std::to_string(o->allreduce_count) +
            " elements (" + o->first_wrong + ")");
      }
    }
  }
  out.status = out.problems.empty() ? "OK" : "FAILED";
}

void time_set(const ReportInput& in, std::size_t si, const std::vector<const RankResult*>& ranks,
              SetResult& out, Report& report) {
  const std::string& name = in.view->sets[si].name;
  const auto& entries = *in.entries;
  for (std::size_t ei = 0; ei < entries.size(); ++ei) {
    const TimedEntry& e = entries[ei];
    if (e.set != name) continue;
    RowResult row;
    int samples = 0;
    for (const RankResult* r : ranks) {
      for (const TimingSample& t : r->timings) {
        if (t.entry != static_cast<int>(ei)) continue;
        ++samples;
        row.time_us = std::max(row.time_us, t.time_us);
        row.wrong += t.wrong;
        if (t.wrong > 0) {
          out.problems.push_back(quoted(name) + ": " + std::string(op_name(e.op)) + " of " +
                                 std::to_string(e.bytes) + " bytes: " + std::to_string(t.wrong) +
                                 " wrong element(s) on rank " + std::to_string(r->info.rank) +
                                 " (" + t.first_wrong + ")");
          out.status = "FAILED";
        }
      }
    }
    row.measured = samples == in.view->world_size && row.time_us > 0;
    if (row.measured) {
      row.algbw_gbps = static_cast<double>(e.bytes) / (row.time_us * 1e3);
      row.busbw_gbps = row.algbw_gbps * bus_factor(e.op, e.group_size);
      if (e.sweep && e.op == Op::kAllReduce) out.sweep_busbw_gbps = row.busbw_gbps;
    }
    report.wrong += row.wrong;
    out.entries.push_back(static_cast<int>(ei));
    out.rows.push_back(row);
  }
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

// The manifest's nodes against the hosts the processes run on (under mpirun or srun): ranks of
// one node share a host, and two nodes never share one.
std::vector<std::string> check_hosts(const ManifestView& view, const std::vector<RankInfo>& ranks) {
  std::vector<std::string> problems;
  if (view.nodes.empty() || ranks.empty()) return problems;
  std::map<int, std::string> host_of;
  for (const RankInfo& r : ranks) host_of[r.rank] = r.host;
  std::map<std::string, std::size_t> node_of_host;
  for (std::size_t n = 0; n < view.nodes.size(); ++n) {
    std::set<std::string> hosts;
    for (int r : view.nodes[n]) {
      if (host_of.count(r) != 0) hosts.insert(host_of[r]);
    }
    if (hosts.size() > 1) {
      problems.push_back("node " + std::to_string(n) + " of the manifest runs on several hosts: " +
                         join_names({hosts.begin(), hosts.end()}));
    }
    for (const auto& h : hosts) {
      auto [it, fresh] = node_of_host.emplace(h, n);
      if (!fresh && it->second != n) {
        problems.push_back("nodes " + std::to_string(it->second) + " and " + std::to_string(n) +
                           " of the manifest both run on host \"" + h + "\"");
      }
    }
  }
  return problems;
}

}  // namespace

Report build_report(const ReportInput& in) {
  Report report;
  std::vector<const RankResult*> ranks;
  std::set<std::string> versions;
  for (const ProcessResult& p : in.processes) {
    for (const RankResult& r : p.ranks) ranks.push_back(&r);
    if (!p.versions.empty()) versions.insert(p.versions);
  }
  std::sort(ranks.begin(), ranks.end(),
            [](const RankResult* a, const RankResult* b) { return a->info.rank < b->info.rank; });
  for (const RankResult* r : ranks) report.ranks.push_back(r->info);
  for (const auto& v : versions) report.versions += (report.versions.empty() ? "" : "; ") + v;

  std::vector<std::string> wrong_sets, slow_sets;
  for (auto& problem : check_hosts(*in.view, report.ranks)) {
    report.membership_failures.push_back(std::move(problem));
    if (wrong_sets.empty() || wrong_sets.front() != "nodes")
      wrong_sets.insert(wrong_sets.begin(), "nodes");
  }
  for (std::size_t si = 0; si < in.view->sets.size(); ++si) {
    SetResult set;
    check_set(in, si, ranks, set);
    time_set(in, si, ranks, set, report);
    const GroupSet& gs = in.view->sets[si];
    const auto& gate = in.options->min_busbw_gbps;
    if (gate && gs.uniform_size() > 1 && set.sweep_busbw_gbps && *set.sweep_busbw_gbps < *gate) {
      report.gate_failures.push_back(quoted(gs.name) + ": busbw " + gbps(*set.sweep_busbw_gbps) +
                                     " GB/s of all_reduce at " +
                                     std::to_string(in.options->sweep_bytes) +
                                     " bytes is below --min-busbw " + gbps(*gate) + " GB/s");
      slow_sets.push_back(gs.name);
    }
    if (!set.problems.empty()) wrong_sets.push_back(gs.name);
    for (const auto& p : set.problems) report.membership_failures.push_back(p);
    report.sets.push_back(std::move(set));
  }

  std::vector<double> sweeps;
  for (const SetResult& s : report.sets) {
    if (s.sweep_busbw_gbps) sweeps.push_back(*s.sweep_busbw_gbps);
  }
  if (!sweeps.empty()) {
    double sum = 0;
    for (double v : sweeps) sum += v;
    report.avg_busbw_gbps = sum / static_cast<double>(sweeps.size());
  }

  // Runtime failures: the first cause, not the "another process failed" echoes of it.
  std::vector<std::string> echoes;
  for (const ProcessResult& p : in.processes) {
    if (!p.failure) continue;
    report.hung = report.hung || p.failure->hung;
    auto& list = p.failure->message.find("another process failed") != std::string::npos
                     ? echoes
                     : report.runtime_failures;
    if (std::find(list.begin(), list.end(), p.failure->message) == list.end()) {
      list.push_back(p.failure->message);
    }
  }
  if (report.runtime_failures.empty()) report.runtime_failures = echoes;

  std::vector<std::string> why;
  if (!wrong_sets.empty()) why.push_back("membership or data wrong in " + join_names(wrong_sets));
  if (!slow_sets.empty()) why.push_back("busbw below the gate in " + join_names(slow_sets));
  if (!report.runtime_failures.empty()) {
    why.push_back(report.hung ? "watchdog timeout" : "runtime error");
  }
  if (!report.membership_failures.empty() || !report.gate_failures.empty()) {
    report.exit_code = kExitSmokeFailed;
  } else if (!report.runtime_failures.empty()) {
    report.exit_code = kExitSmokeError;
  }
  report.verdict = "PASS";
  if (report.exit_code != 0) {
    report.verdict = "FAIL (";
    for (std::size_t i = 0; i < why.size(); ++i) report.verdict += (i ? "; " : "") + why[i];
    report.verdict += ")";
  }
  return report;
}

}  // namespace layerplan::smoke
