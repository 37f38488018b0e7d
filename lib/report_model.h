// What the HTML report draws, read from a plan manifest (schemas/manifest.schema.json). The reader
// checks only what drawing relies on: ranks in range, no rank twice in one group set (listed, or
// the compact group_layout's steps each a permutation of the world), the axes' product equal to
// the world size, and the types of the fields it shows. It also reads fields that
// later manifests may carry (`nodes`, `memory`) when they are present.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/engine/vllm_layout.h"

namespace layerplan {

// A problem with the manifest, at a JSON pointer ("/groups/tp/0/3").
struct ManifestProblem {
  std::string pointer;
  std::string message;
};

using ReportFields = std::vector<std::pair<std::string, std::string>>;  // key -> shown value

// A group set as the manifest gives it: listed (`groups`), or as the formula of its compact
// description (`group_layout`, in a manifest written with --group-lists none, and in the one
// `compile --emit html` reports from), whose groups are computed only where they are drawn.
struct ReportGroupSet {
  std::string name;
  std::vector<std::vector<std::int64_t>> groups;  // listed: each in rank-in-group order
  std::optional<GroupSet> layout;                 // or the formula (every step a permutation)

  [[nodiscard]] std::int64_t group_count() const;
  [[nodiscard]] std::int64_t largest() const;  // the most ranks a group has
  [[nodiscard]] bool uniform() const;          // every group of the same size
  [[nodiscard]] std::vector<std::int64_t> members(std::int64_t group) const;
};

struct ReportComm {
  std::string op;
  std::string group;
  std::int64_t elements_per_token = 0;
  std::string why;
};

struct ReportLayer {
  std::string prefix;
  std::string kind;
  std::string flavor;  // empty when null
  std::optional<std::int64_t> index;
  bool mtp = false;
  std::int64_t stage = 0;
  bool has_rule = false;  // false: no rule matched (the global plan)
  std::int64_t rule_position = 0;
  std::int64_t rule_line = 0;
  std::string rule_name;
  std::int64_t tp_size = 1, dcp_size = 1, ep_size = 1;
  std::string tp_group, dcp_group, ep_group;  // empty when null
  ReportFields per_rank;
  std::vector<ReportComm> comms;
  std::vector<std::pair<std::string, double>> memory;  // numeric leaves of `memory`, when present
};

struct ReportStage {
  std::int64_t stage = 0, first_layer = 0, last_layer = 0, num_layers = 0;
};

struct ReportNode {
  std::string name;
  std::vector<std::int64_t> ranks;
};

struct ReportModel {
  ReportFields model, engine, generator, inputs;
  std::int64_t world_size = 0;
  std::vector<std::pair<std::string, std::int64_t>> axes;  // in file order
  std::int64_t tp = 1, pcp = 1, pp = 1, dp = 1;
  std::vector<ReportGroupSet> sets;  // in file order (vLLM's creation order)
  std::vector<ReportLayer> layers;
  std::vector<ReportStage> stages;
  std::vector<ReportComm> pipeline_comms;
  std::vector<ReportNode> nodes;  // `nodes` (or `launch.nodes`); empty when absent
  std::vector<std::pair<std::string, double>> memory;  // numeric leaves of a top-level `memory`
};

// Reads the report's view of a manifest. Returns nothing if and only if it appended a problem;
// every problem found is appended, not only the first.
[[nodiscard]] std::optional<ReportModel> read_report_model(const nlohmann::ordered_json& manifest,
                                                           std::vector<ManifestProblem>& problems);

}  // namespace layerplan
