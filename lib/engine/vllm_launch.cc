// The command a checked plan means on vLLM: `vllm serve MODEL` with the parallel flags of
// engine/arg_utils.py::EngineArgs.add_cli_args, VLLM_PP_LAYER_PARTITION for an uneven pipeline
// (distributed/utils.py::get_pp_indices), PR #36287's -tpa where attention runs narrower than tp,
// and every per-layer wish no flag can say.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "lib/engine/vllm.h"

namespace layerplan {
namespace {

std::string quote(const std::string& word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_./:=,+@%-").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The plan vLLM gives a layer under the exported flags.
struct FlagPlan {
  std::int64_t tp, dcp, ep;
};

std::string reason_for(const Layer& l, std::string_view field, const AxisValues& a,
                       std::int64_t domain, bool tpa) {
  if (field == "dcp_size") {
    return fmt::format(
        "vLLM shards the KV cache of every attention layer by the one "
        "--decode-context-parallel-size ({})",
        a.dcp);
  }
  if (field == "ep_size") {
    return fmt::format(
        "vLLM main sets EP to dp*pcp*tp ({}) on every MoE layer with "
        "--enable-expert-parallel, and to 1 without it",
        domain);
  }
  if (l.mtp) return "MTP draft layers run at the target model's tp; no flag gives them their own";
  switch (l.kind) {
    case LayerKind::kIndexer:
      return "vLLM replicates the DeepSeek-V3.2 indexer (models/deepseek_v2.py::Indexer); no flag "
             "shards it";
    case LayerKind::kAttention:
      return tpa ? "-tpa (PR #36287) gives every attention layer the same attention TP size"
                 : "attention runs at tp, or at one -tpa size (PR #36287) for every attention "
                   "layer";
    case LayerKind::kMamba:
      return "Mamba layers run at the global tp; no flag gives them another";
    default:
      return fmt::format(
          "vLLM runs every {} layer at the global tp ({}); no flag gives a layer "
          "kind its own",
          kind_name(l.kind), a.tp);
  }
}

}  // namespace

std::string LaunchCommand::shell_line() const {
  std::vector<std::string> words;
  for (const auto& [name, value] : env) words.push_back(name + "=" + quote(value));
  for (const auto& w : argv) words.push_back(quote(w));
  return fmt::format("{}", fmt::join(words, " "));
}

LaunchCommand vllm_launch_command(const Model& model, const RulesFile& rules,
                                  const AxisValues& axes, const std::vector<LayerPlan>& plans,
                                  const std::string& model_arg) {
  LaunchCommand cmd;
  const AxisValues& a = axes;
  std::int64_t domain = a.dp * a.pcp * a.tp;  // checked not to overflow: a.world_size did not
  cmd.argv = {"vllm",
              "serve",
              model_arg,
              "--tensor-parallel-size",
              std::to_string(a.tp),
              "--pipeline-parallel-size",
              std::to_string(a.pp),
              "--data-parallel-size",
              std::to_string(a.dp),
              "--decode-context-parallel-size",
              std::to_string(a.dcp)};
  if (a.pcp > 1) {
    cmd.argv.insert(cmd.argv.end(), {"--prefill-context-parallel-size", std::to_string(a.pcp)});
  }
  // PR #36287's -tpa: one attention TP size for every attention layer, when the plan gives all
  // of them the same size below tp.
  std::optional<std::int64_t> tpa;
  bool first = true, uniform = true;
  for (const auto& p : plans) {
    if (p.layer->kind != LayerKind::kAttention) continue;
    if (first)
      tpa = p.plan.tp_size.value;
    else
      uniform = uniform && tpa == p.plan.tp_size.value;
    first = false;
  }
  if (!uniform || (tpa && *tpa >= a.tp)) tpa.reset();
  if (tpa) {
    cmd.argv.insert(cmd.argv.end(), {"--tensor-parallel-size-attention", std::to_string(*tpa)});
    cmd.prs.push_back("#36287");
  }
  bool ep = a.ep.has_value();
  if (ep) cmd.argv.push_back("--enable-expert-parallel");
  if (!a.pp_partition.empty()) {
    auto split = pipeline_stages(model.num_hidden_layers, a.pp);
    auto given = pipeline_stages(model.num_hidden_layers, a.pp, a.pp_partition);
    bool same =
        std::equal(split.begin(), split.end(), given.begin(), given.end(),
                   [](const Stage& x, const Stage& y) { return x.last_layer == y.last_layer; });
    if (!same) {
      cmd.env.emplace_back("VLLM_PP_LAYER_PARTITION",
                           fmt::format("{}", fmt::join(a.pp_partition, ",")));
    }
  }

  // Per-layer wishes the flags cannot say, one entry per rule and field.
  std::map<std::tuple<int, int>, LaunchCommand::Unexpressed> wishes;
  for (const auto& p : plans) {
    const Layer& l = *p.layer;
    FlagPlan f{
        l.kind == LayerKind::kIndexer ? 1 : (l.kind == LayerKind::kAttention && tpa ? *tpa : a.tp),
        l.kind == LayerKind::kAttention ? a.dcp : 1, l.kind == LayerKind::kMoe && ep ? domain : 1};
    const std::array<std::tuple<const char*, const ResolvedField*, std::int64_t>, 3> fields = {
        {{"tp_size", &p.plan.tp_size, f.tp},
         {"dcp_size", &p.plan.dcp_size, f.dcp},
         {"ep_size", &p.plan.ep_size, f.ep}}};
    for (int i = 0; i < 3; ++i) {
      const auto& [name, field, flag_value] = fields[static_cast<std::size_t>(i)];
      if (field->value == flag_value) continue;
      auto& w = wishes[{p.rule, i}];
      if (w.layers.empty()) {
        w.rule = p.rule;
        if (p.rule >= 0) w.rule_name = rules.rules[static_cast<std::size_t>(p.rule)].name;
        w.location = field->location;
        w.field = name;
        w.value = field->value;
        w.flags_value = flag_value;
        w.reason = reason_for(l, name, a, domain, tpa.has_value());
      }
      w.layers.push_back(l.prefix);
    }
  }
  if (a.ep && *a.ep != domain) {
    LaunchCommand::Unexpressed w;
    w.location = a.location("ep", rules.axes_root);
    w.field = "ep";
    w.value = *a.ep;
    w.flags_value = domain;
    w.reason =
        fmt::format("vLLM main sets EP to dp*pcp*tp ({}); no flag sets another size", domain);
    cmd.not_expressible.push_back(std::move(w));
  }
  for (auto& [key, w] : wishes) cmd.not_expressible.push_back(std::move(w));
  cmd.runnable_on = !cmd.not_expressible.empty() ? "none"
                    : cmd.prs.empty()            ? "vllm-main"
                                                 : "rfc-prs";
  return cmd;
}

}  // namespace layerplan
