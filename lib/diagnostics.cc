#include "lib/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace layerplan {

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::kNote:
      return "note";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

const std::vector<CodeInfo>& diagnostic_codes() {
  using S = Severity;
  static const std::vector<CodeInfo> kCodes = {
      // Inputs.
      {"input-unreadable", S::kError, "an input file is missing, a directory, a FIFO or too large"},
      {"model-not-found", S::kError,
       "a model named by a HuggingFace id is not in the local HuggingFace cache, or a rules file "
       "names no model"},
      {"inputs-swapped", S::kError,
       "--config names a rules file (and --rules a config.json): the two are swapped"},
      {"ignore-unknown-code", S::kWarning,
       "an inline '# layerplan: ignore=' comment names a code layerplan does not have"},
      {"json-syntax", S::kError,
       "config.json is not valid JSON (Python's Infinity and NaN are accepted)"},
      {"json-limit", S::kError, "config.json nests deeper or holds longer strings than the limits"},
      {"config-missing-field", S::kError, "config.json lacks a field the architecture needs"},
      {"config-invalid-field", S::kError,
       "a config.json field has the wrong type or an impossible value"},
      {"config-not-a-model", S::kError,
       "the file given as config.json names neither architectures nor model_type (a "
       "generation_config.json, a tokenizer or adapter config)"},
      {"arch-unknown", S::kError, "the architecture is not one layerplan knows"},
      {"arch-unverified", S::kError,
       "a plan deviates from the global one on an architecture not verified for per-layer policy"},
      {"arch-declaration", S::kError, "an architecture declaration file is malformed"},
      {"config-unsupported", S::kError,
       "config.json asks for a layer vLLM does not build (DeciLM replace_with_linear)"},
      {"config-ignored", S::kWarning,
       "vLLM's model code decides the layer kinds itself and does not read a config field that "
       "says otherwise"},
      {"quant-unknown", S::kWarning,
       "config.json's quantization_config names a scheme layerplan does not model: its weights are "
       "counted in the model dtype"},
      {"mla-not-enabled", S::kWarning,
       "kv_lora_rank is set but vLLM builds MLA only for the model_types on its MLA list"},
      // vLLM launch line (--vllm-args).
      {"vllm-args-syntax", S::kError,
       "the launch line is not valid shell words (an unterminated quote) or not UTF-8"},
      {"unknown-parallel-flag", S::kError,
       "a flag that looks like a vLLM parallel flag but is not one (did you mean ...)"},
      {"vllm-args-ignored", S::kNote,
       "the launch line's flags that shape no rank group, listed once"},
      {"nodes-invalid", S::kError,
       "node flags vLLM refuses (--nnodes not dividing the world, --node-rank out of range)"},
      {"group-spans-nodes", S::kWarning,
       "a tp, dcp or attention-TP group spans nodes, outside NVLink"},
      {"manifest-invalid", S::kError,
       "a manifest given to `report` lacks a field the report draws, or lists a rank out of range "
       "or twice in one set"},
      // Rules file syntax.
      {"yaml-syntax", S::kError, "the rules file is not valid YAML"},
      {"yaml-limit", S::kError, "the rules file nests too deeply or expands too many aliases"},
      {"missing-key", S::kError, "a required key is absent"},
      {"unknown-key", S::kError, "a key layerplan does not know (did you mean ...)"},
      {"duplicate-key", S::kError, "a key appears twice in one mapping"},
      {"wrong-type", S::kError, "a value has the wrong YAML type"},
      {"invalid-value", S::kError, "a value is not a positive integer in range"},
      {"undefined-axis", S::kError, "a plan names an axis the axes section does not define"},
      {"axis-near-builtin", S::kWarning,
       "an axis of the file's own is a near miss of a built-in axis (atn_tp for attn_tp)"},
      {"axis-unused", S::kWarning, "an axis of the file's own that no rule's plan names"},
      {"unknown-kind", S::kError, "a matcher names a layer kind that does not exist"},
      {"unknown-flavor", S::kError, "a matcher names an attention flavor that does not exist"},
      {"bad-pattern", S::kError, "a prefix_pattern glob is malformed"},
      {"bad-layer-range", S::kError, "a layers matcher is not a valid index range"},
      // Axes (vLLM ParallelConfig semantics).
      {"world-size-mismatch", S::kError, "tp*pp*dp*pcp differs from the declared world size"},
      {"world-size-limit", S::kError,
       "the world size overflows or is too large to list rank groups"},
      {"dcp-divides-tp", S::kError, "dcp must divide tp (when pcp is 1)"},
      {"dcp-with-pcp", S::kError, "with pcp > 1, dcp must be 1, pcp or tp * pcp"},
      {"pcp-with-dp", S::kError,
       "vLLM does not run prefill context parallelism with data parallelism"},
      {"pcp-with-pp", S::kError,
       "vLLM's Model Runner V2 does not run prefill context parallelism with pipeline parallelism"},
      {"attn-tp-exceeds-tp", S::kError, "attn_tp must not exceed tp"},
      {"attn-tp-divides-tp", S::kError, "attn_tp must divide tp"},
      {"tpa-invariant", S::kError, "attn_tp * dcp must equal tp when attn_tp < tp"},
      {"pp-exceeds-layers", S::kError, "more pipeline stages than decoder layers"},
      {"pp-partition-length", S::kError,
       "a pipeline partition (VLLM_PP_LAYER_PARTITION) must list pp stages"},
      {"pp-partition-sum", S::kError,
       "a pipeline partition (VLLM_PP_LAYER_PARTITION) must sum to the decoder layers"},
      // Per-layer checks.
      {"tp-size-divides-tp", S::kError, "a layer's tp_size must divide tp"},
      {"dcp-size-mismatch", S::kError, "a layer's dcp_size must be 1 or the dcp axis"},
      {"dcp-on-non-attention", S::kError, "dcp_size > 1 on a layer that has no KV cache"},
      {"layer-tpa-invariant", S::kError,
       "an attention layer narrower than tp must have tp_size * dcp_size == tp"},
      {"attn-tp-divides-heads", S::kError,
       "query heads must be divisible by the layer's attention TP"},
      {"kv-heads-divisibility", S::kError,
       "KV heads and the layer's attention TP must divide one another"},
      {"dcp-gqa-kv-heads", S::kError, "standard DCP on GQA needs tp > num_key_value_heads"},
      {"dcp-gqa-max", S::kError, "standard DCP on GQA needs dcp <= tp / num_key_value_heads"},
      {"dcp-gqa-q-per-kv", S::kError, "standard DCP on GQA needs (heads / kv_heads) % dcp == 0"},
      {"kv-head-replication", S::kNote, "attention TP above the KV head count replicates KV heads"},
      {"mla-narrow-tp", S::kWarning, "MLA has one latent KV head: TPA collapses to DCP-only"},
      {"dcp-not-uniform", S::kWarning,
       "vLLM shards the KV cache of every attention layer by the same dcp"},
      {"mlp-tp-divides-intermediate", S::kError,
       "the MLP width must be divisible by the layer's TP"},
      {"ep-on-non-moe", S::kError, "ep_size > 1 on a layer without experts"},
      {"ep-divides-domain", S::kError, "ep_size must divide the expert domain (dp*pcp*tp ranks)"},
      {"ep-needs-full-tp", S::kError, "expert parallelism needs the MoE layer at full tp"},
      {"ep-exceeds-experts", S::kError,
       "more EP ranks than routed experts leaves ranks without experts"},
      {"experts-uneven", S::kWarning, "routed experts do not divide evenly over ep_size"},
      {"moe-tp-divides-intermediate", S::kError,
       "the expert width must be divisible by the expert TP"},
      {"ep-not-expressible", S::kNote,
       "vLLM derives EP = dp*pcp*tp and cannot express another ep today"},
      {"moe-shared-tp-divides-intermediate", S::kError,
       "the shared experts' width must be divisible by the MoE layer's TP"},
      {"mamba-tp-divides-heads", S::kError,
       "Mamba-2 heads must be divisible by the layer's TP (vLLM MambaMixer2)"},
      {"mamba-groups-divisibility", S::kError,
       "Mamba-2 n_groups must be divisible by the layer's TP, or be 1 (replicated)"},
      {"mamba-tp-divides-inner", S::kError,
       "the Mamba-1 inner width must be divisible by the layer's TP (vLLM MambaMixer)"},
      {"linear-attn-tp-divides-heads", S::kError,
       "linear-attention key and value heads must be divisible by the layer's TP"},
      {"indexer-sharded", S::kError,
       "vLLM replicates the sparse-attention indexer; its tp_size must be 1"},
      {"replicated-layer", S::kNote, "a layer narrower than its TP group is computed redundantly"},
      {"vocab-padding", S::kNote, "vLLM pads the vocabulary to a multiple of 64 rows"},
      // What vLLM's model code refuses (lib/engine/vllm_model.cc).
      {"vocab-divides-tp", S::kError,
       "the vocabulary padded to a multiple of 64 must be divisible by the layer's TP"},
      {"pcp-needs-mla", S::kError, "vLLM runs prefill context parallelism for MLA models only"},
      {"pcp-with-mtp", S::kWarning,
       "prefill context parallelism rules out speculative decoding with the MTP draft layers"},
      {"tp-exceeds-experts", S::kError,
       "the family's MoE block refuses a TP size above its number of experts"},
      {"mlp-divides-world", S::kError,
       "gpt-oss needs its MLP width divisible by the whole world, DP replicas included"},
      {"dcp-sliding-window", S::kWarning,
       "vLLM asserts when DCP shards a sliding-window layer's KV cache"},
      // Rule hygiene.
      {"rule-matches-nothing", S::kWarning, "a rule matches no layer of this model"},
      {"rule-shadowed", S::kWarning, "every layer a rule matches is taken by earlier rules"},
      {"layer-not-found", S::kError, "explain --layer names a prefix the model does not have"},
  };
  return kCodes;
}

const CodeInfo* find_code(std::string_view code) {
  for (const auto& info : diagnostic_codes()) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

void Diagnostics::report(Diagnostic diagnostic) {
  // Looked up by hash: a hostile file can produce tens of thousands of diagnostics, and a linear
  // scan per report would make that quadratic.
  std::string key =
      fmt::format("{}\x1f{}\x1f{}:{}\x1f{}", diagnostic.code,
                  static_cast<const void*>(diagnostic.location.file.get()),
                  diagnostic.location.line, diagnostic.location.column, diagnostic.message);
  auto [it, inserted] = index_.try_emplace(std::move(key), diagnostics_.size());
  if (!inserted) {
    Diagnostic& existing = diagnostics_[it->second];
    for (auto& subject : diagnostic.subjects) existing.subjects.push_back(std::move(subject));
    return;
  }
  diagnostics_.push_back(std::move(diagnostic));
}

int Diagnostics::count(Severity severity) const {
  return static_cast<int>(
      std::count_if(diagnostics_.begin(), diagnostics_.end(),
                    [&](const Diagnostic& d) { return d.severity == severity; }));
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = diagnostics_;
  // Keeps report order between files; sorts by severity, then position inside one file.
  std::vector<const SourceFile*> file_order;
  for (const auto& d : diagnostics_) {
    const SourceFile* f = d.location.file.get();
    if (std::find(file_order.begin(), file_order.end(), f) == file_order.end()) {
      file_order.push_back(f);
    }
  }
  auto rank = [&](const Diagnostic& d) {
    auto it = std::find(file_order.begin(), file_order.end(), d.location.file.get());
    // Errors first, then warnings, then notes; by position within each.
    return std::make_tuple(-static_cast<int>(d.severity), it - file_order.begin(), d.location.line,
                           d.location.column);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
  return out;
}

namespace {
Diagnostic make(std::string_view code, Severity severity, Location location, std::string message) {
  Diagnostic d;
  d.code = std::string(code);
  d.severity = severity;
  d.location = std::move(location);
  d.message = std::move(message);
  return d;
}
}  // namespace

Diagnostic make_error(std::string_view code, Location location, std::string message) {
  return make(code, Severity::kError, std::move(location), std::move(message));
}
Diagnostic make_warning(std::string_view code, Location location, std::string message) {
  return make(code, Severity::kWarning, std::move(location), std::move(message));
}
Diagnostic make_note(std::string_view code, Location location, std::string message) {
  return make(code, Severity::kNote, std::move(location), std::move(message));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent swaps.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 256) return "";
  // Close enough: at most a third of the word's letters wrong (and at least one allowed).
  std::size_t limit = std::max<std::size_t>(1, (word.size() + 2) / 3);
  std::string best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    // The distance is at least the difference in length: skip the hopeless without the
    // quadratic table (user-defined candidates, such as axis names, may be long).
    std::size_t gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                     : word.size() - candidate.size();
    if (gap > limit) continue;
    std::size_t d = edit_distance(word, candidate);
    if (best.empty() || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best.empty() || best_distance > limit) return "";
  return best;
}

}  // namespace layerplan
