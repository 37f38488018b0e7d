#include "smoke/comm_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace layerplan::smoke {
namespace {

std::int64_t round_count(Op op, std::int64_t count, int n) {
  if (op == Op::kAllGather || op == Op::kReduceScatter || op == Op::kAllToAll) {
    count -= count % n;
    if (count < n) count = n;
  }
  return std::max<std::int64_t>(count, 1);
}

std::string ranges(std::vector<int> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  std::string out;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace

double bus_factor(Op op, int group_size) {
  const double n = group_size;
  if (group_size <= 1) return 0.0;
  switch (op) {
    case Op::kAllReduce:
      return 2.0 * (n - 1) / n;
    case Op::kAllGather:
    case Op::kReduceScatter:
    case Op::kAllToAll:
      return (n - 1) / n;
    case Op::kSendRecv:
      return 1.0;
  }
  return 0.0;
}

std::string summarize_users(const std::vector<const CommUse*>& uses) {
  std::vector<std::string> kinds;  // in order of first use
  std::map<std::string, std::vector<int>> indices;
  for (const CommUse* use : uses) {
    if (!indices.count(use->kind)) kinds.push_back(use->kind);
    auto& list = indices[use->kind];
    if (use->layer_index >= 0) list.push_back(use->layer_index);
  }
  std::string out;
  for (const auto& kind : kinds) {
    out += (out.empty() ? "" : ", ") + kind;
    if (!indices[kind].empty()) out += " " + ranges(indices[kind]);
  }
  return out;
}

std::vector<TimedEntry> plan_timings(const ManifestView& view, std::int64_t tokens,
                                     int element_bytes, std::int64_t sweep_bytes) {
  std::vector<TimedEntry> out;
  for (const GroupSet& set : view.sets) {
    const int n = set.uniform_size();
    if (n <= 1) continue;
    using Key = std::tuple<Op, std::int64_t>;
    std::vector<Key> order;
    std::map<Key, std::vector<const CommUse*>> uses;
    for (const CommUse& use : view.comms) {
      if (use.set != set.name) continue;
      const Key key{use.op, use.elements_per_token};
      if (!uses.count(key)) order.push_back(key);
      uses[key].push_back(&use);
    }
    for (const Key& key : order) {
      TimedEntry e;
      e.set = set.name;
      e.op = std::get<0>(key);
      e.group_size = n;
      e.elements_per_token = std::get<1>(key);
      e.count = round_count(e.op, tokens * e.elements_per_token, n);
      e.bytes = e.count * element_bytes;
      std::set<std::string> seen;
      for (const CommUse* use : uses[key]) {
        if (seen.insert(use->user).second) e.users.push_back(use->user);
      }
      e.used_by = summarize_users(uses[key]);
      out.push_back(std::move(e));
    }
    for (Op op : {Op::kAllReduce, Op::kAllGather}) {
      TimedEntry e;
      e.set = set.name;
      e.op = op;
      e.group_size = n;
      e.sweep = true;
      e.count = round_count(op, sweep_bytes / element_bytes, n);
      e.bytes = e.count * element_bytes;
      e.used_by = "(standard sweep)";
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace layerplan::smoke
