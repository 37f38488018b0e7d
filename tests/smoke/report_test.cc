#include "smoke/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "catch.h"

namespace layerplan::smoke {
namespace {

// Catch2 v2 and v3 spell Approx differently; a plain tolerance works with both.
bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

struct Fixture {
  ManifestView view;
  SmokeOptions options;
  std::vector<TimedEntry> entries;
  ReportInput in;

  Fixture() {
    view.world_size = 2;
    view.axes = {2, 2, 1, 1, 1, 1, 0};
    view.sets = {{"tp", {{0, 1}}}, {"pp", {{0}, {1}}}};
    view.comms.push_back({"model.layers.0.mlp", "mlp", 0, Op::kAllReduce, "tp", 1024});
    options.sweep_bytes = 1 << 20;
    entries = plan_timings(view, 256, 2, options.sweep_bytes);  // all_reduce, sweep ar, sweep ag
    in.view = &view;
    in.options = &options;
    in.entries = &entries;
    for (const auto& s : view.sets) {
      in.derived.push_back(derive_vllm_groups(view, s.name));
      in.findings.push_back(compare_with_derivation(s, in.derived.back()));
      in.runnable.push_back(s.uniform_size() > 1);
    }
    in.shared_with = {"the world communicator", ""};
    in.dtype = "bfloat16";
    in.launch = "single process driving 2 GPU(s)";
    ProcessResult p;
    p.versions = "NCCL 2.28.9";
    for (int r = 0; r < 2; ++r) {
      RankResult rr;
      rr.info = {r, "host", 100 + r, r, "NVIDIA H200", "0000:0" + std::to_string(r) + ":00.0"};
      rr.groups.push_back({"tp", 0, r, {0, 1}, 0, 65536, ""});
      for (int e = 0; e < 3; ++e) rr.timings.push_back({e, r == 0 ? 100.0 : 200.0, 0, ""});
      p.ranks.push_back(rr);
    }
    in.processes = {p};
  }
};

TEST_CASE("report: a clean run passes, with nccl-tests bandwidth figures", "[smoke]") {
  Fixture f;
  const Report r = build_report(f.in);
  CHECK(r.exit_code == 0);
  CHECK(r.verdict == "PASS");
  REQUIRE(r.sets.size() == 2);
  CHECK(r.sets[0].status == "OK");
  CHECK(r.sets[1].status == "trivial");
  REQUIRE(r.sets[0].rows.size() == 3);
  const RowResult& row = r.sets[0].rows[0];
  CHECK(row.measured);
  CHECK(row.time_us == 200.0);  // the slowest rank
  CHECK(near(row.algbw_gbps, 256.0 * 1024 * 2 / 200e3));
  CHECK(near(row.busbw_gbps, row.algbw_gbps));  // 2(n-1)/n = 1 for n = 2
  REQUIRE(r.sets[0].sweep_busbw_gbps);
  CHECK(near(*r.avg_busbw_gbps, *r.sets[0].sweep_busbw_gbps));

  std::ostringstream text;
  render_text(r, f.in, text);
  CHECK(text.str().find("#  Rank   1 Pid     101 on host device  1 [0000:01:00.0] NVIDIA H200") !=
        std::string::npos);
  CHECK(text.str().find("membership OK") != std::string::npos);
  // Size-1 groups get no communicator, as in vLLM (parallel_state.py::GroupCoordinator.__init__
  // builds a device communicator only for world_size > 1; pynccl.py::PyNcclCommunicator.__init__
  // disables itself at world_size == 1): their lists are proved by the derivation alone.
  CHECK(text.str().find("membership proved by derivation only") != std::string::npos);
  CHECK(text.str().find("# Out of bounds values : 0 OK") != std::string::npos);
  CHECK(text.str().find("\nlayerplan smoke: PASS\n") != std::string::npos);

  const auto j = render_json(r, f.in);
  CHECK(j["verdict"] == "PASS");
  CHECK(j["group_sets"][0]["results"][0]["op"] == "all_reduce");
  CHECK(j["group_sets"][0]["results"][0]["time_us"] == 200.0);
  CHECK(j["group_sets"][0]["vllm_layout"]["matches"] == true);
  CHECK(j["group_sets"][1]["status"] == "trivial");
  CHECK(j["group_sets"][1]["membership_proved_by"] == "derivation");
  CHECK(j["group_sets"][0]["membership_proved_by"] == "communicators");
  CHECK(j["out_of_bounds"]["okay"] == true);
  CHECK(j["min_busbw_gbps"].is_null());
}

TEST_CASE("report: a swapped group fails with exit 3 naming set, group, expected, observed",
          "[smoke]") {
  Fixture f;
  f.view.sets[0].groups = {{1, 0}};
  f.in.findings[0] = compare_with_derivation(f.view.sets[0], f.in.derived[0]);
  for (auto& rr : f.in.processes[0].ranks) rr.groups[0].observed = {1, 0};
  const Report r = build_report(f.in);
  CHECK(r.exit_code == 3);
  CHECK(r.verdict == "FAIL (membership or data wrong in \"tp\")");
  REQUIRE(r.membership_failures.size() == 1);
  CHECK(r.membership_failures[0].rfind("group set \"tp\" group 0: expected [0, 1], the manifest "
                                       "lists [1, 0]",
                                       0) == 0);
  CHECK(r.membership_failures[0].find("observed [1, 0] (all-gather") != std::string::npos);
}

TEST_CASE("report: a communicator that disagrees with the manifest, and wrong data", "[smoke]") {
  Fixture f;
  auto& rank1 = f.in.processes[0].ranks[1];
  rank1.groups[0].observed = {1, 0};
  rank1.groups[0].allreduce_wrong = 3;
  rank1.groups[0].first_wrong = "element 5: got 1, expected 2";
  rank1.timings[0].wrong = 7;
  const Report r = build_report(f.in);
  CHECK(r.exit_code == 3);
  CHECK(r.wrong == 7);
  CHECK(r.sets[0].status == "FAILED");
  const auto& p = r.sets[0].problems;
  REQUIRE(p.size() == 3);
  CHECK(p[0] ==
        "group set \"tp\" group 0: the all-gather of global ranks on rank 1's "
        "communicator gave [1, 0], the manifest lists [0, 1]");
  CHECK(p[1].find("seeded all_reduce wrong on rank 1: 3 of 65536 elements (element 5") !=
        std::string::npos);
  CHECK(p[2].find("7 wrong element(s) on rank 1") != std::string::npos);
}

TEST_CASE("report: the bandwidth gate and runtime failures", "[smoke]") {
  Fixture f;
  f.options.min_busbw_gbps = 1e9;
  Report r = build_report(f.in);
  CHECK(r.exit_code == 3);
  REQUIRE(r.gate_failures.size() == 1);
  CHECK(r.gate_failures[0].find("is below --min-busbw") != std::string::npos);

  Fixture g;
  g.in.processes[0].ranks[0].timings.pop_back();  // the last entry never finished on rank 0
  g.in.processes[0].failure = Failure{4, "watchdog: all_gather did not finish", true};
  ProcessResult echo;
  echo.failure = Failure{4, "stopped before group set \"tp\": another process failed", false};
  g.in.processes.push_back(echo);
  r = build_report(g.in);
  CHECK(r.exit_code == 4);
  CHECK(r.hung);
  CHECK(r.verdict == "FAIL (watchdog timeout)");
  CHECK(r.runtime_failures == std::vector<std::string>{"watchdog: all_gather did not finish"});
  CHECK_FALSE(r.sets[0].rows[2].measured);
}

}  // namespace
}  // namespace layerplan::smoke
