#include "smoke/manifest_view.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <utility>

namespace layerplan::smoke {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::pair<std::string_view, Op>, 5> kOps{{
    {"all_reduce", Op::kAllReduce},
    {"all_gather", Op::kAllGather},
    {"reduce_scatter", Op::kReduceScatter},
    {"all_to_all", Op::kAllToAll},
    {"send_recv", Op::kSendRecv},
}};

constexpr int kMaxWorld = 1 << 20;

std::string child(std::string_view base, std::string_view key) {
  std::string out(base);
  out += '/';
  for (char c : key) {  // RFC 6901 escaping
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(std::string_view base, std::size_t index) {
  return child(base, std::to_string(index));
}

class Reader {
 public:
  explicit Reader(std::vector<Problem>& problems) : problems_(problems) {}

  void fail(std::string where, std::string message) {
    problems_.push_back({std::move(where), std::move(message)});
    ++count_;
  }
  [[nodiscard]] int count() const { return count_; }

  // An integer in [lo, hi] at parent[key]; reports a missing key at the parent.
  std::optional<int> integer(const Json& parent, std::string_view parent_where,
                             std::string_view key, int lo, int hi) {
    auto it = parent.find(std::string(key));
    if (it == parent.end()) {
      fail(std::string(parent_where.empty() ? "/" : parent_where),
           "missing key \"" + std::string(key) + "\"");
      return std::nullopt;
    }
    return integer_value(*it, child(parent_where, key), lo, hi);
  }

  std::optional<int> integer_value(const Json& value, const std::string& where, int lo, int hi) {
    if (!value.is_number_integer()) {
      fail(where, "must be an integer, got " + value.dump());
      return std::nullopt;
    }
    const auto v = value.get<std::int64_t>();
    if (v < lo || v > hi) {
      fail(where, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
      return std::nullopt;
    }
    return static_cast<int>(v);
  }

 private:
  std::vector<Problem>& problems_;
  int count_ = 0;
};

void read_axes(const Json& manifest, Reader& reader, ManifestView& view) {
  auto it = manifest.find("axes");
  if (it == manifest.end() || !it->is_object()) {
    reader.fail(it == manifest.end() ? "/" : "/axes",
                it == manifest.end() ? "missing key \"axes\"" : "must be an object");
    return;
  }
  const Json& axes = *it;
  auto read = [&](std::string_view key, int& into) {
    if (auto v = reader.integer(axes, "/axes", key, 1, kMaxWorld)) into = *v;
  };
  read("tp", view.axes.tp);
  read("attn_tp", view.axes.attn_tp);
  read("dcp", view.axes.dcp);
  read("pcp", view.axes.pcp);
  read("pp", view.axes.pp);
  read("dp", view.axes.dp);
  if (axes.contains("ep")) {
    if (auto v = reader.integer(axes, "/axes", "ep", 1, kMaxWorld)) view.axes.ep = *v;
  }
  const Axes& a = view.axes;
  const std::int64_t product = std::int64_t{a.dp} * a.pp * a.pcp * a.tp;
  if (view.world_size > 0 && product != view.world_size) {
    reader.fail("/axes", "dp*pp*pcp*tp = " + std::to_string(product) + " but world_size is " +
                             std::to_string(view.world_size));
  }
  if (a.tp % a.attn_tp != 0) {
    reader.fail("/axes/attn_tp", "attn_tp (" + std::to_string(a.attn_tp) +
                                     ") does not divide tp (" + std::to_string(a.tp) + ")");
  }
  // vLLM's rule (config/parallel.py::ParallelConfig._validate_parallel_config): dcp divides tp
  // without PCP; with PCP it is 1, pcp or tp*pcp.
  if (a.pcp == 1 && a.tp % a.dcp != 0) {
    reader.fail("/axes/dcp", "dcp (" + std::to_string(a.dcp) + ") does not divide tp (" +
                                 std::to_string(a.tp) + ")");
  } else if (a.pcp > 1 && a.dcp != 1 && a.dcp != a.pcp &&
             std::int64_t{a.dcp} != std::int64_t{a.tp} * a.pcp) {
    reader.fail("/axes/dcp", "dcp (" + std::to_string(a.dcp) + ") with pcp (" +
                                 std::to_string(a.pcp) + ") must be 1, pcp or tp*pcp (" +
                                 std::to_string(std::int64_t{a.tp} * a.pcp) + ")");
  }
}

void read_set(const std::string& name, const Json& value, int world, Reader& reader,
              ManifestView& view) {
  const std::string where = child("/groups", name);
  if (!value.is_array() || value.empty()) {
    reader.fail(where, "must be a non-empty list of groups (lists of global ranks)");
    return;
  }
  GroupSet set{name, {}};
  // The group of each rank listed, keyed by rank: sized by what the set lists, never by
  // world_size alone (a few bytes of input can claim a world of 2^20, once per set).
  std::unordered_map<int, int> seen;
  bool ok = true;
  for (std::size_t g = 0; g < value.size(); ++g) {
    const Json& group = value[g];
    const std::string gwhere = child(where, g);
    if (!group.is_array() || group.empty()) {
      reader.fail(gwhere, "a group must be a non-empty list of global ranks");
      ok = false;
      continue;
    }
    std::vector<int> members;
    for (std::size_t p = 0; p < group.size(); ++p) {
      auto rank = reader.integer_value(group[p], child(gwhere, p), 0,
                                       world > 0 ? world - 1 : std::numeric_limits<int>::max());
      if (!rank) {
        ok = false;
        continue;
      }
      if (world > 0) {
        auto [first, fresh] = seen.emplace(*rank, static_cast<int>(g));
        if (!fresh) {
          reader.fail(child(gwhere, p), "rank " + std::to_string(*rank) +
                                            " appears twice in this set (also in group " +
                                            std::to_string(first->second) + ")");
          ok = false;
        }
        first->second = static_cast<int>(g);
      }
      members.push_back(*rank);
    }
    set.groups.push_back(std::move(members));
  }
  std::string missing;
  const int missing_count = world > 0 ? world - static_cast<int>(seen.size()) : 0;
  // The first few missing ranks: every rank looked at is either listed or one of those.
  for (int r = 0, shown = 0; r < world && shown < std::min(missing_count, 8); ++r) {
    if (seen.count(r) > 0) continue;
    missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    ++shown;
  }
  if (missing_count > 0 && ok) {
    reader.fail(where, std::to_string(missing_count) + " rank(s) in no group (" + missing +
                           (missing_count > 8 ? ", ..." : "") +
                           "): every group set must partition the world");
    ok = false;
  }
  if (ok) view.sets.push_back(std::move(set));
}

void read_groups(const Json& manifest, Reader& reader, ManifestView& view) {
  auto it = manifest.find("groups");
  if (it == manifest.end() || !it->is_object() || it->empty()) {
    reader.fail(it == manifest.end() ? "/" : "/groups",
                it == manifest.end() ? "missing key \"groups\""
                                     : "must be a non-empty object of group sets");
    return;
  }
  for (const auto& [name, value] : it->items()) {
    read_set(name, value, view.world_size, reader, view);
  }
}

// One step of a set's compact description (the manifest's group_layout): the indices into the
// previous step's sequence, walked in order. Empty after a reported problem.
std::vector<std::int64_t> read_step(const Json& step, const std::string& where,
                                    std::int64_t previous, Reader& reader) {
  if (!step.is_object()) {
    reader.fail(where, "a step must be an object with axes, sizes and strides");
    return {};
  }
  auto sizes = step.find("sizes");
  auto strides = step.find("strides");
  if (sizes == step.end() || strides == step.end() || !sizes->is_array() || !strides->is_array() ||
      sizes->empty() || sizes->size() != strides->size()) {
    reader.fail(where, "sizes and strides must be non-empty lists of the same length");
    return {};
  }
  std::vector<std::int64_t> size, stride;
  std::int64_t count = 1, last = 0;
  for (std::size_t k = 0; k < sizes->size(); ++k) {
    auto s = reader.integer_value((*sizes)[k], child(child(where, "sizes"), k), 1, kMaxWorld);
    auto t = reader.integer_value((*strides)[k], child(child(where, "strides"), k), 0, kMaxWorld);
    if (!s || !t) return {};
    size.push_back(*s);
    stride.push_back(*t);
    count *= *s;
    last += std::int64_t{*s - 1} * *t;
    if (count > previous || last >= previous) {
      reader.fail(where, "walks past the " + std::to_string(previous) +
                             " entries of the sequence it indexes");
      return {};
    }
  }
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t n = 0; n < count; ++n) {
    std::int64_t at = n, index = 0;
    for (std::size_t k = size.size(); k-- > 0;) {
      index += at % size[k] * stride[k];
      at /= size[k];
    }
    out.push_back(index);
  }
  return out;
}

// The group lists of one set of group_layout, as the manifest's groups would list them.
std::optional<Json> expand_set(const Json& set, const std::string& where, int world,
                               Reader& reader) {
  if (!set.is_object()) {
    reader.fail(where, "must be an object with group_size and steps");
    return std::nullopt;
  }
  auto group_size = reader.integer(set, where, "group_size", 1, std::max(world, 1));
  auto steps = set.find("steps");
  if (steps == set.end() || !steps->is_array() || steps->empty()) {
    reader.fail(where, "steps must be a non-empty list");
    return std::nullopt;
  }
  if (!group_size) return std::nullopt;
  std::vector<std::int64_t> sequence(static_cast<std::size_t>(world));
  for (std::size_t r = 0; r < sequence.size(); ++r) sequence[r] = static_cast<std::int64_t>(r);
  for (std::size_t s = 0; s < steps->size(); ++s) {
    auto indices = read_step((*steps)[s], child(child(where, "steps"), s),
                             static_cast<std::int64_t>(sequence.size()), reader);
    if (indices.empty()) return std::nullopt;
    for (auto& i : indices) i = sequence[static_cast<std::size_t>(i)];
    sequence = std::move(indices);
  }
  if (sequence.size() % static_cast<std::size_t>(*group_size) != 0) {
    reader.fail(where, "the walk of " + std::to_string(sequence.size()) +
                           " ranks does not cut into groups of " + std::to_string(*group_size));
    return std::nullopt;
  }
  Json groups = Json::array();
  for (std::size_t g = 0; g < sequence.size(); g += static_cast<std::size_t>(*group_size)) {
    groups.push_back(std::vector<std::int64_t>(
        sequence.begin() + static_cast<std::ptrdiff_t>(g),
        sequence.begin() + static_cast<std::ptrdiff_t>(g + static_cast<std::size_t>(*group_size))));
  }
  return groups;
}

bool set_named(const Json& groups, const std::string& name) {
  return groups.is_object() && groups.contains(name);
}

void read_comms(const Json& holder, const std::string& where, const std::string& user,
                const std::string& kind, int index, const Json& groups, Reader& reader,
                ManifestView& view) {
  auto it = holder.find("comms");
  if (it == holder.end() || !it->is_array()) {
    reader.fail(it == holder.end() ? where : child(where, "comms"),
                it == holder.end() ? "missing key \"comms\"" : "must be a list");
    return;
  }
  for (std::size_t c = 0; c < it->size(); ++c) {
    const Json& comm = (*it)[c];
    const std::string cwhere = child(child(where, "comms"), c);
    if (!comm.is_object()) {
      reader.fail(cwhere, "must be an object {op, group, elements_per_token}");
      continue;
    }
    CommUse use{user, kind, index, Op::kAllReduce, "", 0};
    bool ok = true;
    auto op = comm.find("op");
    if (op == comm.end() || !op->is_string() || !parse_op(op->get<std::string>())) {
      reader.fail(op == comm.end() ? cwhere : child(cwhere, "op"),
                  op == comm.end() ? "missing key \"op\""
                                   : "op must be one of all_reduce, all_gather, reduce_scatter, "
                                     "all_to_all, send_recv; got " +
                                         op->dump());
      ok = false;
    } else {
      use.op = *parse_op(op->get<std::string>());
    }
    auto group = comm.find("group");
    if (group == comm.end() || !group->is_string() ||
        !set_named(groups, group->get<std::string>())) {
      reader.fail(group == comm.end() ? cwhere : child(cwhere, "group"),
                  group == comm.end()
                      ? "missing key \"group\""
                      : "group must name a group set of /groups; got " + group->dump());
      ok = false;
    } else {
      use.set = group->get<std::string>();
    }
    if (auto e = reader.integer(comm, cwhere, "elements_per_token", 1,
                                std::numeric_limits<int>::max())) {
      use.elements_per_token = *e;
    } else {
      ok = false;
    }
    if (ok) view.comms.push_back(std::move(use));
  }
}

void read_plan(const Json& layer, const std::string& where, const std::string& user,
               const Json& groups, Reader& reader, ManifestView& view) {
  auto plan = layer.find("plan");
  if (plan == layer.end() || !plan->is_object()) return;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kFields{
      {{"tp_size", "tp_group"}, {"dcp_size", "dcp_group"}, {"ep_size", "ep_group"}}};
  for (const auto& [size_key, group_key] : kFields) {
    auto group = plan->find(std::string(group_key));
    auto size = plan->find(std::string(size_key));
    if (group == plan->end() || !group->is_string()) continue;
    const auto name = group->get<std::string>();
    if (!set_named(groups, name)) {
      reader.fail(child(child(where, "plan"), group_key),
                  "names group set \"" + name + "\", which /groups does not list");
      continue;
    }
    if (size == plan->end() || !size->is_number_integer()) continue;
    view.plan_sizes.push_back(
        {user, std::string(size_key), name, static_cast<int>(size->get<std::int64_t>())});
  }
}

void read_layers(const Json& manifest, Reader& reader, ManifestView& view) {
  const Json empty = Json::object();
  const Json& groups = manifest.contains("groups") ? manifest["groups"] : empty;
  auto layers = manifest.find("layers");
  if (layers == manifest.end() || !layers->is_array()) {
    reader.fail(layers == manifest.end() ? "/" : "/layers",
                layers == manifest.end() ? "missing key \"layers\"" : "must be a list");
  } else {
    for (std::size_t i = 0; i < layers->size(); ++i) {
      const Json& layer = (*layers)[i];
      const std::string where = child("/layers", i);
      if (!layer.is_object()) {
        reader.fail(where, "must be an object");
        continue;
      }
      auto text = [&](const char* key, std::string fallback) {
        auto it = layer.find(key);
        return it != layer.end() && it->is_string() ? it->get<std::string>() : fallback;
      };
      const std::string user = text("prefix", "layers[" + std::to_string(i) + "]");
      const std::string kind = text("kind", "layer");
      auto index = layer.find("index");
      const int layer_index = index != layer.end() && index->is_number_integer()
                                  ? static_cast<int>(index->get<std::int64_t>())
                                  : static_cast<int>(i);
      read_comms(layer, where, user, kind, layer_index, groups, reader, view);
      read_plan(layer, where, user, groups, reader, view);
    }
  }
  auto pipeline = manifest.find("pipeline");
  if (pipeline == manifest.end() || !pipeline->is_object()) {
    reader.fail(pipeline == manifest.end() ? "/" : "/pipeline",
                pipeline == manifest.end() ? "missing key \"pipeline\"" : "must be an object");
    return;
  }
  read_comms(*pipeline, "/pipeline", "pipeline", "pipeline", -1, groups, reader, view);
}

// "nodes": {"nodes": [{"node": 0, "ranks": [0, 1]}, …]}: optional; every rank on one node.
void read_nodes(const Json& manifest, Reader& reader, ManifestView& view) {
  auto it = manifest.find("nodes");
  if (it == manifest.end()) return;
  auto list = it->is_object() ? it->find("nodes") : it->end();
  if (!it->is_object() || list == it->end() || !list->is_array()) {
    reader.fail("/nodes", "must be an object with a \"nodes\" list");
    return;
  }
  std::unordered_map<int, int> seen;  // rank -> times listed, sized by the list, not world_size
  for (std::size_t n = 0; n < list->size(); ++n) {
    const std::string where = "/nodes/nodes/" + std::to_string(n) + "/ranks";
    auto ranks = (*list)[n].is_object() ? (*list)[n].find("ranks") : (*list)[n].end();
    if (!(*list)[n].is_object() || ranks == (*list)[n].end() || !ranks->is_array()) {
      reader.fail(where, "must be a list of ranks");
      return;
    }
    view.nodes.emplace_back();
    for (std::size_t i = 0; i < ranks->size(); ++i) {
      auto r = reader.integer_value((*ranks)[i], where + "/" + std::to_string(i), 0,
                                    std::max(view.world_size - 1, 0));
      if (!r) return;
      if (seen[*r]++ > 0) {
        reader.fail(where, "rank " + std::to_string(*r) + " is on two nodes");
        return;
      }
      view.nodes.back().push_back(*r);
    }
  }
}

}  // namespace

std::optional<Op> parse_op(std::string_view name) {
  for (const auto& [text, op] : kOps) {
    if (text == name) return op;
  }
  return std::nullopt;
}

std::string_view op_name(Op op) {
  for (const auto& [text, value] : kOps) {
    if (value == op) return text;
  }
  return "?";
}

int GroupSet::uniform_size() const {
  if (groups.empty()) return 0;
  const auto size = groups.front().size();
  for (const auto& g : groups) {
    if (g.size() != size) return 0;
  }
  return static_cast<int>(size);
}

std::pair<int, int> GroupSet::locate(int rank) const {
  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto it = std::find(groups[g].begin(), groups[g].end(), rank);
    if (it != groups[g].end()) {
      return {static_cast<int>(g), static_cast<int>(it - groups[g].begin())};
    }
  }
  return {-1, -1};
}

const GroupSet* ManifestView::find_set(std::string_view name) const {
  for (const auto& set : sets) {
    if (set.name == name) return &set;
  }
  return nullptr;
}

std::string render_problem(const Problem& problem) {
  return "manifest" + (problem.where == "/" ? std::string() : ":" + problem.where) + ": " +
         problem.message;
}

int canonical_set_rank(std::string_view name) {
  // vLLM's creation order (parallel_state.py::initialize_model_parallel), then layerplan's sets.
  static constexpr std::array<std::string_view, 9> kOrder{"world", "tp", "dcp",     "pcp", "pp",
                                                          "dp",    "ep", "attn_tp", "etp"};
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == name) return static_cast<int>(i);
  }
  return name.rfind("tp_sub", 0) == 0 ? static_cast<int>(kOrder.size())
                                      : static_cast<int>(kOrder.size()) + 1;
}

std::optional<ManifestView> read_manifest(const nlohmann::ordered_json& manifest,
                                          std::vector<Problem>& problems) {
  Reader reader(problems);
  if (!manifest.is_object()) {
    reader.fail("/", "a manifest must be a JSON object");
    return std::nullopt;
  }
  ManifestView view;
  if (auto w = reader.integer(manifest, "", "world_size", 1, kMaxWorld)) view.world_size = *w;
  if (auto model = manifest.find("model"); model != manifest.end() && model->is_object()) {
    if (auto d = model->find("dtype"); d != model->end() && d->is_string()) {
      view.dtype = d->get<std::string>();
    }
    if (auto a = model->find("architecture"); a != model->end() && a->is_string()) {
      view.architecture = a->get<std::string>();
    }
  }
  read_axes(manifest, reader, view);
  // Written with `compile --group-lists none`: the lists come from the compact group_layout,
  // then go through the same checks as listed groups.
  const Json* source = &manifest;
  Json expanded;
  auto layout = manifest.find("group_layout");
  if (!manifest.contains("groups") && layout != manifest.end() && view.world_size > 0) {
    expanded = manifest;
    Json groups = Json::object();
    if (!layout->is_object()) reader.fail("/group_layout", "must be an object of group sets");
    for (auto it = layout->begin(); layout->is_object() && it != layout->end(); ++it) {
      if (auto lists = expand_set(*it, child("/group_layout", it.key()), view.world_size, reader)) {
        groups[it.key()] = std::move(*lists);
      }
    }
    expanded["groups"] = std::move(groups);
    source = &expanded;
  }
  read_groups(*source, reader, view);
  read_layers(*source, reader, view);
  if (reader.count() == 0) read_nodes(manifest, reader, view);
  if (reader.count() > 0) return std::nullopt;
  return view;
}

}  // namespace layerplan::smoke
