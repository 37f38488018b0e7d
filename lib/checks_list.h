// The checks of lib/checks_*.cc, one function per catalogue code, for the table in lib/checks.cc
// (the engine's own checks are declared by the engine: lib/engine/vllm_checks.h).
#pragma once

#include "lib/checks.h"

namespace layerplan {

// lib/checks_layers.cc: a layer's plan fields, attention, MLP and MoE layers.
void check_tp_size_divides_tp(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_size_mismatch(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_on_non_attention(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_ep_on_non_moe(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_attn_tp_divides_heads(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_kv_heads_divisibility(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_kv_head_replication(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mla_narrow_tp(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_not_uniform(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_layer_tpa_invariant(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_replicated_attention(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_gqa_kv_heads(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_gqa_max(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_dcp_gqa_q_per_kv(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mlp_tp_divides_intermediate(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_replicated_mlp(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_ep_needs_full_tp(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_ep_divides_domain(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_ep_exceeds_experts(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_experts_uneven(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_moe_tp_divides_intermediate(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_ep_not_expressible(const CheckContext&, const LayerPlan&, Diagnostics&);

// lib/checks_hybrid.cc: shared experts, Mamba, linear attention, the sparse-attention indexer.
void check_moe_shared_tp_divides_intermediate(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mamba_tp_divides_heads(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mamba_groups_divisibility(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mamba_tp_divides_inner(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_linear_attn_tp_divides_heads(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_indexer_sharded(const CheckContext&, const LayerPlan&, Diagnostics&);

// lib/checks_rules.cc: rule hygiene and the whitelist gate.
void check_rule_matches_nothing(const CheckContext&, const RuleUse&, Diagnostics&);
void check_rule_shadowed(const CheckContext&, const RuleUse&, Diagnostics&);
void check_arch_unverified(const CheckContext&, Diagnostics&);

}  // namespace layerplan
