// The device half of a smoke run, the same on every backend: for each group set, in order, build
// its communicators, all-gather global ranks, check a seeded all-reduce, then time and check each
// planned collective. Processes of an MPI job agree before every set, so one failing process
// stops them all at the same point instead of leaving peers inside a collective.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "smoke/comm_plan.h"
#include "smoke/data_pattern.h"
#include "smoke/manifest_view.h"
#include "smoke/results.h"
#include "smoke/transport.h"

namespace layerplan::smoke {

struct SessionPlan {
  const ManifestView* view = nullptr;
  const std::vector<TimedEntry>* entries = nullptr;
  std::vector<char> runnable;  // per set of view->sets: build and check it on the devices
  ElementType type = ElementType::kBf16;
  int warmup = 5, iters = 20;
  double timeout_s = 60;
  std::string inject_hang;
  std::string inject_kill;  // SET:PROCESS, see SmokeOptions
};

struct SessionOutcome {
  std::vector<RankResult> ranks;  // one per slot of the transport
  std::optional<Failure> failure;
  std::vector<std::string> shared_with;  // per set: the earlier set whose communicator it reuses
  std::vector<int> lost;  // processes found gone (Coordinator::lost_processes) after a wait ran out
};

// Elements of the seeded all-reduce that checks every group.
inline constexpr std::int64_t kCheckCount = 1 << 16;

[[nodiscard]] SessionOutcome run_session(Transport& transport, Coordinator& coordinator,
                                         const SessionPlan& plan);

}  // namespace layerplan::smoke
