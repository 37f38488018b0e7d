// The part of a compiled manifest that the smoke run relies on, read and validated from JSON.
// Every shape problem is reported (not just the first); a manifest with problems yields nothing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace layerplan::smoke {

enum class Op { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kSendRecv };

[[nodiscard]] std::optional<Op> parse_op(std::string_view name);
[[nodiscard]] std::string_view op_name(Op op);

// One group set: groups of global ranks, each in rank-in-group order.
struct GroupSet {
  std::string name;
  std::vector<std::vector<int>> groups;

  // Size of every group, or 0 when the groups differ in size.
  [[nodiscard]] int uniform_size() const;
  // Index of the group holding `rank` and the rank's position in it; {-1, -1} if absent.
  [[nodiscard]] std::pair<int, int> locate(int rank) const;
};

// One collective a layer (or the pipeline) issues per forward step.
struct CommUse {
  std::string user;      // layer prefix, or "pipeline"
  std::string kind;      // layer kind ("attention", "mlp", "moe", ...), or "pipeline"
  int layer_index = -1;  // -1 for the pipeline
  Op op = Op::kAllReduce;
  std::string set;
  std::int64_t elements_per_token = 0;
};

// A size a layer's plan states for a group set (plan.tp_size on plan.tp_group, and so on).
struct PlanSize {
  std::string user;
  std::string field;  // "tp_size", "dcp_size" or "ep_size"
  std::string set;
  int size = 0;
};

struct Axes {
  int tp = 1, attn_tp = 1, dcp = 1, pcp = 1, pp = 1, dp = 1;
  int ep = 0;  // 0 when the manifest states no "ep" axis
};

struct ManifestView {
  int world_size = 0;
  Axes axes;
  std::string dtype;         // model.dtype, empty if absent
  std::string architecture;  // model.architecture, empty if absent
  std::vector<GroupSet> sets;
  std::vector<CommUse> comms;  // layers in order, then pipeline.comms
  std::vector<PlanSize> plan_sizes;
  std::vector<std::vector<int>> nodes;  // "nodes": the ranks of each node, when the manifest has it

  [[nodiscard]] const GroupSet* find_set(std::string_view name) const;
};

// A problem with the manifest's shape, at a JSON pointer ("/groups/dcp/1/0").
struct Problem {
  std::string where;
  std::string message;
};

[[nodiscard]] std::string render_problem(const Problem& problem);

// Reads the view; returns nothing if and only if it appended to `problems`.
[[nodiscard]] std::optional<ManifestView> read_manifest(const nlohmann::ordered_json& manifest,
                                                        std::vector<Problem>& problems);

// vLLM's creation order of the known group sets, used when key order was lost.
[[nodiscard]] int canonical_set_rank(std::string_view name);

}  // namespace layerplan::smoke
