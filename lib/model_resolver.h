// Naming a model the way people name it: a path (a config.json, a directory holding one, or a
// HuggingFace cache repo folder) or a HuggingFace model id `org/name[@revision]`, looked up
// offline in the local HuggingFace cache. Never a network call.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace layerplan {

// Where the HuggingFace cache is, as the environment says; the CLI fills this from
// $HF_HUB_CACHE, $HF_HOME and $HOME (lib/ reads no environment).
struct HfCacheEnv {
  std::string hf_hub_cache;  // $HF_HUB_CACHE: the cache itself
  std::string hf_home;       // $HF_HOME: the cache is $HF_HOME/hub
  std::string home;          // $HOME: the cache is ~/.cache/huggingface/hub
};

// The one cache directory huggingface_hub would use: HF_HUB_CACHE, else HF_HOME/hub, else
// ~/.cache/huggingface/hub; empty when none of the three is set.
[[nodiscard]] std::string hf_cache_dir(const HfCacheEnv& env);

struct ModelResolveError {
  std::string message;
  std::vector<std::string> notes;  // the places tried, and how to fetch the config
};

// Resolves `spec` to a path that load_hf_config reads (a config.json or a directory holding
// one). A relative path is taken relative to `base_dir` (empty: the working directory). An
// existing path wins over an id of the same spelling; a spec that is neither an existing path
// nor an id is returned as a path, for the reader to say why it cannot be read. Returns
// nothing iff it filled `error` (an id not in the cache, or a cache folder without a config).
[[nodiscard]] std::optional<std::string> resolve_model(std::string_view spec,
                                                       const std::string& base_dir,
                                                       const HfCacheEnv& env,
                                                       ModelResolveError& error);

}  // namespace layerplan
