// vLLM's per-layer facts under a plan (lib/layer_facts.h): sizes per rank, the collectives each
// layer issues, and the plan fields with their group sets. vLLM file::function for each rule is in
// docs/vllm-fidelity.md and in the comments below (vLLM main at f067737b).
#include "lib/engine/vllm_layers.h"

#include <fmt/format.h>

#include "lib/engine/vllm.h"
#include "lib/engine/vllm_layout.h"
#include "lib/hf_config.h"

namespace layerplan {
namespace {

constexpr CollectiveOp kAllReduce = CollectiveOp::kAllReduce;
constexpr CollectiveOp kAllGather = CollectiveOp::kAllGather;
constexpr CollectiveOp kReduceScatter = CollectiveOp::kReduceScatter;
constexpr CollectiveOp kAllToAll = CollectiveOp::kAllToAll;

Collective comm(CollectiveOp op, const std::string& group, std::int64_t elements, std::string why) {
  return Collective{op, group, elements, std::move(why), 0};
}

// The product, or -1 when it overflows. Checked plans never overflow (sizes are bounded by
// kMaxDimension and kMaxWorldSize), but `explain` also shows plans that failed their checks.
std::int64_t times(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &out) ? -1 : out;
}

// vllm_padded_vocab (lib/engine/vllm_model.cc), or -1 for a vocabulary no config can hold: the
// vocabulary padded to a multiple of 64 rows in all, not per rank. VocabParallelEmbedding.__init__
// then divides it by tp, which asserts when it does not divide.
std::int64_t padded_vocab(std::int64_t vocab) {
  return vocab < 0 || vocab > kMaxDimension ? -1 : vllm_padded_vocab(vocab);
}

// Rows per rank, or -1 when tp does not divide the padded vocabulary (vLLM refuses the plan).
std::int64_t vocab_rows(std::int64_t vocab, std::int64_t tp) {
  std::int64_t padded = padded_vocab(vocab);
  return padded < 0 || tp < 1 || padded % tp != 0 ? -1 : padded / tp;
}

// The MoE layer's parallelism, as fused_moe/config.py::FusedMoEParallelConfig.make sets it:
// flatten_tp_across_dp_and_pcp gives domain = dp*pcp*tp ranks; without expert parallelism the
// experts are tensor-sharded over all of them (moe tp = domain, ep 1), with it each rank owns
// whole experts (ep = domain, moe tp 1). An ep_size k between those (an RFC-level plan vLLM
// cannot express) shards the experts over k ranks and each expert over domain / k.
struct MoeNumbers {
  std::int64_t domain, ep, etp;  // etp 0: ep does not divide the domain, or it overflows
};

MoeNumbers moe_numbers(const LayerPlan& p, const AxisValues& a) {
  std::int64_t domain = times(times(a.dp, a.pcp), p.plan.tp_size.value);
  std::int64_t ep = p.plan.ep_size.value;
  return {domain, ep, domain > 0 && ep > 0 && domain % ep == 0 ? domain / ep : 0};
}

// ParallelConfig.use_sequence_parallel_moe with the default all2all backend
// ("allgather_reducescatter"): expert parallelism with tp > 1 and dp > 1. MoE models then split
// each TP group's tokens across its ranks before the experts (deepseek_v2.py:
// sequence_parallel_chunk), replicate the shared experts (disable_tp) and all-gather over TP after.
bool sequence_parallel_moe(const LayerPlan& p, const AxisValues& a) {
  return p.plan.ep_size.value > 1 && p.plan.tp_size.value > 1 && a.dp > 1;
}

// The collectives of a MoE layer with vLLM's default all2all backend, allgather_reducescatter
// (config/parallel.py::ParallelConfig.all2all_backend):
// - dispatch/combine (fused_moe/runner/moe_runner.py::_maybe_dispatch/_maybe_combine, or
//   prepare_finalize/naive_dp_ep.py) when dp > 1 or sequence-parallel: the EP group's
//   AgRsAll2AllManager (device_communicators/all2all.py) all-gathers the tokens and
//   reduce-scatters the outputs, over the DP group, or the EP group when sequence-parallel;
// - with pcp > 1 and dp = 1, an all-gather of the tokens over PCP before the experts and a
//   reduce-scatter after (moe_runner.py without all2all kernels; AgRsAll2AllManager over the PCP
//   group with them);
// - moe_runner.py::_maybe_reduce_final_output: an all-reduce over TP of routed plus shared
//   output, or, sequence-parallel, the model's all-gather over TP.
// An RFC-level ep<k> plan keeps layerplan's own model: all-to-alls over ep<k>, expert-TP
// all-reduce.
void moe_comms(const LayerPlan& p, const AxisValues& a, std::vector<Collective>& c) {
  const Layer& l = *p.layer;
  MoeNumbers m = moe_numbers(p, a);
  if (m.etp == 0) return;
  std::int64_t hidden = l.hidden_size.value;
  std::string tp_group = tp_group_name(p.plan.tp_size.value, a);
  std::string ep = ep_group_name(m.ep, a);
  if (!ep.empty() && ep != "ep") {
    std::int64_t routed = times(hidden, l.top_k.value);
    if (routed < 0) return;
    c.push_back(comm(kAllToAll, ep, routed, "EP dispatch of tokens to their top-k experts"));
    c.push_back(comm(kAllToAll, ep, routed, "EP combine of expert outputs"));
    if (m.etp > 1)
      c.push_back(comm(kAllReduce, etp_group_name(m.ep, a), hidden, "expert-TP output"));
    return;
  }
  bool use_ep = m.ep > 1;
  bool sp = sequence_parallel_moe(p, a);
  if (a.dp > 1 || sp) {
    std::string group = sp ? "ep" : "dp";
    std::int64_t ranks = sp ? times(a.dp, a.pcp) : a.dp;  // SP: each rank holds 1/tp of the tokens
    std::int64_t gathered = times(ranks, hidden);
    std::string why = fmt::format("over {}{}", group, sp ? " (sequence-parallel MoE)" : "");
    if (gathered < 0) return;
    c.push_back(
        comm(kAllGather, group, gathered,
             "MoE dispatch: all-gather of hidden states " + why + "; router logits ride along"));
    c.push_back(comm(kReduceScatter, group, gathered,
                     "MoE combine: reduce-scatter of expert outputs " + why));
  }
  if (a.pcp > 1 && !(use_ep && (a.dp > 1 || sp))) {
    std::int64_t gathered = times(a.pcp, hidden);
    if (gathered < 0) return;
    c.push_back(
        comm(kAllGather, "pcp", gathered, "PCP all-gather of hidden states before the experts"));
    c.push_back(comm(kReduceScatter, "pcp", gathered, "PCP reduce-scatter of expert outputs"));
  }
  if (tp_group.empty()) return;
  if (sp) {
    c.push_back(comm(kAllGather, tp_group, hidden,
                     "all-gather over TP of the sequence-parallel MoE output"));
  } else {
    c.push_back(
        comm(kAllReduce, tp_group, hidden, "all-reduce of routed and shared experts' output"));
  }
}

}  // namespace

PerRankSizes layer_per_rank(const LayerPlan& p, const AxisValues& a) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value;
  std::int64_t dcp = p.plan.dcp_size.value;
  PerRankSizes out;
  switch (l.kind) {
    case LayerKind::kAttention: {
      std::int64_t heads = l.num_heads.value, kv = l.num_kv_heads.value;
      out.q_heads = heads / tp;
      if (l.flavor == Flavor::kMla) {
        out.kv_heads = 1;
        out.kv_head_replicas = tp;
        out.kv_elements_per_token = l.kv_lora_rank.value + l.qk_rope_head_dim.value;
      } else {
        std::int64_t kv_rank = tp >= kv ? 1 : kv / tp;
        out.kv_heads = kv_rank;
        out.kv_head_replicas = tp >= kv ? tp / kv : 1;
        out.kv_elements_per_token = 2 * kv_rank * l.head_dim.value;
      }
      bool tpa = tp < a.tp && dcp > 1;
      out.o_proj_heads = tpa ? heads / a.tp : heads / tp;
      out.kv_cache_token_share = dcp;
      break;
    }
    case LayerKind::kMlp:
      out.intermediate_size = l.intermediate_size.value / tp;
      break;
    case LayerKind::kMoe: {
      MoeNumbers m = moe_numbers(p, a);
      if (m.etp == 0) break;
      std::int64_t experts = l.num_experts.value;
      out.experts_min = experts / m.ep;
      out.experts_max = experts / m.ep + (experts % m.ep != 0 ? 1 : 0);
      out.expert_tp = m.etp;
      out.moe_intermediate_size = l.moe_intermediate_size.value / m.etp;
      if (l.shared_intermediate_size.present) {
        out.shared_intermediate_size =
            l.shared_intermediate_size.value / (sequence_parallel_moe(p, a) ? 1 : tp);
      }
      break;
    }
    case LayerKind::kEmbedding:
    case LayerKind::kLmHead: {
      std::int64_t padded = padded_vocab(l.vocab_size.value);
      if (padded < 0) break;
      out.vocab_padded = padded;
      std::int64_t rows = vocab_rows(l.vocab_size.value, tp);
      if (rows >= 0) out.vocab_rows = rows;
      break;
    }
    case LayerKind::kMtp:
      out.eh_proj_replicated = true;
      break;
    case LayerKind::kMamba:
      if (l.mamba_heads) {
        out.mamba_heads = l.mamba_heads.value / tp;
        // n_groups == 1 with tp > 1: vLLM replicates the one B/C group on every rank.
        std::int64_t groups = l.mamba_groups.value;
        out.n_groups = groups % tp == 0 ? groups / tp : 1;
      }
      if (l.mamba_inner) out.inner_size = l.mamba_inner.value / tp;
      out.kv_elements_per_token = 0;  // constant-size recurrent state, no KV cache
      break;
    case LayerKind::kLinearAttention:
      out.key_heads = l.linear_key_heads.value / tp;
      out.value_heads = l.linear_value_heads.value / tp;
      out.kv_elements_per_token = 0;
      break;
    case LayerKind::kIndexer:
      out.index_heads = l.index_heads.value / tp;
      out.index_k_elements_per_token = l.index_head_dim.value;
      break;
  }
  if (a.tp % tp == 0) out.replicas = a.tp / tp;
  return out;
}

std::vector<Collective> layer_comms(const LayerPlan& p, const AxisValues& a) {
  const Layer& l = *p.layer;
  std::int64_t tp = p.plan.tp_size.value;
  std::int64_t dcp = p.plan.dcp_size.value;
  std::int64_t hidden = l.hidden_size.value;
  std::string group = tp_group_name(tp, a);
  std::vector<Collective> c;
  switch (l.kind) {
    case LayerKind::kAttention: {
      std::int64_t heads = l.num_heads.value;
      std::int64_t v_dim = l.v_head_dim.present ? l.v_head_dim.value : l.head_dim.value;
      if (dcp > 1 && tp < a.tp) {
        c.push_back(comm(kAllToAll, "dcp", heads / tp * v_dim,
                         fmt::format("DCP combine of attention outputs: heads {} -> {} per rank",
                                     heads / tp, heads / a.tp)));
        c.push_back(comm(kAllReduce, "tp", hidden, "o_proj row-parallel output over full tp"));
      } else if (dcp > 1) {
        std::int64_t gathered_heads = times(dcp, heads / tp);
        std::int64_t queries = times(gathered_heads, l.head_dim.value);
        std::int64_t outputs = times(gathered_heads, v_dim);
        if (queries >= 0)
          c.push_back(comm(kAllGather, "dcp", queries, "DCP all-gather of queries"));
        if (outputs >= 0) {
          c.push_back(
              comm(kReduceScatter, "dcp", outputs, "DCP reduce-scatter of attention outputs"));
        }
        if (!group.empty())
          c.push_back(comm(kAllReduce, group, hidden, "o_proj row-parallel output"));
      } else if (!group.empty()) {
        c.push_back(comm(kAllReduce, group, hidden, "o_proj row-parallel output"));
      }
      break;
    }
    case LayerKind::kMlp:
      if (!group.empty())
        c.push_back(comm(kAllReduce, group, hidden, "down_proj row-parallel output"));
      break;
    case LayerKind::kMamba:
    case LayerKind::kLinearAttention:
      if (!group.empty())
        c.push_back(comm(kAllReduce, group, hidden, "out_proj row-parallel output"));
      break;
    case LayerKind::kMoe:
      moe_comms(p, a, c);
      break;
    case LayerKind::kEmbedding:
      if (!group.empty()) c.push_back(comm(kAllReduce, group, hidden, "vocab-parallel embedding"));
      break;
    case LayerKind::kLmHead:
      // logits_processor.py::LogitsProcessor._gather_logits: all-gather over TP on every
      // platform (Platform.use_all_gather is True); the output row is the padded vocabulary.
      if (!group.empty() && vocab_rows(l.vocab_size.value, tp) >= 0) {
        c.push_back(comm(kAllGather, group, padded_vocab(l.vocab_size.value),
                         "all-gather of vocab-parallel logits"));
      }
      break;
    default:
      break;
  }
  return c;
}

PlanFields layer_plan_fields(const LayerPlan& p, const AxisValues& a) {
  PlanFields plan;
  const Layer& l = *p.layer;
  plan.tp_size = p.plan.tp_size.value;
  plan.tp_group = tp_group_name(p.plan.tp_size.value, a);
  plan.dcp_size = p.plan.dcp_size.value;
  if (p.plan.dcp_size.value > 1) plan.dcp_group = "dcp";
  plan.ep_size = p.plan.ep_size.value;
  // Every MoE layer runs on vLLM's EP group (get_ep_group() in fused_moe), EP enabled or not;
  // an RFC-level ep_size k names its own ep<k> set.
  std::string ep = ep_group_name(p.plan.ep_size.value, a);
  if (l.kind == LayerKind::kMoe) plan.ep_group = ep.empty() ? "ep" : ep;
  return plan;
}

std::vector<Collective> pipeline_comms(const Model& model, const AxisValues& axes) {
  std::vector<Collective> pc;
  if (axes.pp > 1) {
    pc.push_back(comm(CollectiveOp::kSendRecv, "pp", model.hidden_size.value,
                      "hidden states between consecutive pipeline stages"));
  }
  return pc;
}

}  // namespace layerplan
