// Turns the manifest checks and every rank's observations into one report: per group set its
// membership verdict, problems and timing rows (nccl-tests columns), then an overall verdict and
// exit code. Rendered as text for people and JSON for machines from the same values.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "smoke/comm_plan.h"
#include "smoke/data_pattern.h"
#include "smoke/expected_groups.h"
#include "smoke/manifest_view.h"
#include "smoke/results.h"
#include "smoke/smoke.h"

namespace layerplan::smoke {

struct ReportInput {
  const ManifestView* view = nullptr;
  const SmokeOptions* options = nullptr;
  std::vector<DerivedSet> derived;                       // per set
  std::vector<std::vector<MembershipFinding>> findings;  // per set, from the manifest alone
  const std::vector<TimedEntry>* entries = nullptr;
  std::vector<char> runnable;             // per set
  std::vector<std::string> shared_with;   // per set
  std::string dtype;                      // the plan's dtype
  ElementType type = ElementType::kBf16;  // what moves: the dtype, or its CPU stand-in
  bool on_cpu = false;
  std::string launch;  // "single process driving 4 GPUs", "MPI, 4 processes (OMPI_COMM_WORLD_SIZE)"
  std::vector<ProcessResult> processes;
  double wall_s = 0;
};

struct RowResult {
  bool measured = false;
  double time_us = 0, algbw_gbps = 0, busbw_gbps = 0;
  std::int64_t wrong = 0;
};

struct SetResult {
  std::string status;  // "OK", "FAILED", "trivial", "not checked"
  std::vector<std::string> problems;
  std::vector<int> entries;  // indices into the timing plan
  std::vector<RowResult> rows;
  std::optional<double> sweep_busbw_gbps;  // all_reduce at the sweep size
};

struct Report {
  std::vector<RankInfo> ranks;  // by global rank
  std::string versions;
  std::vector<SetResult> sets;                   // per set of the view
  std::vector<std::string> membership_failures;  // exit 3
  std::vector<std::string> gate_failures;        // exit 3
  std::vector<std::string> runtime_failures;     // exit 4
  bool hung = false;
  std::int64_t wrong = 0;
  std::optional<double> avg_busbw_gbps;
  int exit_code = 0;
  std::string verdict;  // "PASS" or "FAIL (...)"
};

[[nodiscard]] Report build_report(const ReportInput& input);

void render_text(const Report& report, const ReportInput& input, std::ostream& out);
[[nodiscard]] nlohmann::ordered_json render_json(const Report& report, const ReportInput& input);

}  // namespace layerplan::smoke
