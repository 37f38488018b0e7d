// Checkpoint storage formats, as vLLM's quantization methods allocate them (vLLM main f067737b):
// - fp8 with weight_block_size: quantization/fp8.py::Fp8LinearMethod.create_weights, an fp8
//   weight and a float32 weight_scale_inv of cdiv(rows, n) x cdiv(cols, k);
// - fbgemm_fp8: quantization/fbgemm_fp8.py, fp8 weight, float32 scale per output row;
// - mxfp4: quantization/mxfp4.py::Mxfp4MoEMethod.create_weights, MoE experts only, two e2m1
//   values per uint8 and a uint8 e8m0 scale per 32 elements (Mxfp4Config leaves every other
//   linear layer unquantized);
// - modelopt NVFP4 and compressed-tensors nvfp4 (4-bit float, group 16): quantization/modelopt.py
//   and compressed_tensors/schemes/compressed_tensors_w4a4_nvfp4.py, packed uint8 weight, an fp8
//   scale per 16 elements, a float32 global weight scale and input scale per matrix.
#include "lib/engine/vllm_quant.h"

#include <fmt/format.h>

#include <algorithm>

#include "lib/glob.h"

namespace layerplan {
namespace {

using json = nlohmann::json;

std::int64_t ceil_div_blocks(std::int64_t a, std::int64_t b) {
  return b <= 0 || a <= 0 ? 0 : (a - 1) / b + 1;
}

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void add_strings(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
}

// compressed-tensors: the weights of the first config group. 4-bit float with group 16 is NVFP4;
// 8-bit float is FP8 (per channel or per tensor as `strategy` says).
QuantFormat compressed_tensors_format(const json& q) {
  auto groups = q.find("config_groups");
  if (groups == q.end() || !groups->is_object() || groups->empty()) return QuantFormat::kUnknown;
  auto first = groups->begin();  // a named iterator: the reference below outlives no temporary
  const json& group = first.value();
  auto w = group.find("weights");
  if (w == group.end() || !w->is_object()) return QuantFormat::kUnknown;
  std::int64_t bits = w->value("num_bits", std::int64_t{0});
  std::string type = string_field(*w, "type");
  std::int64_t group_size = w->contains("group_size") && (*w)["group_size"].is_number_integer()
                                ? (*w)["group_size"].get<std::int64_t>()
                                : 0;
  if (bits == 4 && type == "float" && group_size == 16) return QuantFormat::kNvfp4;
  if (bits == 8 && type == "float") {
    std::string strategy = string_field(*w, "strategy");
    if (strategy == "channel") return QuantFormat::kFp8Channel;
    if (strategy == "tensor") return QuantFormat::kFp8Tensor;
  }
  return QuantFormat::kUnknown;
}

}  // namespace

std::int64_t dtype_bytes(std::string_view dtype) {
  if (dtype == "bfloat16" || dtype == "float16" || dtype == "half" || dtype == "bf16" ||
      dtype == "fp16") {
    return 2;
  }
  if (dtype == "float32" || dtype == "float" || dtype == "fp32") return 4;
  if (dtype == "float8_e4m3fn" || dtype == "fp8" || dtype == "uint8" || dtype == "int8") return 1;
  return 0;
}

QuantScheme read_quant_scheme(const HfConfig& config, Diagnostics& diags) {
  QuantScheme s;
  const json* q = config.find("quantization_config");
  if (q == nullptr || !q->is_object()) return s;
  s.location = config.locate("quantization_config");
  s.method = string_field(*q, "quant_method");
  add_strings(*q, "modules_to_not_convert", s.ignore);
  add_strings(*q, "ignore", s.ignore);
  add_strings(*q, "exclude_modules", s.ignore);
  if (s.method == "fp8") {
    auto block = q->find("weight_block_size");
    if (block != q->end() && block->is_array() && block->size() == 2 &&
        (*block)[0].is_number_integer() && (*block)[1].is_number_integer() &&
        (*block)[0].get<std::int64_t>() > 0 && (*block)[1].get<std::int64_t>() > 0) {
      s.format = QuantFormat::kFp8Block;
      s.block_n = (*block)[0].get<std::int64_t>();
      s.block_k = (*block)[1].get<std::int64_t>();
      s.name = fmt::format("fp8-block-{}x{}", s.block_n, s.block_k);
    } else {
      s.format = QuantFormat::kFp8Tensor;  // quantization/fp8.py: one scale per tensor
      s.name = "fp8-tensor";
    }
  } else if (s.method == "fbgemm_fp8") {
    s.format = QuantFormat::kFp8Channel;
    s.name = "fp8-channel";
  } else if (s.method == "mxfp4") {
    s.format = QuantFormat::kMxfp4;
    s.experts_only = true;
    s.name = "mxfp4";
  } else if (s.method == "modelopt" || s.method == "modelopt_fp4") {
    std::string algo = string_field(*q, "quant_algo");
    if (algo == "NVFP4" || s.method == "modelopt_fp4") {
      s.format = QuantFormat::kNvfp4;
      s.name = "nvfp4";
    } else if (algo == "FP8") {
      s.format = QuantFormat::kFp8Tensor;
      s.name = "fp8-tensor";
    } else {
      s.format = QuantFormat::kUnknown;
    }
  } else if (s.method == "compressed-tensors" ||
             (s.method.empty() && q->contains("config_groups"))) {
    s.format = compressed_tensors_format(*q);
    if (s.format == QuantFormat::kNvfp4) s.name = "nvfp4";
    if (s.format == QuantFormat::kFp8Channel) s.name = "fp8-channel";
    if (s.format == QuantFormat::kFp8Tensor) s.name = "fp8-tensor";
  } else {
    s.format = QuantFormat::kUnknown;
  }
  if (s.format == QuantFormat::kUnknown) {
    std::string what =
        s.method.empty() ? std::string("without a quant_method") : "'" + s.method + "'";
    s.name = s.method.empty() ? "unknown" : s.method + " (unknown)";
    Diagnostic d = make_warning(
        "quant-unknown", s.location,
        fmt::format("quantization_config {} is a scheme layerplan does not model: weights are "
                    "counted in the model dtype, which is not what vLLM allocates",
                    what));
    d.notes.push_back({{},
                       "modelled: fp8 (block or per tensor), fbgemm_fp8, mxfp4, modelopt "
                       "(NVFP4, FP8), compressed-tensors (nvfp4, fp8)"});
    diags.report(std::move(d));
  }
  return s;
}

QuantIgnoreIndex::QuantIgnoreIndex(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    if (entry.rfind("re:", 0) == 0) continue;
    if (entry.find_first_of("*?[") != std::string::npos) {
      patterns_.push_back(entry);
    } else {
      names_.insert(entry);
    }
  }
}

bool QuantIgnoreIndex::ignores(std::string_view module) const {
  if (!names_.empty()) {
    // A run of whole components starts at 0 or after a '.' and ends at a '.' or the end.
    for (std::size_t start = 0; start <= module.size();) {
      for (std::size_t end = start; end <= module.size();) {
        end = std::min(module.find('.', end), module.size());
        if (names_.find(module.substr(start, end - start)) != names_.end()) return true;
        ++end;
      }
      std::size_t dot = module.find('.', start);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  for (const auto& pattern : patterns_) {
    if (glob_match(pattern, module)) return true;
  }
  return false;
}

std::int64_t matrix_bytes(const QuantScheme& scheme, QuantFormat format, std::int64_t rows,
                          std::int64_t cols, std::int64_t dtype_size) {
  std::int64_t n = sat_mul(rows, cols);
  switch (format) {
    case QuantFormat::kFp8Block:
      return sat_add(n, sat_mul(4, sat_mul(ceil_div_blocks(rows, scheme.block_n),
                                           ceil_div_blocks(cols, scheme.block_k))));
    case QuantFormat::kFp8Channel:
      return sat_add(n, sat_mul(4, rows));
    case QuantFormat::kFp8Tensor:
      return sat_add(n, 4);
    case QuantFormat::kMxfp4:
      return sat_add(ceil_div_blocks(n, 2), ceil_div_blocks(n, 32));
    case QuantFormat::kNvfp4:
      return sat_add(sat_add(ceil_div_blocks(n, 2), ceil_div_blocks(n, 16)), 8);
    case QuantFormat::kNone:
    case QuantFormat::kUnknown:
      break;
  }
  return sat_mul(n, dtype_size);
}

}  // namespace layerplan
