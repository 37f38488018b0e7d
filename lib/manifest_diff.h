// `layerplan diff A.json B.json`: what differs between two plan manifests, by meaning rather than
// by line. The world size, axes, engine, model, each group set, the layers (matched by prefix and
// folded into ranges that changed alike), the pipeline, the launch line, nodes and memory.
// Inputs, generator and schema version are context: shown, never a difference of the plan.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/diagnostics.h"

namespace layerplan {

// One field that differs; a value is absent (nullopt) when that manifest lacks the field.
struct FieldChange {
  std::string field;  // dotted path inside its section: "tp", "vllm.command", "plan.tp_size",
                      // "comms[0].elements_per_token"; empty for a section that is one value
  std::optional<nlohmann::ordered_json> a, b;
};

struct SectionDiff {
  std::string name;  // a top-level key of the manifest: "axes", "groups", "launch", ...
  std::vector<FieldChange> changes;
};

enum class LayerPresence { kBoth, kOnlyA, kOnlyB };

// Layers that changed alike: the same fields to the same values, or all missing on one side.
struct LayerRangeDiff {
  std::string label;  // "model.layers.{0-31}.self_attn", or the prefix of a single layer
  std::string kind, flavor;
  std::vector<std::string> prefixes;  // every layer of the range, in manifest order
  LayerPresence presence = LayerPresence::kBoth;
  std::vector<FieldChange> changes;  // empty unless presence is kBoth
};

struct ManifestDiff {
  std::vector<FieldChange> context;   // inputs, generator, schema_version
  std::vector<SectionDiff> sections;  // in the manifest's order; "layers" is never one of them
  std::vector<LayerRangeDiff> layers;
  std::size_t layers_at = 0;  // how many of `sections` come before the layers
  std::size_t layers_a = 0, layers_b = 0;
  std::size_t layers_changed = 0;  // layers with a change, or only on one side

  [[nodiscard]] bool same() const { return sections.empty() && layers.empty(); }
  // The names of what differs, in output order: "world_size", "axes", ..., "layers", ...
  [[nodiscard]] std::vector<std::string> differing() const;
};

// Compares two manifests. Within a layer `rule.line` is left out (moving a rule down the file
// changes no plan); every other field counts.
[[nodiscard]] ManifestDiff diff_manifests(const nlohmann::ordered_json& a,
                                          const nlohmann::ordered_json& b);

struct DiffRequest {
  std::string a_path, b_path;
};

struct DiffResult {
  Diagnostics diags;                 // input-unreadable, json-syntax, manifest-invalid
  std::optional<ManifestDiff> diff;  // set if and only if both manifests were read and valid
};

// Reads both manifests (every problem of both reported) and compares them.
[[nodiscard]] DiffResult diff_manifest_files(const DiffRequest& request);
// The same on two texts already in memory (tests, fuzzing): positions name the sources.
[[nodiscard]] DiffResult diff_manifest_texts(const SourcePtr& a, const SourcePtr& b);

struct DiffNames {
  std::string a, b;  // as the user named the files
};

// For people: "--- A" / "+++ B", a block per section, the layer ranges, and a last line saying
// "same plan" or what differs.
[[nodiscard]] std::string render_diff_text(const ManifestDiff& diff, const DiffNames& names);
// For pull-request comments: a heading, the verdict, and a table per section.
[[nodiscard]] std::string render_diff_markdown(const ManifestDiff& diff, const DiffNames& names);
// For machines: {"tool", "version", "a", "b", "same", "differences", "context", "sections",
// "layers"}; a value absent from one manifest is left out of its change.
[[nodiscard]] nlohmann::ordered_json diff_json(const ManifestDiff& diff, const DiffNames& names,
                                               std::string_view version);

}  // namespace layerplan
