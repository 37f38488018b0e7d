// vLLM's own checks, one function per catalogue code, for the table in lib/checks.cc: its
// parallel config (lib/engine/vllm_parallel_config.cc) and what its model code refuses
// (lib/engine/vllm_model.cc).
#pragma once

#include "lib/checks.h"

namespace layerplan {

// config/parallel.py::ParallelConfig._validate_parallel_config and RFC #42659's TPA rules.
void check_world_size_limit(const CheckContext&, Diagnostics&);
void check_world_size_mismatch(const CheckContext&, Diagnostics&);
void check_pcp_with_dp(const CheckContext&, Diagnostics&);
void check_pcp_with_pp(const CheckContext&, Diagnostics&);
void check_dcp_divides_tp(const CheckContext&, Diagnostics&);
void check_dcp_with_pcp(const CheckContext&, Diagnostics&);
void check_attn_tp_exceeds_tp(const CheckContext&, Diagnostics&);
void check_attn_tp_divides_tp(const CheckContext&, Diagnostics&);
void check_tpa_invariant(const CheckContext&, Diagnostics&);
void check_pp_exceeds_layers(const CheckContext&, Diagnostics&);
void check_pp_partition_length(const CheckContext&, Diagnostics&);
void check_pp_partition_sum(const CheckContext&, Diagnostics&);

// The model code.
void check_pcp_needs_mla(const CheckContext&, Diagnostics&);
void check_pcp_with_mtp(const CheckContext&, Diagnostics&);
void check_vocab_divides_tp(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_vocab_padding(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_tp_exceeds_experts(const CheckContext&, const LayerPlan&, Diagnostics&);
void check_mlp_divides_world(const CheckContext&, Diagnostics&);
void check_dcp_sliding_window(const CheckContext&, Diagnostics&);

}  // namespace layerplan
