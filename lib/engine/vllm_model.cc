// What vLLM refuses once it knows the model: construction-time asserts of its model code, the
// Model Runner V2 limits on prefill context parallelism, vocabulary padding, and runtime asserts
// that default settings reach. Also the plan vLLM gives a layer today (the global plan). Each
// rule names the vLLM function it follows (vLLM main f067737b; docs/vllm-fidelity.md).
#include <fmt/format.h>

#include "lib/engine/vllm.h"
#include "lib/engine/vllm_checks.h"

namespace layerplan {

using namespace check_util;

namespace {

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

// The vocabulary rows of an embedding or lm_head layer, padded; null for other layers.
std::optional<std::int64_t> checked_vocab_rows(const LayerPlan& p) {
  const Layer& l = *p.layer;
  if (l.kind != LayerKind::kEmbedding && l.kind != LayerKind::kLmHead) return std::nullopt;
  if (p.plan.tp_size.value < 1 || !l.vocab_size || l.vocab_size.value > kMaxDimension) {
    return std::nullopt;
  }
  return vllm_padded_vocab(l.vocab_size.value);
}

}  // namespace

// Model Runner V2 runs PCP for MLA models only (config/vllm.py::
// VllmConfig._get_v2_model_runner_unsupported_features, v1/worker/gpu/pcp_manager.py::
// PCPManager.validate_config), and refuses speculative decoding with it.
void check_pcp_needs_mla(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  if (a.pcp <= 1 || uses_mla(ctx.model)) return;
  Diagnostic d = make_error(
      "pcp-needs-mla", a.location("pcp", ctx.rules.axes_root),
      fmt::format("pcp ({}) needs an MLA model: vLLM runs prefill context parallelism only in "
                  "Model Runner V2, whose PCP supports MLA models only, and {} has no MLA "
                  "attention",
                  a.pcp, ctx.model.architecture));
  d.notes.push_back({{},
                     "vLLM: \"Model Runner V2 does not yet support: prefill context "
                     "parallelism\" (MRV2 PCP currently supports MLA models only)"});
  d.notes.push_back({{}, "valid: pcp 1; to shard the KV cache of a GQA model use dcp"});
  diags.report(std::move(d));
}

void check_pcp_with_mtp(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const LayerPlan* mtp = a.pcp > 1 ? first_of(ctx, LayerKind::kMtp) : nullptr;
  if (mtp == nullptr) return;
  Diagnostic d = make_warning(
      "pcp-with-mtp", a.location("pcp", ctx.rules.axes_root),
      fmt::format("pcp ({}) rules out speculative decoding, so the model's {} MTP draft "
                  "layer(s) cannot run: vLLM's MRV2 PCP does not support speculative decoding",
                  a.pcp, ctx.model.num_mtp_layers));
  d.notes.push_back({{},
                     "launch without --speculative-config, or with pcp 1 to use the MTP "
                     "draft layers"});
  d.subjects.push_back(mtp->layer->prefix);
  diags.report(std::move(d));
}

// vocab_parallel_embedding.py::pad_vocab_size pads to a multiple of 64, then
// VocabParallelEmbedding.__init__ divides the padded rows by the TP size (divide() asserts).
void check_vocab_divides_tp(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  auto padded = checked_vocab_rows(p);
  const ResolvedField& tpf = p.plan.tp_size;
  if (!padded || *padded % tpf.value == 0) return;
  const ConfigValue& vocab = p.layer->vocab_size;
  Diagnostic d = make_error(
      "vocab-divides-tp", blame(tpf, ctx.axes),
      fmt::format("{} ({}) padded to a multiple of {} is {}, which {} does not divide: vLLM's "
                  "vocab-parallel layer asserts that every rank holds as many rows",
                  vocab.key, vocab.value, kVocabPadding, *padded, describe("tp_size", tpf)));
  d.notes.push_back(config_note(vocab));
  suggest_values(d, fmt::format("valid tp_size values for {} rows (up to 1024)", *padded),
                 divisors_where(*padded, [](std::int64_t v) { return v <= 1024; }));
  report_for(diags, std::move(d), p, ctx, tpf);
}

void check_vocab_padding(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  auto padded = checked_vocab_rows(p);
  const ResolvedField& tpf = p.plan.tp_size;
  const ConfigValue& vocab = p.layer->vocab_size;
  if (!padded || *padded % tpf.value != 0 || *padded == vocab.value) return;
  Diagnostic d = make_note(
      "vocab-padding", blame(tpf, ctx.axes),
      fmt::format("{} ({}) is padded to {} (a multiple of {}) for {}: {} rows per rank, {} of "
                  "them padding in total",
                  vocab.key, vocab.value, *padded, kVocabPadding, describe("tp_size", tpf),
                  *padded / tpf.value, *padded - vocab.value));
  report_for(diags, std::move(d), p, ctx, tpf);
}

// qwen3_moe.py::Qwen3MoeSparseMoeBlock, qwen3_next.py::Qwen3NextSparseMoeBlock,
// minimax_m2.py::MiniMaxM2MoE: "Tensor parallel size {tp} is greater than the number of experts
// {n}." (the declaration's tp_limited_by_experts says which families raise it).
void check_tp_exceeds_experts(const CheckContext& ctx, const LayerPlan& p, Diagnostics& diags) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value;
  if (!ctx.model.tp_limited_by_experts || !l.num_experts || tp <= l.num_experts.value) return;
  Diagnostic d = make_error(
      "tp-exceeds-experts", blame(p.plan.tp_size, ctx.axes),
      fmt::format("{} is more than the {} routed experts: vLLM's {} MoE block raises \"Tensor "
                  "parallel size {} is greater than the number of experts {}.\"",
                  describe("tp_size", p.plan.tp_size), l.num_experts.value, ctx.model.family, tp,
                  l.num_experts.value));
  d.notes.push_back(config_note(l.num_experts));
  d.notes.push_back({{}, fmt::format("valid: tp_size at most {}", l.num_experts.value)});
  report_for(diags, std::move(d), p, ctx, p.plan.tp_size);
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
    suggest_values(d, "valid world sizes (up to 4096)",
                   divisors_where(width.value, [](std::int64_t v) { return v <= 4096; }));
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
    d.notes.push_back({{},
                       "the model mixes sliding and full attention: "
                       "--disable-hybrid-kv-cache-manager makes vLLM treat the sliding layers "
                       "as full attention, which DCP supports"});
  } else {
    d.notes.push_back({{},
                       "every attention layer slides: only --disable-sliding-window avoids "
                       "it (vLLM then caps max_model_len at the window); "
                       "--no-enable-prefix-caching alone does not"});
  }
  d.notes.push_back({{}, "valid: dcp_size 1 on the sliding-window layers"});
  for (std::size_t i = 1; i < sliding.size(); ++i) d.subjects.push_back(sliding[i]->layer->prefix);
  report_for(diags, std::move(d), p, ctx, p.plan.dcp_size);
}

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
  p.ep_size =
      layer.kind == LayerKind::kMoe && axes.ep ? axis_field(axes, rules, "ep", *axes.ep) : one;
  return p;
}

}  // namespace layerplan
