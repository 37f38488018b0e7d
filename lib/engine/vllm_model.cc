// What vLLM refuses once it knows the model: construction-time asserts of its model code, the
// Model Runner V2 limits on prefill context parallelism, vocabulary padding, and runtime asserts
// that default settings reach. Also the plan vLLM gives a layer today (the global plan). Each
// rule names the vLLM function it follows (vLLM main f067737b; docs/vllm-fidelity.md).
#include <fmt/format.h>

#include "lib/checks.h"
#include "lib/engine/vllm.h"

namespace layerplan {
namespace {

using check_util::blame;
using check_util::config_note;
using check_util::describe;
using check_util::divisors;
using check_util::join;
using check_util::report_for;

// vocab_parallel_embedding.py: DEFAULT_VOCAB_PADDING_SIZE.
constexpr std::int64_t kVocabPadding = 64;

// The first layer of `kind`, or null.
const LayerPlan* first_of(const CheckContext& ctx, LayerKind kind) {
  for (const auto& p : ctx.plans) {
    if (p.layer->kind == kind) return &p;
  }
  return nullptr;
}

bool uses_mla(const Model& model) {
  for (const auto& l : model.layers) {
    if (l.kind == LayerKind::kAttention && l.flavor == Flavor::kMla) return true;
  }
  return false;
}

// Model Runner V2 runs PCP for MLA models only (config/vllm.py::
// VllmConfig._get_v2_model_runner_unsupported_features, v1/worker/gpu/pcp_manager.py::
// PCPManager.validate_config), and refuses speculative decoding with it.
void check_pcp_model(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pcp <= 1) return;
  Location where = a.location("pcp", ctx.rules.axes_root);
  if (!uses_mla(ctx.model)) {
    Diagnostic d = make_error(
        "pcp-needs-mla", where,
        fmt::format("pcp ({}) needs an MLA model: vLLM runs prefill context parallelism only in "
                    "Model Runner V2, whose PCP supports MLA models only, and {} has no MLA "
                    "attention",
                    a.pcp, ctx.model.architecture));
    d.notes.push_back({{}, "vLLM: \"Model Runner V2 does not yet support: prefill context "
                           "parallelism\" (MRV2 PCP currently supports MLA models only)"});
    d.notes.push_back({{}, "valid: pcp 1; to shard the KV cache of a GQA model use dcp"});
    diags.report(std::move(d));
  }
  if (const LayerPlan* mtp = first_of(ctx, LayerKind::kMtp); mtp != nullptr) {
    Diagnostic d = make_warning(
        "pcp-with-mtp", where,
        fmt::format("pcp ({}) rules out speculative decoding, so the model's {} MTP draft "
                    "layer(s) cannot run: vLLM's MRV2 PCP does not support speculative decoding",
                    a.pcp, ctx.model.num_mtp_layers));
    d.notes.push_back({{}, "launch without --speculative-config, or with pcp 1 to use the MTP "
                           "draft layers"});
    d.subjects.push_back(mtp->layer->prefix);
    diags.report(std::move(d));
  }
}

// vocab_parallel_embedding.py::pad_vocab_size pads to a multiple of 64, then
// VocabParallelEmbedding.__init__ divides the padded rows by the TP size (divide() asserts).
void check_vocab(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kEmbedding && l.kind != LayerKind::kLmHead) continue;
    std::int64_t tp = p.plan.tp_size.value;
    if (tp < 1 || !l.vocab_size || l.vocab_size.value > kMaxDimension) continue;
    std::int64_t padded = vllm_padded_vocab(l.vocab_size.value);
    if (padded % tp != 0) {
      Diagnostic d = make_error(
          "vocab-divides-tp", blame(p.plan.tp_size, a),
          fmt::format("{} ({}) padded to a multiple of {} is {}, which {} does not divide: vLLM's "
                      "vocab-parallel layer asserts that every rank holds as many rows",
                      l.vocab_size.key, l.vocab_size.value, kVocabPadding, padded,
                      describe("tp_size", p.plan.tp_size)));
      d.notes.push_back(config_note(l.vocab_size));
      std::vector<std::int64_t> valid;
      for (auto v : divisors(padded)) {
        if (v <= 1024) valid.push_back(v);
      }
      d.notes.push_back({{}, fmt::format("valid tp_size values for {} rows (up to 1024): {}",
                                         padded, join(valid))});
      d.valid_values = std::move(valid);
      report_for(diags, std::move(d), p, ctx, p.plan.tp_size);
    } else if (padded != l.vocab_size.value) {
      Diagnostic d = make_note(
          "vocab-padding", blame(p.plan.tp_size, a),
          fmt::format("{} ({}) is padded to {} (a multiple of {}) for {}: {} rows per rank, {} of "
                      "them padding in total",
                      l.vocab_size.key, l.vocab_size.value, padded, kVocabPadding,
                      describe("tp_size", p.plan.tp_size), padded / tp,
                      padded - l.vocab_size.value));
      report_for(diags, std::move(d), p, ctx, p.plan.tp_size);
    }
  }
}

// qwen3_moe.py::Qwen3MoeSparseMoeBlock, qwen3_next.py::Qwen3NextSparseMoeBlock,
// minimax_m2.py::MiniMaxM2MoE: "Tensor parallel size {tp} is greater than the number of experts
// {n}." (the declaration's tp_limited_by_experts says which families raise it).
void check_tp_exceeds_experts(const CheckContext& ctx, Diagnostics& diags) {
  if (!ctx.model.tp_limited_by_experts) return;
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kMoe || !l.num_experts) continue;
    std::int64_t tp = p.plan.tp_size.value;
    if (tp <= l.num_experts.value) continue;
    Diagnostic d = make_error(
        "tp-exceeds-experts", blame(p.plan.tp_size, ctx.axes),
        fmt::format("{} is more than the {} routed experts: vLLM's {} MoE block raises \"Tensor "
                    "parallel size {} is greater than the number of experts {}.\"",
                    describe("tp_size", p.plan.tp_size), l.num_experts.value, ctx.model.family,
                    tp, l.num_experts.value));
    d.notes.push_back(config_note(l.num_experts));
    d.notes.push_back({{}, fmt::format("valid: tp_size at most {}", l.num_experts.value)});
    report_for(diags, std::move(d), p, ctx, p.plan.tp_size);
  }
}

// gpt_oss.py::MLPBlock.__init__ asserts intermediate_size % dist.get_world_size() == 0: the whole
// torch world, every DP replica included (tp * pp * pcp * dp).
void check_mlp_divides_world(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (!ctx.model.mlp_divides_world || a.world_overflows) return;
  std::int64_t world = a.world_size;  // tp * pp * dp * pcp: every DP replica's ranks
  for (const auto& p : ctx.plans) {
    const Layer& l = *p.layer;
    if (l.kind != LayerKind::kMoe && l.kind != LayerKind::kMlp) continue;
    const ConfigValue& width =
        l.kind == LayerKind::kMoe ? l.moe_intermediate_size : l.intermediate_size;
    if (!width || world < 1) continue;
    if (width.value % world == 0) return;  // one width for every layer: report once
    Diagnostic d = make_error(
        "mlp-divides-world", a.location("dp", a.location("tp", ctx.rules.axes_root)),
        fmt::format("{} ({}) is not divisible by the whole world tp*pp*pcp*dp = {}*{}*{}*{} = {}: "
                    "vLLM's {} MLP block asserts intermediate_size % world_size == 0 over every "
                    "rank, DP replicas included",
                    width.key, width.value, a.tp, a.pp, a.pcp, a.dp, world, ctx.model.family));
    d.notes.push_back(config_note(width));
    std::vector<std::int64_t> valid;
    for (auto v : divisors(width.value)) {
      if (v <= 4096) valid.push_back(v);
    }
    d.notes.push_back({{}, fmt::format("valid world sizes (up to 4096): {}", join(valid))});
    d.valid_values = std::move(valid);
    d.subjects.push_back(l.prefix);
    diags.report(std::move(d));
    return;
  }
}

// v1/kv_cache_interface.py::SlidingWindowSpec.max_memory_usage_bytes asserts
// "DCP not support sliding window." when vLLM sizes the KV cache (on every start: the hybrid KV
// cache manager is on by default and keeps sliding-window layers' own spec), and
// v1/core/single_type_kv_cache_manager.py::SlidingWindowManager.find_longest_cache_hit asserts
// "DCP not support sliding window attn now." with prefix caching on.
void check_dcp_sliding_window(const CheckContext& ctx, Diagnostics& diags) {
  std::vector<const LayerPlan*> sliding;
  bool full = false;
  int attention = 0, slides = 0;
  for (const auto& p : ctx.plans) {
    if (p.layer->kind != LayerKind::kAttention || p.layer->mtp) continue;
    ++attention;
    if (p.layer->flavor != Flavor::kSliding) {
      full = true;
      continue;
    }
    ++slides;
    if (p.plan.dcp_size.value > 1) sliding.push_back(&p);
  }
  if (sliding.empty()) return;
  const LayerPlan& p = *sliding.front();
  Diagnostic d = make_warning(
      "dcp-sliding-window", blame(p.plan.dcp_size, ctx.axes),
      fmt::format("{} on sliding-window attention: vLLM asserts \"DCP not support sliding "
                  "window.\" when it sizes the KV cache of a sliding-window layer ({} of the {} "
                  "attention layers slide)",
                  describe("dcp_size", p.plan.dcp_size), slides, attention));
  d.notes.push_back(config_note(p.layer->sliding_window));
  if (full) {
    d.notes.push_back({{}, "the model mixes sliding and full attention: "
                           "--disable-hybrid-kv-cache-manager makes vLLM treat the sliding layers "
                           "as full attention, which DCP supports"});
  } else {
    d.notes.push_back({{}, "every attention layer slides: only --disable-sliding-window avoids "
                           "it (vLLM then caps max_model_len at the window); "
                           "--no-enable-prefix-caching alone does not"});
  }
  d.notes.push_back({{}, "valid: dcp_size 1 on the sliding-window layers"});
  for (std::size_t i = 1; i < sliding.size(); ++i) d.subjects.push_back(sliding[i]->layer->prefix);
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

}  // namespace

std::int64_t vllm_padded_vocab(std::int64_t vocab) {
  return (vocab + kVocabPadding - 1) / kVocabPadding * kVocabPadding;
}

ResolvedPlan vllm_global_plan(const Layer& layer, const AxisValues& axes, const RulesFile& rules) {
  ResolvedPlan p;
  ResolvedField one{1, "", rules.axes_root, false};
  // deepseek_v2.py::Indexer: the V3.2 indexer's projections are replicated ("no tensor
  // parallel"), so its global plan is tp_size 1 and a model without a rule for it is valid.
  p.tp_size = layer.kind == LayerKind::kIndexer ? one : axis_field(axes, rules, "tp", axes.tp);
  // Every attention layer's KV cache is sharded by the one decode_context_parallel_size.
  p.dcp_size = layer.kind == LayerKind::kAttention && axes.dcp > 1
                   ? axis_field(axes, rules, "dcp", axes.dcp)
                   : one;
  // --enable-expert-parallel (an `ep` axis) turns EP on for every MoE layer.
  p.ep_size = layer.kind == LayerKind::kMoe && axes.ep ? axis_field(axes, rules, "ep", *axes.ep)
                                                       : one;
  return p;
}

void check_vllm_model(const CheckContext& ctx, Diagnostics& diags) {
  check_pcp_model(ctx, diags);
  check_vocab(ctx, diags);
  check_tp_exceeds_experts(ctx, diags);
  check_mlp_divides_world(ctx, diags);
  check_dcp_sliding_window(ctx, diags);
}

}  // namespace layerplan
