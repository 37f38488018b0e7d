#include "lib/report_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "lib/json_reader.h"

namespace layerplan {

std::int64_t ReportGroupSet::group_count() const {
  return layout ? layout->count() : static_cast<std::int64_t>(groups.size());
}

std::int64_t ReportGroupSet::largest() const {
  if (layout) return layout->group_size;
  std::size_t most = 0;
  for (const auto& g : groups) most = std::max(most, g.size());
  return static_cast<std::int64_t>(most);
}

bool ReportGroupSet::uniform() const {
  if (layout) return true;
  return groups.empty() || std::all_of(groups.begin(), groups.end(), [&](const auto& g) {
           return g.size() == groups.front().size();
         });
}

std::vector<std::int64_t> ReportGroupSet::members(std::int64_t group) const {
  if (!layout) return groups[static_cast<std::size_t>(group)];
  return layout->group(group);
}

namespace {

using ojson = nlohmann::ordered_json;

// Problems past this many are counted in one last problem: a broken manifest of a large world
// would otherwise give one per rank.
constexpr std::size_t kMaxProblems = 50;

class Reader {
 public:
  explicit Reader(std::vector<ManifestProblem>& problems) : problems_(problems) {}

  void problem(const std::string& pointer, std::string message) {
    ++count_;
    if (count_ <= kMaxProblems) problems_.push_back({pointer, std::move(message)});
  }
  void finish() {
    if (count_ > kMaxProblems) {
      problems_.push_back({"", fmt::format("and {} more problems", count_ - kMaxProblems)});
    }
  }
  [[nodiscard]] bool failed() const { return count_ > 0; }

  // The member `key` of object `j`, or null (with a problem when `required`).
  const ojson* member(const ojson& j, const std::string& at, const char* key, bool required) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) problem(at, fmt::format("missing key \"{}\"", key));
      return nullptr;
    }
    return &*it;
  }
  const ojson* object(const ojson& j, const std::string& at, const char* key, bool required) {
    const ojson* v = member(j, at, key, required);
    if (v && !v->is_object()) {
      problem(at + "/" + key, "expected an object");
      return nullptr;
    }
    return v;
  }
  const ojson* array(const ojson& j, const std::string& at, const char* key, bool required) {
    const ojson* v = member(j, at, key, required);
    if (v && !v->is_array()) {
      problem(at + "/" + key, "expected an array");
      return nullptr;
    }
    return v;
  }
  std::int64_t integer(const ojson& j, const std::string& at, const char* key, std::int64_t min,
                       bool required, std::int64_t fallback) {
    const ojson* v = member(j, at, key, required);
    if (!v) return fallback;
    return integer_value(*v, at + "/" + key, min, fallback);
  }
  std::int64_t integer_value(const ojson& v, const std::string& at, std::int64_t min,
                             std::int64_t fallback) {
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max()) {
      return check_min(static_cast<std::int64_t>(v.get<std::uint64_t>()), at, min, fallback);
    }
    if (v.is_number_integer() && !v.is_number_unsigned()) {
      return check_min(v.get<std::int64_t>(), at, min, fallback);
    }
    problem(at, fmt::format("expected an integer of at least {}", min));
    return fallback;
  }
  // A string member; null gives "" when `nullable`.
  std::string string(const ojson& j, const std::string& at, const char* key, bool required,
                     bool nullable = false) {
    const ojson* v = member(j, at, key, required);
    if (!v || (nullable && v->is_null())) return "";
    if (!v->is_string()) {
      problem(at + "/" + key, nullable ? "expected a string or null" : "expected a string");
      return "";
    }
    return v->get<std::string>();
  }

 private:
  std::int64_t check_min(std::int64_t value, const std::string& at, std::int64_t min,
                         std::int64_t fallback) {
    if (value >= min) return value;
    problem(at, fmt::format("expected an integer of at least {}, not {}", min, value));
    return fallback;
  }

  std::vector<ManifestProblem>& problems_;
  std::size_t count_ = 0;
};

std::string pointer_of(const std::string& at, std::string_view key) {
  return at + "/" + json_pointer_escape(key);
}

// The scalar members of an object, as shown text (nested values are left out).
ReportFields scalars(const ojson* j) {
  ReportFields out;
  if (!j || !j->is_object()) return out;
  for (auto it = j->begin(); it != j->end(); ++it) {
    const ojson& v = it.value();
    if (v.is_string()) {
      out.emplace_back(it.key(), v.get<std::string>());
    } else if (v.is_number() || v.is_boolean() || v.is_null()) {
      out.emplace_back(it.key(), v.dump());
    }
  }
  return out;
}

// Numeric leaves of a value, keyed by their dotted path below it ("per_rank.weights_bytes").
void numeric_leaves(const ojson& j, const std::string& path,
                    std::vector<std::pair<std::string, double>>& out) {
  constexpr std::size_t kMaxLeaves = 256;
  if (out.size() >= kMaxLeaves) return;
  if (j.is_number()) {
    out.emplace_back(path.empty() ? "value" : path, j.get<double>());
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      numeric_leaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
  }
}

std::vector<std::int64_t> ranks(Reader& r, const ojson& j, const std::string& at,
                                std::int64_t world) {
  std::vector<std::int64_t> out;
  if (!j.is_array() || j.empty()) {
    r.problem(at, "expected a non-empty array of ranks");
    return out;
  }
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::string p = fmt::format("{}/{}", at, i);
    std::int64_t rank = r.integer_value(j[i], p, 0, -1);
    if (rank < 0) continue;
    if (rank >= world) {
      r.problem(p, fmt::format("rank {} is not below world_size {}", rank, world));
      continue;
    }
    out.push_back(rank);
  }
  return out;
}

void read_groups(Reader& r, const ojson& groups, ReportModel& m) {
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    std::string at = pointer_of("/groups", it.key());
    ReportGroupSet set{it.key(), {}, std::nullopt};
    if (!it.value().is_array() || it.value().empty()) {
      r.problem(at, "expected a non-empty array of groups");
      continue;
    }
    // Rank -> its group, sized by what the set lists: world_size alone (up to 2^24) would cost a
    // large allocation for every set of a tiny hostile file.
    std::unordered_map<std::int64_t, std::int64_t> seen_in;
    for (std::size_t g = 0; g < it.value().size(); ++g) {
      std::string gat = fmt::format("{}/{}", at, g);
      auto members = ranks(r, it.value()[g], gat, m.world_size);
      for (std::size_t k = 0; k < members.size(); ++k) {
        auto [seen, fresh] = seen_in.emplace(members[k], static_cast<std::int64_t>(g));
        if (!fresh) {
          r.problem(fmt::format("{}/{}", gat, k),
                    fmt::format("rank {} is already in group {} of set \"{}\"", members[k],
                                seen->second, it.key()));
        }
        seen->second = static_cast<std::int64_t>(g);
      }
      set.groups.push_back(std::move(members));
    }
    m.sets.push_back(std::move(set));
  }
}

// The compact description of the group sets (`group_layout`), read when the manifest lists no
// groups. Each step must walk the whole world once (a permutation): then every rank is in range
// and in one group of each set, which is what the listed groups are checked for.
void read_group_layout(Reader& r, const ojson& layout, ReportModel& m) {
  constexpr std::int64_t kMaxSteps = 8, kMaxDims = 16;
  for (auto it = layout.begin(); it != layout.end(); ++it) {
    const std::string at = pointer_of("/group_layout", it.key());
    const ojson& j = it.value();
    if (!j.is_object()) {
      r.problem(at, "expected an object with group_size, groups and steps");
      continue;
    }
    GroupSet set;
    set.name = it.key();
    set.group_size = r.integer(j, at, "group_size", 1, true, 0);
    const std::int64_t groups = r.integer(j, at, "groups", 1, true, 0);
    const ojson* steps = r.array(j, at, "steps", true);
    bool ok = set.group_size > 0 && groups > 0 && steps != nullptr;
    if (steps != nullptr && (steps->empty() || steps->size() > kMaxSteps)) {
      r.problem(at + "/steps", fmt::format("expected 1 to {} steps", kMaxSteps));
      ok = false;
    }
    for (std::size_t i = 0; ok && i < steps->size(); ++i) {
      const std::string sat = fmt::format("{}/steps/{}", at, i);
      const ojson& step = (*steps)[i];
      const ojson* sizes = r.array(step, sat, "sizes", true);
      const ojson* strides = r.array(step, sat, "strides", true);
      if (!step.is_object()) r.problem(sat, "expected an object with axes, sizes and strides");
      if (!step.is_object() || sizes == nullptr || strides == nullptr) {
        ok = false;
        break;
      }
      if (sizes->empty() || sizes->size() != strides->size() ||
          sizes->size() > static_cast<std::size_t>(kMaxDims)) {
        r.problem(sat,
                  fmt::format("expected sizes and strides of the same length, 1 to {}", kMaxDims));
        ok = false;
        break;
      }
      GroupStep g;
      std::int64_t product = 1;
      for (std::size_t k = 0; k < sizes->size(); ++k) {
        g.sizes.push_back(r.integer_value((*sizes)[k], fmt::format("{}/sizes/{}", sat, k), 1, 0));
        g.strides.push_back(
            r.integer_value((*strides)[k], fmt::format("{}/strides/{}", sat, k), 1, 0));
        // Bounded by the world size (at most 2^24) before each product, so nothing overflows.
        if (g.sizes.back() <= 0 || g.strides.back() <= 0 || g.sizes.back() > m.world_size ||
            g.strides.back() > m.world_size || product > m.world_size) {
          ok = false;
        } else {
          product *= g.sizes.back();
        }
      }
      if (!ok) {
        r.problem(sat,
                  fmt::format("expected sizes and strides of 1 to world_size {}", m.world_size));
        break;
      }
      if (product != m.world_size) {
        r.problem(sat, fmt::format("the step walks {} elements, not the world's {}", product,
                                   m.world_size));
        ok = false;
      } else if (!g.is_permutation()) {
        r.problem(sat,
                  "the step does not visit every rank once: ordered by stride, the strides of the "
                  "dimensions larger than 1 must be 1 and then each the product of the sizes "
                  "before it");
        ok = false;
      }
      set.steps.push_back(std::move(g));
    }
    if (!ok) continue;
    if (m.world_size % set.group_size != 0 || m.world_size / set.group_size != groups) {
      r.problem(at, fmt::format("group_size {} and groups {} do not cut the world of {} ranks",
                                set.group_size, groups, m.world_size));
      continue;
    }
    m.sets.push_back({it.key(), {}, std::move(set)});
  }
}

std::vector<ReportComm> read_comms(Reader& r, const ojson* comms, const std::string& at) {
  std::vector<ReportComm> out;
  if (!comms) return out;
  for (std::size_t i = 0; i < comms->size(); ++i) {
    const ojson& c = (*comms)[i];
    std::string cat = fmt::format("{}/{}", at, i);
    if (!c.is_object()) {
      r.problem(cat, "expected an object");
      continue;
    }
    ReportComm comm;
    comm.op = r.string(c, cat, "op", true);
    comm.group = r.string(c, cat, "group", true);
    comm.elements_per_token = r.integer(c, cat, "elements_per_token", 0, true, 0);
    comm.why = r.string(c, cat, "why", false);
    out.push_back(std::move(comm));
  }
  return out;
}

void read_plan(Reader& r, const ojson& plan, const std::string& at, ReportLayer& l) {
  l.tp_size = r.integer(plan, at, "tp_size", 1, true, 1);
  l.dcp_size = r.integer(plan, at, "dcp_size", 1, true, 1);
  l.ep_size = r.integer(plan, at, "ep_size", 1, true, 1);
  l.tp_group = r.string(plan, at, "tp_group", true, true);
  l.dcp_group = r.string(plan, at, "dcp_group", true, true);
  l.ep_group = r.string(plan, at, "ep_group", true, true);
}

void read_layers(Reader& r, const ojson& layers, ReportModel& m) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ojson& j = layers[i];
    std::string at = fmt::format("/layers/{}", i);
    if (!j.is_object()) {
      r.problem(at, "expected an object");
      continue;
    }
    ReportLayer l;
    l.prefix = r.string(j, at, "prefix", true);
    l.kind = r.string(j, at, "kind", true);
    l.flavor = r.string(j, at, "flavor", false, true);
    if (const ojson* index = r.member(j, at, "index", false); index && !index->is_null()) {
      l.index = r.integer_value(*index, at + "/index", 0, 0);
    }
    if (const ojson* mtp = r.member(j, at, "mtp", false)) {
      if (mtp->is_boolean())
        l.mtp = mtp->get<bool>();
      else
        r.problem(at + "/mtp", "expected a boolean");
    }
    l.stage = r.integer(j, at, "stage", 0, false, 0);
    if (const ojson* rule = r.member(j, at, "rule", true); rule && !rule->is_null()) {
      if (!rule->is_object()) {
        r.problem(at + "/rule", "expected an object or null");
      } else {
        l.has_rule = true;
        l.rule_position = r.integer(*rule, at + "/rule", "position", 0, true, 0);
        l.rule_line = r.integer(*rule, at + "/rule", "line", 1, true, 1);
        l.rule_name = r.string(*rule, at + "/rule", "name", false);
      }
    }
    if (const ojson* plan = r.object(j, at, "plan", true)) read_plan(r, *plan, at + "/plan", l);
    l.per_rank = scalars(r.object(j, at, "per_rank", false));
    l.comms = read_comms(r, r.array(j, at, "comms", false), at + "/comms");
    if (const ojson* memory = r.member(j, at, "memory", false))
      numeric_leaves(*memory, "", l.memory);
    m.layers.push_back(std::move(l));
  }
}

void read_pipeline(Reader& r, const ojson& pipeline, ReportModel& m) {
  if (const ojson* stages = r.array(pipeline, "/pipeline", "stages", false)) {
    for (std::size_t i = 0; i < stages->size(); ++i) {
      const ojson& s = (*stages)[i];
      std::string at = fmt::format("/pipeline/stages/{}", i);
      if (!s.is_object()) {
        r.problem(at, "expected an object");
        continue;
      }
      ReportStage st;
      st.stage = r.integer(s, at, "stage", 0, true, 0);
      st.first_layer = r.integer(s, at, "first_layer", 0, true, 0);
      st.last_layer = r.integer(s, at, "last_layer", 0, true, 0);
      st.num_layers = r.integer(s, at, "num_layers", 0, false, st.last_layer - st.first_layer + 1);
      m.stages.push_back(st);
    }
  }
  m.pipeline_comms =
      read_comms(r, r.array(pipeline, "/pipeline", "comms", false), "/pipeline/comms");
}

// `nodes` as the manifest writes it (docs/manifest.md: {ranks_per_node, derived_from, nodes:
// [{node, ranks}]}), or, for hand-written manifests, a node -> ranks object, an array of rank
// arrays, or an array of objects with `ranks` and a `node`/`name`/`host`. Every rank at most once.
void read_nodes(Reader& r, const ojson& nodes, const std::string& at, ReportModel& m) {
  if (nodes.is_object() && nodes.contains("ranks_per_node")) {
    if (const ojson* list = r.array(nodes, at, "nodes", true))
      read_nodes(r, *list, at + "/nodes", m);
    return;
  }
  auto add = [&](std::string name, const ojson& j, const std::string& where) {
    m.nodes.push_back({std::move(name), ranks(r, j, where, m.world_size)});
  };
  if (nodes.is_object()) {
    for (auto it = nodes.begin(); it != nodes.end(); ++it)
      add(it.key(), it.value(), pointer_of(at, it.key()));
  } else if (nodes.is_array()) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const ojson& n = nodes[i];
      std::string nat = fmt::format("{}/{}", at, i);
      if (!n.is_object()) {
        add(fmt::format("node {}", i), n, nat);
        continue;
      }
      std::string name = fmt::format("node {}", i);
      for (const char* key : {"node", "name", "host"}) {
        auto it = n.find(key);
        if (it == n.end()) continue;
        name = it->is_string() ? it->get<std::string>() : fmt::format("node {}", it->dump());
        break;
      }
      const ojson* list = r.member(n, nat, "ranks", true);
      if (list) add(std::move(name), *list, nat + "/ranks");
    }
  } else {
    r.problem(at, "expected an object (node -> ranks) or an array of nodes");
    return;
  }
  std::unordered_map<std::int64_t, std::size_t> node_of;
  for (std::size_t n = 0; n < m.nodes.size(); ++n) {
    for (std::int64_t rank : m.nodes[n].ranks) {
      auto [it, fresh] = node_of.emplace(rank, n);
      if (!fresh) {
        r.problem(at, fmt::format("rank {} is on two nodes, \"{}\" and \"{}\"", rank,
                                  m.nodes[it->second].name, m.nodes[n].name));
      }
    }
  }
}

}  // namespace

std::optional<ReportModel> read_report_model(const ojson& manifest,
                                             std::vector<ManifestProblem>& problems) {
  Reader r(problems);
  ReportModel m;
  if (!manifest.is_object()) {
    r.problem("", "a manifest is a JSON object");
    r.finish();
    return std::nullopt;
  }
  m.model = scalars(r.object(manifest, "", "model", true));
  m.engine = scalars(r.object(manifest, "", "engine", false));
  m.generator = scalars(r.object(manifest, "", "generator", false));
  m.inputs = scalars(r.object(manifest, "", "inputs", false));
  // Drawing allocates per rank: the world must be one layerplan could have compiled.
  constexpr std::int64_t kMaxWorld = std::int64_t{1} << 24;
  m.world_size = r.integer(manifest, "", "world_size", 1, true, 0);
  if (m.world_size > kMaxWorld) {
    r.problem("/world_size", fmt::format("world_size {} exceeds {}", m.world_size, kMaxWorld));
    m.world_size = 0;
  }
  if (const ojson* axes = r.object(manifest, "", "axes", true)) {
    for (auto it = axes->begin(); it != axes->end(); ++it) {
      m.axes.emplace_back(it.key(),
                          r.integer_value(it.value(), pointer_of("/axes", it.key()), 1, 1));
    }
    m.tp = r.integer(*axes, "/axes", "tp", 1, true, 1);
    m.pcp = r.integer(*axes, "/axes", "pcp", 1, true, 1);
    m.pp = r.integer(*axes, "/axes", "pp", 1, true, 1);
    m.dp = r.integer(*axes, "/axes", "dp", 1, true, 1);
    // Bounded by kMaxWorld each when they match, so the product is checked in steps.
    std::int64_t product = 1;
    for (std::int64_t v : {m.tp, m.pcp, m.pp, m.dp})
      product = product > kMaxWorld ? product : product * v;
    if (m.world_size > 0 && product != m.world_size) {
      r.problem("/axes", fmt::format("tp*pcp*pp*dp = {}*{}*{}*{} differs from world_size {}", m.tp,
                                     m.pcp, m.pp, m.dp, m.world_size));
    }
  }
  if (r.failed()) {  // the checks below index by rank
    r.finish();
    return std::nullopt;
  }
  // The listed groups, or (written with --group-lists none) their compact description.
  if (manifest.contains("groups") || !manifest.contains("group_layout")) {
    if (const ojson* groups = r.object(manifest, "", "groups", true)) read_groups(r, *groups, m);
  } else if (const ojson* layout = r.object(manifest, "", "group_layout", true)) {
    read_group_layout(r, *layout, m);
  }
  if (const ojson* layers = r.array(manifest, "", "layers", true)) read_layers(r, *layers, m);
  if (const ojson* pipeline = r.object(manifest, "", "pipeline", false))
    read_pipeline(r, *pipeline, m);
  const ojson* launch = r.object(manifest, "", "launch", false);
  if (const ojson* nodes = r.member(manifest, "", "nodes", false)) {
    read_nodes(r, *nodes, "/nodes", m);
  } else if (const ojson* launch_nodes =
                 launch ? r.member(*launch, "/launch", "nodes", false) : nullptr) {
    read_nodes(r, *launch_nodes, "/launch/nodes", m);
  }
  if (const ojson* memory = r.member(manifest, "", "memory", false))
    numeric_leaves(*memory, "", m.memory);
  r.finish();
  if (r.failed()) return std::nullopt;
  return m;
}

}  // namespace layerplan
