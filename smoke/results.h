// What each rank observed, as plain values that travel between processes as JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace layerplan::smoke {

struct RankInfo {
  int rank = -1;
  std::string host;
  int pid = 0;
  int device = -1;  // CUDA device index, -1 on the CPU backend
  std::string device_name;
  std::string pci_bus_id;
};

// A rank's view of its group in one set: the all-gather of global ranks on the communicator
// built for that group, and the seeded all-reduce's check.
struct GroupObservation {
  std::string set;
  int group_index = -1;
  int position = -1;
  std::vector<int> observed;
  std::int64_t allreduce_wrong = 0;
  std::int64_t allreduce_count = 0;
  std::string first_wrong;  // "element 17: got 3, expected 5", empty if none
};

struct TimingSample {
  int entry = -1;  // index into the timing plan
  double time_us = 0;
  std::int64_t wrong = 0;
  std::string first_wrong;
};

struct RankResult {
  RankInfo info;
  std::vector<GroupObservation> groups;
  std::vector<TimingSample> timings;
};

// A runtime failure (CUDA, NCCL, MPI, watchdog timeout): exit code 4 unless stated.
struct Failure {
  int exit_code = 4;
  std::string message;
  bool hung = false;  // a collective did not finish before the watchdog's deadline
};

// Everything one process reports to rank 0.
struct ProcessResult {
  std::vector<RankResult> ranks;
  std::optional<Failure> failure;
  std::string versions;  // "NCCL 2.28.9, CUDA runtime 13.0, driver 13.0"
};

void to_json(nlohmann::json& j, const RankInfo& v);
void from_json(const nlohmann::json& j, RankInfo& v);
void to_json(nlohmann::json& j, const ProcessResult& v);
void from_json(const nlohmann::json& j, ProcessResult& v);

}  // namespace layerplan::smoke
