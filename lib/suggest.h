// `layerplan suggest`: every layout vLLM can run on N GPUs, checked with the same checks as
// `check`, sized with the same memory model as `compile`, and ranked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/memory.h"
#include "lib/pipeline.h"

namespace layerplan {

struct SuggestRequest {
  std::string config_path;
  std::vector<std::string> arch_files;
  std::int64_t gpus = 0;
  std::int64_t gpus_per_node = 8;
  std::optional<FitRequest> fit;  // given: keep only layouts that fit, rank by KV tokens
  bool per_layer = true;  // also RFC #42659 attention TP (attn_tp < tp), marked as needing its PRs
  bool allow_unverified = false;
};

struct Suggestion {
  std::int64_t tp = 1, pp = 1, dp = 1, pcp = 1, dcp = 1, attn_tp = 1;
  bool ep = false;
  bool needs_pr = false;                // attn_tp < tp: RFC #42659's per-layer PRs
  std::string rules_yaml;               // the rules file that compiles to this layout
  std::string vllm_args;                // the engine's launch line for it (`vllm serve ...`)
  std::vector<std::string> warnings;    // codes of the warnings `check` reports for it
  std::int64_t weight_bytes = 0;        // heaviest rank
  std::int64_t kv_bytes_per_token = 0;  // heaviest stage, per cached token
  std::optional<FitResult> fit;
  std::int64_t comm_bytes_per_token = 0;        // every collective of one forward, per rank
  std::int64_t cross_node_bytes_per_token = 0;  // of which on groups spanning nodes
  std::vector<std::string> cross_node_sets;     // group sets whose groups span nodes
};

struct SuggestResult {
  std::int64_t candidates = 0;          // layouts enumerated
  std::int64_t valid = 0;               // of which passed every check
  std::vector<Suggestion> suggestions;  // valid (and fitting, when asked), best first
  Diagnostics diags;  // input errors (unreadable config, unknown architecture, ...)
};

// Nothing but diagnostics when the config cannot be read or expanded.
[[nodiscard]] SuggestResult suggest(const SuggestRequest& request);

// The rules file of a layout (global plan; an attention rule when attn_tp < tp).
[[nodiscard]] std::string suggestion_rules(const Suggestion& s, std::int64_t world_size);

}  // namespace layerplan
