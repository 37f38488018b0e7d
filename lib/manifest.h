// The plan manifest: the compiled per-layer plan as JSON (schemas/manifest.schema.json), built
// from the facts stage (lib/layer_facts.h).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "lib/engine/engine.h"
#include "lib/model.h"
#include "lib/resolver.h"

namespace layerplan {

inline constexpr int kManifestSchemaVersion = 1;

// The inputs as the manifest records them (see recorded_path), with the SHA-256 of what they held.
struct ManifestInputs {
  std::string config_path;  // a path or a HuggingFace id
  std::string rules_path;   // empty when the plan came from a launch line
  // Leave the group lists out of the value (`groups` is null there): write_manifest streams
  // them from the layout's formulas instead.
  bool stream_groups = false;
  // False: no `groups` key at all; `group_layout` alone describes the groups.
  bool group_lists = true;
  // Leave the layers out of the value too (`layers` is null there): write_manifest builds and
  // writes them one at a time, so no value of the whole layer list is held.
  bool stream_layers = false;
  // Threads that make the streamed manifest's text (write_manifest); the bytes do not depend
  // on it. 0: as many as the machine has, at most kMaxManifestThreads.
  int threads = 1;
};

inline constexpr int kMaxManifestThreads = 8;

// The workers write_manifest gets for ManifestInputs::threads: `requested` when positive (at most
// 64), else the machine's hardware threads, at most kMaxManifestThreads, and 1 on a machine with
// fewer than four.
[[nodiscard]] int manifest_threads(int requested);

struct LayerFacts;
struct PlanFacts;

// The elements of an array that write_manifest builds one at a time as it writes them.
// `element` is called from several threads at once when write_manifest has threads > 1.
struct StreamedArray {
  std::size_t count = 0;
  std::function<nlohmann::ordered_json(std::size_t)> element;
};

// `path` as a manifest records it: relative to the working directory `cwd` (when set and `path`
// is absolute), lexically normal; a HuggingFace id stays as it is.
[[nodiscard]] std::string recorded_path(const std::string& path, const std::string& cwd);

// prefix, kind, flavor, index and mtp of a layer: the keys every layer listing starts with.
[[nodiscard]] nlohmann::ordered_json layer_identity(const Layer& layer);

// The numbers of a layer's shape that config.json gave (also used by `layers` and `explain`).
[[nodiscard]] nlohmann::ordered_json layer_shape(const Layer& layer);

// Builds the manifest of a checked plan (no errors) from its facts (lib/layer_facts.h). Keys
// come out in a fixed order.
[[nodiscard]] nlohmann::ordered_json build_manifest(const Engine& engine, const Model& model,
                                                    const RulesFile& rules, const AxisValues& axes,
                                                    const std::vector<LayerPlan>& plans,
                                                    const Layout& layout,
                                                    const ManifestInputs& inputs,
                                                    const PlanFacts* facts = nullptr);

// One element of the manifest's `layers`: the layer, its stage and rule, plan, shape, per-rank
// sizes and collectives (the engine's memory figures are added by the caller).
[[nodiscard]] nlohmann::ordered_json manifest_layer_json(const LayerFacts& facts,
                                                         const RulesFile& rules);

// The launch command of a plan, and where its ranks land (manifest keys `launch` and `nodes`).
[[nodiscard]] nlohmann::ordered_json launch_json(const LaunchCommand& command);
[[nodiscard]] nlohmann::ordered_json nodes_json(const NodePlacement& placement);

// Serialises with two-space indentation, except that arrays holding only numbers (rank groups)
// stay on one line. The same value always gives the same bytes.
[[nodiscard]] std::string dump_json(const nlohmann::ordered_json& value);

// Writes a manifest built with stream_groups (and stream_layers) exactly as dump_json (plus a
// final newline) writes the same manifest with its groups and layers in the value: each group
// computed from the layout's formulas as it goes, each layer built by `layers` when it is
// written. With `threads` > 1, that many workers make the text piece by piece (eight layers, or
// 16,384 group members, to a piece) while the calling thread hands the pieces to `write`
// in order: the bytes are the same for any number of threads. Returns false when `write` did.
[[nodiscard]] bool write_manifest(const nlohmann::ordered_json& manifest, const Layout& layout,
                                  const ChunkSink& write, const StreamedArray* layers = nullptr,
                                  int threads = 1);

// The compact description of every group set (manifest key `group_layout`).
[[nodiscard]] nlohmann::ordered_json group_layout_json(const Layout& layout);

// The expanded layer table of a model, without any plan (`layerplan layers --format json`).
[[nodiscard]] nlohmann::ordered_json layers_json(const Model& model);

}  // namespace layerplan
