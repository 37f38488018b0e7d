// The checkpoint's storage format as vLLM reads it from config.json: the model dtype and the
// `quantization_config` scheme, and the bytes one weight matrix takes under that scheme.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lib/diagnostics.h"
#include "lib/hf_config.h"
#include "lib/memory.h"

namespace layerplan {

// Saturating arithmetic for byte counts: a config with absurd (but individually bounded) sizes
// must give a huge number, never a signed overflow. kSaturated is far above any real memory.
inline constexpr std::int64_t kSaturated = std::int64_t{1} << 62;
[[nodiscard]] inline std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (a <= 0 || b <= 0) return 0;
  return __builtin_mul_overflow(a, b, &out) || out > kSaturated ? kSaturated : out;
}
[[nodiscard]] inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  return __builtin_add_overflow(a, b, &out) || out > kSaturated ? kSaturated : out;
}

// The bytes of one element of a torch dtype name ("bfloat16", "float32", ...); 0 when unknown.
[[nodiscard]] std::int64_t dtype_bytes(std::string_view dtype);

// quantization_config -> scheme. A scheme layerplan does not model is kUnknown with a
// quant-unknown warning: its weights are then counted in the model dtype, and said to be.
[[nodiscard]] QuantScheme read_quant_scheme(const HfConfig& config, Diagnostics& diags);

// Whether a module (a full vLLM prefix, "model.layers.3.mlp.gate_proj") is left unquantized by
// the scheme's ignore list (modules_to_not_convert, ignore, exclude_modules): an entry that is a
// glob pattern matches the whole prefix; any other entry matches when it is a run of whole
// dot-separated components of it ("lm_head", "mlp.gate_proj", "model.layers.3"); "re:" entries
// are not matched (docs/memory.md: vLLM's is_layer_skipped helpers compare exactly, by suffix or
// by substring depending on the method). A memory plan asks once per linear module of every layer,
// and some checkpoints list thousands of modules, so plain entries go into a hash set that each
// run of the module's components is looked up in; patterns are tried one by one.
// tests/lib/vllm_memory_test.cc checks it against a walk over the list.
class QuantIgnoreIndex {
 public:
  QuantIgnoreIndex() = default;
  explicit QuantIgnoreIndex(const std::vector<std::string>& entries);
  [[nodiscard]] bool ignores(std::string_view module) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> names_;
  std::vector<std::string> patterns_;
};

// Bytes of a [rows, cols] weight matrix stored as `format` (the quantized payload and its
// scale tensors), or as the model dtype of `dtype_bytes` when kNone or kUnknown.
[[nodiscard]] std::int64_t matrix_bytes(const QuantScheme& scheme, QuantFormat format,
                                        std::int64_t rows, std::int64_t cols,
                                        std::int64_t dtype_bytes);

}  // namespace layerplan
