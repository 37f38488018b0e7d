#include <fstream>
#include <sstream>

#include "catch.h"
#include "lib/diagnostics.h"
#include "lib/render.h"

namespace layerplan {
namespace {

TEST_CASE("did-you-mean picks close names and rejects far ones") {
  std::vector<std::string> kinds = {"attention", "mlp", "moe", "mamba"};
  CHECK(closest_match("atention", kinds) == "attention");
  CHECK(closest_match("mpl", kinds) == "mlp");
  CHECK(closest_match("router", kinds).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("equal diagnostics merge their layers; the renderer shows source and caret") {
  auto file = make_source("rules.yaml", "parallelism_rules:\n  axes:\n    attn_tp: 3\n");
  Diagnostics diags;
  for (int i = 0; i < 6; ++i) {
    Diagnostic d = make_error("attn-tp-divides-heads", Location{file, 3, 14}, "attn_tp (3) does not divide 64");
    d.subjects.push_back("model.layers." + std::to_string(i) + ".self_attn");
    diags.report(std::move(d));
  }
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].subjects.size() == 6);
  std::string text = render_text(diags.all(), RenderOptions{});
  CHECK(text.find("rules.yaml:3:14: error: attn_tp (3) does not divide 64 [attn-tp-divides-heads]\n") == 0);
  CHECK(text.find(" 3 |     attn_tp: 3\n   |              ^\n") != std::string::npos);
  CHECK(text.find("in 6 layers: model.layers.0.self_attn") != std::string::npos);
  CHECK(text.find("and 3 more, last model.layers.5.self_attn") != std::string::npos);
  CHECK(render_summary(diags.all(), RenderOptions{}) == "1 error");
  auto json = diagnostics_json(diags.all(), RenderOptions{});
  CHECK(json[0]["location"]["line"] == 3);
  CHECK(json[0]["layers"].size() == 6);
}

TEST_CASE("--werror shows warnings as errors") {
  Diagnostics diags;
  diags.report(make_warning("rule-shadowed", Location{}, "never applies"));
  RenderOptions o;
  o.werror = true;
  CHECK(render_text(diags.all(), o).find("error: never applies") != std::string::npos);
}

TEST_CASE("the catalogue has unique kebab-case codes") {
  std::vector<std::string> seen;
  for (const auto& info : diagnostic_codes()) {
    std::string code(info.code);
    CHECK(std::find(seen.begin(), seen.end(), code) == seen.end());
    CHECK(code.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == std::string::npos);
    seen.push_back(code);
  }
}

TEST_CASE("README's list of diagnostic codes names every code of the catalogue") {
  std::ifstream in(std::string(LAYERPLAN_SOURCE_DIR) + "/README.md");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  for (const auto& info : diagnostic_codes()) {
    INFO(info.code);
    CHECK(readme.find("`" + std::string(info.code) + "`") != std::string::npos);
  }
}

}  // namespace
}  // namespace layerplan
