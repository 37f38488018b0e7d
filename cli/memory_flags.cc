#include "cli/memory_flags.h"

#include <fmt/format.h>

namespace layerplan::cli {

void add_memory_flags(CLI::App& app, MemoryFlags& flags) {
  app.add_option("--gpu-memory", flags.gpu_memory,
                 "memory of one GPU (141GiB, 80GB, bytes): also say whether the plan fits and "
                 "how many KV-cache tokens each replica holds");
  app.add_option("--gpu-memory-utilization", flags.utilization,
                 "fraction of the GPU vLLM may use (vLLM's default too)")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--max-model-len", flags.max_model_len,
                 "longest request (default: max_position_embeddings)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  app.add_option("--max-num-seqs", flags.max_num_seqs,
                 "concurrent sequences (default: vLLM's for the GPU size)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  app.add_option("--max-num-batched-tokens", flags.max_num_batched_tokens,
                 "tokens per scheduler step (default: vLLM's for the GPU size)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
}

std::optional<FitRequest> fit_request(const MemoryFlags& flags) {
  if (flags.gpu_memory.empty()) return std::nullopt;
  auto bytes = parse_byte_size(flags.gpu_memory);
  if (!bytes) {
    throw CLI::ValidationError(
        "--gpu-memory",
        "'" + flags.gpu_memory + "' is not a size such as 141GiB, 80GB or 1073741824");
  }
  FitRequest r;
  r.gpu_memory = *bytes;
  r.gpu_memory_utilization = flags.utilization;
  if (flags.max_model_len > 0) r.max_model_len = flags.max_model_len;
  if (flags.max_num_seqs > 0) r.max_num_seqs = flags.max_num_seqs;
  if (flags.max_num_batched_tokens > 0) r.max_num_batched_tokens = flags.max_num_batched_tokens;
  return r;
}

std::string memory_summary(const MemoryPlan& m, const FitResult* fit) {
  std::string out =
      fmt::format("memory per rank ({}, weights {}; KV cache {}):\n", m.dtype, m.quant.name,
                  m.kv_cache_dtype == "auto" ? m.dtype : m.kv_cache_dtype);
  for (std::size_t i = 0; i < m.stages.size(); ++i) {
    const auto& s = m.stages[i];
    out += fmt::format("  stage {}: weights {}, KV {} B per cached token", s.stage,
                       format_bytes(s.weight_bytes), s.kv_bytes_per_token);
    if (s.sliding_kv_bytes_per_token > 0) {
      out += fmt::format(" + {} B on sliding-window layers", s.sliding_kv_bytes_per_token);
    }
    if (s.state_bytes_per_seq > 0)
      out += fmt::format(", state {} per sequence", format_bytes(s.state_bytes_per_seq));
    if (fit != nullptr && i < fit->stages.size()) {
      const auto& f = fit->stages[i];
      out += fmt::format(
          "; activations ~{}, KV cache {}", format_bytes(f.activation_bytes),
          f.kv_cache_bytes < 0 ? "none (does not fit)" : format_bytes(f.kv_cache_bytes));
    }
    out += "\n";
  }
  out += fmt::format("  parameters {} ({} in MTP layers)\n", m.params_total, m.params_mtp);
  if (fit != nullptr) {
    out += fmt::format(
        "fit in {} per GPU (max_num_seqs {}, max_num_batched_tokens {}): weights {}; {} KV-cache "
        "tokens per replica{}; max_model_len {} {}; largest max_model_len that fits {}\n",
        format_bytes(fit->requested_bytes), fit->max_num_seqs, fit->max_num_batched_tokens,
        fit->weights_fit ? "fit" : "DO NOT FIT", fit->kv_tokens_per_replica,
        fit->exact ? "" : " (estimate: hybrid KV cache)", fit->max_model_len,
        fit->fits ? "fits" : "DOES NOT FIT", fit->largest_max_model_len);
  }
  return out;
}

}  // namespace layerplan::cli
