// The bodies of the fuzz targets, shared by the libFuzzer entry points (fuzz/fuzz_*.cc) and the
// regression test that replays every crasher kept under fixtures/fuzz-regressions/
// (tests/lib/regressions_test.cc). Each body runs its stage on one input and everything that
// renders the result, JSON serialisation included, with nlohmann's strict UTF-8 check: a string
// that nlohmann refuses to dump throws. A broken invariant throws std::logic_error. Under
// libFuzzer an escaping exception is a crash; in the test it is a failure.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/tables.h"
#include "lib/architectures.h"
#include "lib/explain.h"
#include "lib/hf_config.h"
#include "lib/manifest.h"
#include "lib/pipeline.h"
#include "lib/render.h"
#include "lib/rules.h"

namespace layerplan::fuzz {

// Splits the pipeline target's input: config.json, this line, rules.yaml.
inline constexpr std::string_view kSeparator = "\n#----8<----\n";
inline constexpr std::int64_t kMaxFuzzedLayoutEntries = std::int64_t{1} << 16;

// Keeps a result alive so the optimiser cannot drop the work that made it.
inline void consume(const std::string& s) {
  volatile std::size_t sink = s.size();
  (void)sink;
}

// Renders diagnostics the way the CLI does, as text and as JSON.
inline void render_all(const Diagnostics& diags) {
  for (bool color : {false, true}) {
    RenderOptions options;
    options.color = color;
    auto sorted = diags.sorted();
    consume(render_text(sorted, options));
    consume(render_summary(sorted, options));
    consume(diagnostics_json(sorted, options).dump(2));
  }
}

inline void run_config(std::string_view input) {
  static const ArchRegistry registry = ArchRegistry::builtin();
  Diagnostics diags;
  auto config = parse_hf_config(make_source("config.json", std::string(input)), diags);
  if (config) {
    auto model = expand_model(*config, registry, diags);
    if (model) consume(layers_json(*model).dump(2));
    if (model && diags.has_errors()) throw std::logic_error("a model came with errors");
  }
  render_all(diags);
}

inline void run_rules(std::string_view input) {
  Diagnostics diags;
  RulesFile partial;
  auto rules = parse_rules(make_source("rules.yaml", std::string(input)), diags, &partial);
  if (rules.has_value() == diags.has_errors()) {
    throw std::logic_error("parse_rules must return nothing exactly when it reports an error");
  }
  render_all(diags);
}

inline std::string manifest_of(const Compilation& c) {
  return c.manifest({"config.json", "rules.yaml"}).dump(2);
}

inline void run_pipeline(std::string_view input) {
  std::size_t cut = input.find(kSeparator);
  CompileRequest request;
  request.config_path = "config.json";
  request.rules_path = "rules.yaml";
  request.config = make_source("config.json", std::string(input.substr(0, cut)));
  request.rules = make_source(
      "rules.yaml",
      cut == std::string_view::npos ? "" : std::string(input.substr(cut + kSeparator.size())));
  auto c = compile(request);
  render_all(c->diags);
  if (c->model && c->rules) {
    // What `explain` shows, for every layer, also of plans that failed their checks.
    for (const auto& plan : c->plans) consume(explanation_json(explain_layer(*c, plan)).dump());
  }
  // Manifests of the largest layouts take seconds: hostile_test covers them; here they would
  // only slow the search down.
  if (c->layout && c->engine->layout_size(c->axes, c->plans).entries <= kMaxFuzzedLayoutEntries) {
    if (c->diags.has_errors()) throw std::logic_error("a layout came with errors");
    std::string first = manifest_of(*c);
    consume(dump_json(c->manifest({"config.json", "rules.yaml"})));
    consume(cli::plan_table(*c, false));
    consume(cli::groups_table(*c->layout, 8));
    auto again = compile(request);
    if (!again->layout || manifest_of(*again) != first) {
      throw std::logic_error("the same inputs gave two different manifests");
    }
  }
}

}  // namespace layerplan::fuzz
