#include "lib/manifest_diff.h"

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

ojson layer(const std::string& prefix, const std::string& kind, std::optional<int> index,
            int tp_size) {
  ojson l;
  l["prefix"] = prefix;
  l["kind"] = kind;
  l["flavor"] = kind == "attention" ? ojson("gqa") : ojson(nullptr);
  l["index"] = index ? ojson(*index) : ojson(nullptr);
  l["rule"] = {{"position", 0}, {"line", 10}};
  l["plan"] = {{"tp_size", tp_size}, {"tp_group", "tp"}};
  l["comms"] =
      ojson::array({{{"op", "all_reduce"}, {"group", "tp"}, {"elements_per_token", 4096}}});
  return l;
}

// A manifest of `n` decoder layers (attention and mlp each) between an embedding and a head.
ojson manifest(int n, int tp) {
  ojson m;
  m["schema_version"] = 1;
  m["inputs"] = {{"config", "c.json"}, {"rules", "r.yaml"}};
  m["world_size"] = tp;
  m["axes"] = {{"tp", tp}, {"pp", 1}};
  ojson group = ojson::array();
  for (int r = 0; r < tp; ++r) group.push_back(r);
  m["groups"] = {{"world", ojson::array({group})}, {"tp", ojson::array({group})}};
  ojson layers = ojson::array({layer("model.embed_tokens", "embedding", std::nullopt, tp)});
  for (int i = 0; i < n; ++i) {
    layers.push_back(layer("model.layers." + std::to_string(i) + ".self_attn", "attention", i, tp));
    layers.push_back(layer("model.layers." + std::to_string(i) + ".mlp", "mlp", i, tp));
  }
  layers.push_back(layer("lm_head", "lm_head", std::nullopt, tp));
  m["layers"] = std::move(layers);
  m["launch"] = {
      {"vllm", {{"command", "vllm serve c.json --tensor-parallel-size " + std::to_string(tp)}}}};
  return m;
}

const FieldChange* find_change(const std::vector<FieldChange>& changes, const std::string& field) {
  for (const auto& c : changes) {
    if (c.field == field) return &c;
  }
  return nullptr;
}

TEST_CASE("diff: a manifest against itself is the same plan") {
  ojson m = manifest(4, 2);
  ManifestDiff d = diff_manifests(m, m);
  CHECK(d.same());
  CHECK(d.sections.empty());
  CHECK(d.layers.empty());
  CHECK(d.context.empty());
  CHECK(d.layers_a == 10);
  CHECK(render_diff_text(d, {"a.json", "b.json"}).find("\nsame plan\n") != std::string::npos);
}

TEST_CASE("diff: inputs and generator are context, never a difference of the plan") {
  ojson a = manifest(2, 2), b = manifest(2, 2);
  b["inputs"]["rules"] = "moved/r.yaml";
  b["generator"] = {{"name", "layerplan"}, {"version", "9.9"}};
  ManifestDiff d = diff_manifests(a, b);
  CHECK(d.same());
  REQUIRE(d.context.size() == 2);
  CHECK(d.context[0].field == "inputs.rules");
  CHECK(d.context[1].field == "generator");
  CHECK_FALSE(d.context[1].a);
  std::string text = render_diff_text(d, {"a", "b"});
  CHECK(text.find("  inputs.rules: r.yaml -> moved/r.yaml\n") != std::string::npos);
  CHECK(text.find("same plan (inputs differ)\n") != std::string::npos);
}

TEST_CASE("diff: axes, groups and the launch line by field; layers folded into ranges") {
  ojson a = manifest(4, 2), b = manifest(4, 4);
  ManifestDiff d = diff_manifests(a, b);
  CHECK_FALSE(d.same());
  CHECK(d.differing() ==
        std::vector<std::string>{"world_size", "axes", "groups", "layers", "launch"});
  const SectionDiff& axes = d.sections[1];
  REQUIRE(axes.changes.size() == 1);
  CHECK(axes.changes[0].field == "tp");
  CHECK(*axes.changes[0].a == 2);
  CHECK(*axes.changes[0].b == 4);
  CHECK(find_change(d.sections[2].changes, "world"));
  CHECK(find_change(d.sections[2].changes, "tp"));
  CHECK(find_change(d.sections[3].changes, "vllm.command"));
  // Every layer changed its tp_size alike: one range per kind and name, not one per layer.
  CHECK(d.layers_changed == 10);
  REQUIRE(d.layers.size() == 4);
  CHECK(d.layers[0].label == "model.embed_tokens");
  CHECK(d.layers[1].label == "model.layers.{0-3}.self_attn");
  CHECK(d.layers[1].prefixes.size() == 4);
  CHECK(d.layers[1].kind == "attention");
  CHECK(d.layers[1].flavor == "gqa");
  CHECK(d.layers[2].label == "model.layers.{0-3}.mlp");
  REQUIRE(d.layers[1].changes.size() == 1);
  CHECK(d.layers[1].changes[0].field == "plan.tp_size");

  std::string text = render_diff_text(d, {"a.json", "b.json"});
  CHECK(text.rfind("--- A: a.json\n+++ B: b.json\nworld_size: 2 -> 4\naxes:\n  tp: 2 -> 4\n", 0) ==
        0);
  CHECK(text.find("layers: 10 of 10 layers differ\n"
                  "  model.embed_tokens (embedding):\n    plan.tp_size: 2 -> 4\n"
                  "  model.layers.{0-3}.self_attn (attention gqa, 4 layers):\n    plan.tp_size: 2 "
                  "-> 4\n") != std::string::npos);
  CHECK(text.find(
            "launch:\n  vllm.command: vllm serve c.json --tensor-parallel-size 2 -> vllm serve") !=
        std::string::npos);
  CHECK(text.find("\nplans differ: world_size, axes, groups, layers, launch\n") !=
        std::string::npos);
}

TEST_CASE("diff: only some layers change; a rule moved down the file is no change") {
  ojson a = manifest(6, 2), b = manifest(6, 2);
  for (auto& l : b["layers"]) {
    l["rule"]["line"] = 14;
    if (l["kind"] == "attention" && l["index"].get<int>() % 2 == 1) l["plan"]["tp_size"] = 1;
  }
  b["layers"][5]["comms"][0]["elements_per_token"] = 2048;  // model.layers.2.self_attn
  ManifestDiff d = diff_manifests(a, b);
  CHECK(d.layers_changed == 4);
  REQUIRE(d.layers.size() == 2);
  CHECK(d.layers[0].label == "model.layers.{1-5 step 2}.self_attn");
  CHECK(d.layers[0].prefixes.size() == 3);
  CHECK(d.layers[1].label == "model.layers.2.self_attn");
  CHECK(d.layers[1].changes[0].field == "comms[0].elements_per_token");

  b["layers"][3]["rule"]["name"] = "odd layers";
  d = diff_manifests(a, b);
  REQUIRE(d.layers.size() == 3);
  const FieldChange* name = find_change(d.layers[0].changes, "rule.name");
  REQUIRE(name);
  CHECK_FALSE(name->a);
  CHECK(*name->b == "odd layers");
}

TEST_CASE("diff: layers only one manifest has") {
  ojson a = manifest(2, 2), b = manifest(3, 2);
  ManifestDiff d = diff_manifests(a, b);
  CHECK(d.layers_a == 6);
  CHECK(d.layers_b == 8);
  REQUIRE(d.layers.size() == 2);
  CHECK(d.layers[0].presence == LayerPresence::kOnlyB);
  CHECK(d.layers[0].label == "model.layers.2.self_attn");
  std::string text = render_diff_text(d, {"a", "b"});
  CHECK(text.find("layers: 2 layers differ (A has 6, B has 8)\n"
                  "  model.layers.2.self_attn (attention gqa): only in B\n") != std::string::npos);
  ManifestDiff back = diff_manifests(b, a);
  CHECK(back.layers[0].presence == LayerPresence::kOnlyA);
}

TEST_CASE("diff: Markdown keeps hostile names inside code spans and tables intact") {
  ojson a = manifest(1, 2), b = manifest(1, 2);
  b["layers"][1]["rule"]["name"] = "a|b `x` \n| c";
  ManifestDiff d = diff_manifests(a, b);
  std::string md = render_diff_markdown(d, {"a.json", "b.json"});
  CHECK(md.find("### layerplan diff: `a.json` → `b.json`\n") == 0);
  CHECK(md.find("**plans differ**: `layers`\n") != std::string::npos);
  CHECK(md.find("| `model.layers.0.self_attn` | `attention gqa` | `rule.name` | *absent* | ") !=
        std::string::npos);
  // The name is shown as JSON (it holds a newline), its pipes escaped, in a fence of two backticks.
  CHECK(md.find("``\"a\\|b `x` \\n\\| c\"``") != std::string::npos);
  for (std::size_t at = 0; (at = md.find('\n', at + 1)) != std::string::npos;) {
    if (at + 1 < md.size())
      CHECK((md[at + 1] == '|' || md[at + 1] == '\n' || md[at + 1] == '*' || md[at + 1] == '#' ||
             md.compare(at + 1, 6, "1 of 4") == 0));
  }
}

TEST_CASE("diff: JSON says same, the differences, and leaves out absent values") {
  ojson a = manifest(1, 2), b = manifest(1, 2);
  b["nodes"] = {{"ranks_per_node", 2}};
  ojson j = diff_json(diff_manifests(a, b), {"a.json", "b.json"}, "1.2.3");
  CHECK(j["tool"] == "layerplan");
  CHECK(j["version"] == "1.2.3");
  CHECK(j["same"] == false);
  CHECK(j["differences"] == ojson::array({"nodes"}));
  REQUIRE(j["sections"]["nodes"].size() == 1);
  // A section only one manifest has is one change of the whole value.
  CHECK(j["sections"]["nodes"][0]["field"] == "");
  CHECK_FALSE(j["sections"]["nodes"][0].contains("a"));
  CHECK(j["sections"]["nodes"][0]["b"] == ojson({{"ranks_per_node", 2}}));
  CHECK(j["layers"]["changed"] == 0);
  CHECK(j["layers"]["ranges"].empty());
}

TEST_CASE("diff: long values are cut on a character boundary in text, whole in JSON") {
  ojson a = manifest(1, 2), b = manifest(1, 2);
  std::string long_a(150, 'x'), long_b = std::string(199, 'y') + "é" + std::string(50, 'z');
  a["launch"]["vllm"]["command"] = long_a;
  b["launch"]["vllm"]["command"] = long_b;
  ManifestDiff d = diff_manifests(a, b);
  std::string text = render_diff_text(d, {"a", "b"});
  CHECK(text.find("launch:\n  vllm.command:\n    - " + long_a + "\n    + " + std::string(199, 'y') +
                  "… (52 more bytes)\n") != std::string::npos);
  ojson j = diff_json(d, {"a", "b"}, "v");
  CHECK(j["sections"]["launch"][0]["b"] == long_b);
}

TEST_CASE("diff: manifest files that cannot be read, parsed or drawn are reported, both of them") {
  std::string golden = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/golden/llama8b_tpa.json";
  DiffResult same = diff_manifest_files({golden, golden});
  REQUIRE(same.diff);
  CHECK(same.diff->same());
  DiffResult bad =
      diff_manifest_files({"/nonexistent/a.json", std::string(LAYERPLAN_SOURCE_DIR) +
                                                      "/fixtures/manifests/bad_rank_twice.json"});
  CHECK_FALSE(bad.diff);
  std::vector<std::string> codes;
  for (const auto& diag : bad.diags.sorted()) codes.push_back(diag.code);
  CHECK(std::find(codes.begin(), codes.end(), "input-unreadable") != codes.end());
  CHECK(std::find(codes.begin(), codes.end(), "manifest-invalid") != codes.end());
}

}  // namespace
}  // namespace layerplan
