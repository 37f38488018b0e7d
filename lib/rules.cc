#include "lib/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lib/glob.h"
#include "lib/yaml_source.h"

namespace layerplan {
namespace {

const std::vector<std::string> kTopKeys = {"parallelism_rules", "model"};
const std::vector<std::string> kSectionKeys = {"axes", "rules", "world_size", "pipeline"};
const std::vector<std::string> kPipelineKeys = {"partition"};
const std::vector<std::string> kRuleKeys = {"name", "match", "plan"};
const std::vector<std::string> kMatchKeys = {"kind", "attention_flavor", "prefix_pattern", "layers",
                                             "mtp"};
const std::vector<std::string> kPlanKeys = {"tp_size", "dcp_size", "ep_size"};
constexpr std::int64_t kMaxAxis = INT64_MAX;

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

class RulesParser {
 public:
  RulesParser(const SourcePtr& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  void parse(const YAML::Node& root, RulesFile& out) {
    out.file = file_;
    out.root = location_of(file_, root);
    out.axes_root = out.root;
    if (!root.IsMap()) {
      error("wrong-type", root,
            fmt::format("the rules file must be a mapping with a top-level 'parallelism_rules:', "
                        "got {}",
                        yaml_type_name(root)));
      return;
    }
    YAML::Node section;
    for (const auto& e : map_entries(file_, root, "the top level", kTopKeys, diags_)) {
      if (e.key == "model") {
        parse_model(e.value, out);
      } else {
        section = e.value;
      }
    }
    if (!section.IsDefined()) {
      diags_.report(make_error("missing-key", out.root,
                               "the rules file has no top-level 'parallelism_rules:'"));
      return;
    }
    out.root = location_of(file_, section);
    out.axes_root = out.root;
    if (!section.IsMap()) {
      error("wrong-type", section,
            fmt::format("'parallelism_rules' must be a mapping of axes and rules, got {}",
                        yaml_type_name(section)));
      return;
    }
    bool has_rules = false;
    for (const auto& e : map_entries(file_, section, "parallelism_rules", kSectionKeys, diags_)) {
      if (e.key == "axes") {
        out.axes_root = location_of(file_, e.value);
        parse_axes(e.value, out);
      } else if (e.key == "world_size") {
        if (auto v = read_positive_int(file_, e.value, "world_size", kMaxAxis, diags_)) {
          out.world_size =
              Axis{"world_size", *v, location_of(file_, e.value), location_of(file_, e.value)};
        }
      } else if (e.key == "pipeline") {
        parse_pipeline(e.value, out);
      } else if (e.key == "rules") {
        has_rules = true;
        rules_node_ = e.value;
      }
    }
    // Rules after axes, whatever the key order, so plans can name any axis.
    if (has_rules) parse_rules_list(rules_node_, out);
    if (!has_rules) {
      diags_.report(make_error("missing-key", out.root, "parallelism_rules has no 'rules:' list"));
    }
    check_axis_names(out);
  }

 private:
  void error(std::string_view code, const YAML::Node& node, std::string message) {
    diags_.report(make_error(code, location_of(file_, node), std::move(message)));
  }

  void parse_model(const YAML::Node& node, RulesFile& out) {
    out.model_location = location_of(file_, node);
    if (!node.IsScalar() || node.Scalar().empty()) {
      error("wrong-type", node,
            fmt::format("'model' must name the model: a path to its config.json (or its "
                        "directory), relative to this file, or a HuggingFace id such as "
                        "'org/name' or 'org/name@revision'; got {}",
                        node.IsScalar() ? "an empty string" : yaml_type_name(node)));
      return;
    }
    out.model = node.Scalar();
  }

  void parse_axes(const YAML::Node& node, RulesFile& out) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      error("wrong-type", node,
            fmt::format("'axes' must map axis names to positive integers, got {}",
                        yaml_type_name(node)));
      return;
    }
    if (node.size() > kMaxAxes) {
      error(
          "yaml-limit", node,
          fmt::format("'axes' defines {} axes, more than the limit of {}", node.size(), kMaxAxes));
      return;
    }
    for (const auto& e : map_entries(file_, node, "axes", {}, diags_)) {
      if (!is_identifier(e.key)) {
        error("invalid-value", e.key_node,
              fmt::format("axis name '{}' must be lower-case letters, digits and '_'", e.key));
        continue;
      }
      if (e.key == "world_size") {
        error("invalid-value", e.key_node,
              "'world_size' is not an axis; put it beside 'axes' in parallelism_rules");
        continue;
      }
      auto v = read_positive_int(file_, e.value, fmt::format("axis '{}'", e.key), kMaxAxis, diags_);
      if (v)
        out.axes.push_back(
            Axis{e.key, *v, location_of(file_, e.value), location_of(file_, e.key_node)});
      else
        failed_axes_.push_back(e.key);
    }
  }

  // vLLM's VLLM_PP_LAYER_PARTITION as YAML; its length and sum are checked against the model by
  // the engine (distributed/utils.py::get_pp_indices).
  void parse_pipeline(const YAML::Node& node, RulesFile& out) {
    if (!node.IsMap()) {
      error("wrong-type", node,
            fmt::format("'pipeline' must be a mapping with 'partition', got {}",
                        yaml_type_name(node)));
      return;
    }
    for (const auto& e : map_entries(file_, node, "pipeline", kPipelineKeys, diags_)) {
      if (!e.value.IsSequence() || e.value.size() == 0) {
        error("wrong-type", e.value,
              fmt::format("'partition' must be a list of layers per pipeline stage, e.g. [31, 30], "
                          "got {}",
                          yaml_type_name(e.value)));
        continue;
      }
      if (e.value.size() > kMaxStages) {
        error("yaml-limit", e.value,
              fmt::format("'partition' lists {} stages, more than the limit of {}", e.value.size(),
                          kMaxStages));
        continue;
      }
      PipelinePartition partition;
      partition.location = location_of(file_, e.value);
      bool ok = true;
      for (const auto& item : e.value) {
        auto v = read_positive_int(file_, item, "a stage's layer count", kMaxStageLayers, diags_);
        if (v)
          partition.sizes.push_back(*v);
        else
          ok = false;
      }
      if (ok) out.partition = std::move(partition);
    }
  }

  void parse_rules_list(const YAML::Node& node, RulesFile& out) {
    if (!node.IsSequence()) {
      error("wrong-type", node,
            fmt::format("'rules' must be a list of {{match, plan}} entries, got {}",
                        yaml_type_name(node)));
      return;
    }
    if (node.size() > kMaxRules) {
      error(
          "yaml-limit", node,
          fmt::format("'rules' holds {} rules, more than the limit of {}", node.size(), kMaxRules));
      return;
    }
    int position = 0;
    for (const auto& item : node) {
      Rule rule;
      rule.position = position++;
      rule.location = location_of(file_, item);
      if (!item.IsMap()) {
        error("wrong-type", item,
              fmt::format("rule {} must be a mapping with 'match' and 'plan', got {}",
                          rule.position, yaml_type_name(item)));
        continue;
      }
      bool has_match = false, has_plan = false, ok = true;
      int errors_before = diags_.count(Severity::kError);
      for (const auto& e :
           map_entries(file_, item, fmt::format("rule {}", rule.position), kRuleKeys, diags_)) {
        if (e.key == "name") {
          if (!e.value.IsScalar()) {
            error("wrong-type", e.value, "a rule's 'name' must be a string");
          } else {
            rule.name = e.value.Scalar();
          }
        } else if (e.key == "match") {
          has_match = true;
          parse_match(e.value, rule.match);
        } else if (e.key == "plan") {
          has_plan = true;
          parse_plan(e.value, rule.plan, out);
        }
      }
      if (!has_match) {
        error("missing-key", item, fmt::format("rule {} has no 'match:'", rule.position));
        ok = false;
      }
      if (!has_plan) {
        error("missing-key", item, fmt::format("rule {} has no 'plan:'", rule.position));
        ok = false;
      }
      if (ok && diags_.count(Severity::kError) == errors_before)
        out.rules.push_back(std::move(rule));
    }
  }

  void parse_match(const YAML::Node& node, Matcher& m) {
    m.location = location_of(file_, node);
    if (node.IsNull()) return;  // `match:` with nothing matches every layer
    if (!node.IsMap()) {
      error("wrong-type", node,
            fmt::format("'match' must be a mapping of matchers, got {}", yaml_type_name(node)));
      return;
    }
    for (const auto& e : map_entries(file_, node, "match", kMatchKeys, diags_)) {
      Location where = location_of(file_, e.value);
      if (e.key != "layers" && !e.value.IsScalar()) {
        error("wrong-type", e.value,
              fmt::format("matcher '{}' must be a single value, got {}", e.key,
                          yaml_type_name(e.value)));
        continue;
      }
      if (e.key == "kind") {
        m.kind_location = where;
        m.kind = parse_kind(e.value.Scalar());
        if (!m.kind) unknown_name("unknown-kind", e.value, "layer kind", kind_names());
      } else if (e.key == "attention_flavor") {
        m.flavor_location = where;
        m.flavor = parse_flavor(e.value.Scalar());
        if (!m.flavor) unknown_name("unknown-flavor", e.value, "attention flavor", flavor_names());
      } else if (e.key == "prefix_pattern") {
        m.prefix_location = where;
        if (auto why = glob_error(e.value.Scalar())) {
          error("bad-pattern", e.value,
                fmt::format("prefix_pattern '{}' is malformed: {}", e.value.Scalar(), *why));
        } else {
          m.prefix_pattern = glob_compact(e.value.Scalar());
        }
      } else if (e.key == "mtp") {
        m.mtp_location = where;
        const std::string& s = e.value.Scalar();
        if (s == "true")
          m.mtp = true;
        else if (s == "false")
          m.mtp = false;
        else
          error("wrong-type", e.value,
                fmt::format("matcher 'mtp' must be true or false, got '{}'", s));
      } else if (e.key == "layers") {
        m.layers_location = where;
        parse_layer_range(e.value, m);
      }
    }
  }

  void unknown_name(std::string_view code, const YAML::Node& node, std::string_view what,
                    const std::vector<std::string>& known) {
    std::string hint = closest_match(node.Scalar(), known);
    Diagnostic d = make_error(code, location_of(file_, node),
                              hint.empty() ? fmt::format("unknown {} '{}'", what, node.Scalar())
                                           : fmt::format("unknown {} '{}'; did you mean '{}'?",
                                                         what, node.Scalar(), hint));
    d.notes.push_back({{}, fmt::format("valid {}s: {}", what, fmt::join(known, ", "))});
    diags_.report(std::move(d));
  }

  void parse_layer_range(const YAML::Node& node, Matcher& m) {
    auto bad = [&](std::string why) {
      error("bad-layer-range", node,
            fmt::format("'layers' must be an index, \"first-last\" or [first, last]: {}", why));
    };
    std::optional<std::int64_t> first, last;
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      std::size_t dash = s.find('-', 1);
      if (dash == std::string::npos) {
        first = last = parse_integer(s);
      } else {
        first = parse_integer(std::string_view(s).substr(0, dash));
        last = parse_integer(std::string_view(s).substr(dash + 1));
      }
      if (!first || !last) return bad(fmt::format("'{}' is not a valid range", s));
    } else if (node.IsSequence() && node.size() == 2 && node[0].IsScalar() && node[1].IsScalar()) {
      first = parse_integer(node[0].Scalar());
      last = parse_integer(node[1].Scalar());
      if (!first || !last) return bad("both ends must be integers");
    } else {
      return bad(fmt::format("got {}", yaml_type_name(node)));
    }
    if (*first < 0 || *last < *first || *last > 1000000) {
      return bad(fmt::format("{}..{} is empty or out of range", *first, *last));
    }
    m.layers = std::make_pair(static_cast<int>(*first), static_cast<int>(*last));
  }

  void parse_plan(const YAML::Node& node, Plan& plan, const RulesFile& out) {
    plan.location = location_of(file_, node);
    if (!node.IsMap()) {
      error("wrong-type", node,
            fmt::format("'plan' must be a mapping of tp_size, dcp_size and ep_size, got {}",
                        yaml_type_name(node)));
      return;
    }
    for (const auto& e : map_entries(file_, node, "plan", kPlanKeys, diags_)) {
      PlanValue& v = e.key == "tp_size"    ? plan.tp_size
                     : e.key == "dcp_size" ? plan.dcp_size
                                           : plan.ep_size;
      v.location = location_of(file_, e.value);
      if (!e.value.IsScalar()) {
        error("wrong-type", e.value,
              fmt::format("{} must be an axis name or a positive integer, got {}", e.key,
                          yaml_type_name(e.value)));
        continue;
      }
      const std::string& s = e.value.Scalar();
      bool numeric = !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' ||
                                    s[0] == '+' || s[0] == '.');
      if (numeric) {
        if (auto n = read_positive_int(file_, e.value, e.key, kMaxAxis, diags_)) {
          v.present = true;
          v.literal = *n;
        }
        continue;
      }
      if (out.find_axis(s) == nullptr) {
        if (std::find(failed_axes_.begin(), failed_axes_.end(), s) != failed_axes_.end()) continue;
        std::vector<std::string> names;
        for (const auto& a : out.axes) names.push_back(a.name);
        std::string hint = closest_match(s, names);
        Diagnostic d = make_error(
            "undefined-axis", v.location,
            hint.empty() ? fmt::format("{} names axis '{}', which 'axes' does not define", e.key, s)
                         : fmt::format("{} names axis '{}', which 'axes' does not define; did "
                                       "you mean '{}'?",
                                       e.key, s, hint));
        d.notes.push_back({out.axes_root, names.empty() ? std::string("no axes are defined")
                                                        : fmt::format("defined axes: {}",
                                                                      fmt::join(names, ", "))});
        diags_.report(std::move(d));
        continue;
      }
      v.present = true;
      v.axis = s;
    }
  }

  // Axes that are likely slips: a near miss of a built-in axis (which then keeps its default),
  // or an axis of the file's own that no plan names (only judged when every rule parsed).
  void check_axis_names(const RulesFile& out) {
    bool rules_complete = diags_.count(Severity::kError) == errors_at_start_;
    for (const Axis& axis : out.axes) {
      if (std::find(kBuiltinAxes.begin(), kBuiltinAxes.end(), axis.name) != kBuiltinAxes.end())
        continue;
      if (std::string near = builtin_axis_near(axis.name); !near.empty()) {
        Diagnostic d = make_warning(
            "axis-near-builtin", axis.name_location,
            fmt::format("axis '{}' is not the built-in axis '{}': layerplan gives it no meaning "
                        "of its own, and '{}' keeps its default; did you mean '{}'?",
                        axis.name, near, near, near));
        d.notes.push_back({{}, fmt::format("built-in axes: {}", fmt::join(kBuiltinAxes, ", "))});
        diags_.report(std::move(d));
        continue;
      }
      if (!rules_complete) continue;
      bool used = std::any_of(out.rules.begin(), out.rules.end(), [&](const Rule& r) {
        return r.plan.tp_size.axis == axis.name || r.plan.dcp_size.axis == axis.name ||
               r.plan.ep_size.axis == axis.name;
      });
      if (!used) {
        diags_.report(make_warning(
            "axis-unused", axis.name_location,
            fmt::format("axis '{}' is declared but no rule's plan names it; only the built-in "
                        "axes ({}) shape the rank groups",
                        axis.name, fmt::join(kBuiltinAxes, ", "))));
      }
    }
  }

  SourcePtr file_;
  Diagnostics& diags_;
  int errors_at_start_ = diags_.count(Severity::kError);
  YAML::Node rules_node_;
  std::vector<std::string> failed_axes_;
};

}  // namespace

std::string builtin_axis_near(std::string_view name) {
  auto without = [](std::string_view s, char drop) {
    std::string out;
    for (char c : s) {
      if (c != drop) out += c;
    }
    return out;
  };
  auto parts = [](std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t at; (at = s.find('_', start)) != std::string_view::npos; start = at + 1) {
      out.emplace_back(s.substr(start, at - start));
    }
    out.emplace_back(s.substr(start));
    std::sort(out.begin(), out.end());
    return out;
  };
  auto swapped = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    std::vector<std::size_t> diff;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) diff.push_back(i);
    }
    return diff.size() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] &&
           a[diff[1]] == b[diff[0]];
  };
  if (name.size() > 64) return "";
  for (const std::string& builtin : kBuiltinAxes) {
    if (name == builtin) return "";
  }
  for (const std::string& builtin : kBuiltinAxes) {
    if (without(name, '_') == without(builtin, '_') || parts(name) == parts(builtin) ||
        swapped(name, builtin) || (builtin.size() >= 4 && edit_distance(name, builtin) <= 2)) {
      return builtin;
    }
  }
  return "";
}

const Axis* RulesFile::find_axis(std::string_view name) const {
  for (const auto& axis : axes) {
    if (axis.name == name) return &axis;
  }
  return nullptr;
}

std::optional<RulesFile> parse_rules(const SourcePtr& file, Diagnostics& diags,
                                     RulesFile* partial) {
  int errors_before = diags.count(Severity::kError);
  auto root = load_yaml(file, diags);
  if (!root) return std::nullopt;
  RulesFile out;
  RulesParser(file, diags).parse(*root, out);
  if (diags.count(Severity::kError) != errors_before) {
    if (partial != nullptr) *partial = std::move(out);
    return std::nullopt;
  }
  return out;
}

std::optional<RulesFile> load_rules(const std::string& path, Diagnostics& diags,
                                    RulesFile* partial) {
  ReadError error;
  auto source = read_source(path, error);
  if (!source) {
    diags.report(make_error("input-unreadable", Location{}, error.message));
    return std::nullopt;
  }
  return parse_rules(*source, diags, partial);
}

bool looks_like_rules(std::string_view text) {
  for (std::string_view key :
       {"parallelism_rules", "\"parallelism_rules\"", "'parallelism_rules'"}) {
    for (std::size_t at = text.find(key); at != std::string_view::npos;
         at = text.find(key, at + 1)) {
      if (at != 0 && text[at - 1] != '\n' && text[at - 1] != '{') continue;
      std::size_t i = at + key.size();
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i < text.size() && text[i] == ':') return true;
    }
  }
  return false;
}

}  // namespace layerplan
