#include "lib/diagnostics.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "catch.h"
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
    Diagnostic d = make_error("attn-tp-divides-heads", Location{file, 3, 14},
                              "attn_tp (3) does not divide 64");
    d.subjects.push_back("model.layers." + std::to_string(i) + ".self_attn");
    diags.report(std::move(d));
  }
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].subjects.size() == 6);
  std::string text = render_text(diags.all(), RenderOptions{});
  CHECK(text.find(
            "rules.yaml:3:14: error: attn_tp (3) does not divide 64 [attn-tp-divides-heads]\n") ==
        0);
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

// README's list of codes: the part of its "Diagnostics" section from "The codes, by stage" to
// the line naming lib/diagnostics.cc.
std::string readme_code_list() {
  std::ifstream in(std::string(LAYERPLAN_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  auto begin = readme.find("The codes, by stage");
  auto end = readme.find("`lib/diagnostics.cc` holds the catalogue", begin);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return readme.substr(begin, end - begin);
}

TEST_CASE("README's list of diagnostic codes is the catalogue, no code missing and none extra") {
  std::string list = readme_code_list();
  REQUIRE(!list.empty());
  for (const auto& info : diagnostic_codes()) {
    INFO(info.code);
    CHECK(list.find("`" + std::string(info.code) + "`") != std::string::npos);
  }
  // Every code-shaped name in the list (`kebab-case`, a dash at least) is in the catalogue.
  std::regex code_shape("`([a-z]+(-[a-z]+)+)`");
  int named = 0;
  for (auto it = std::sregex_iterator(list.begin(), list.end(), code_shape);
       it != std::sregex_iterator(); ++it) {
    std::string code = (*it)[1].str();
    INFO(code);
    CHECK(find_code(code) != nullptr);
    ++named;
  }
  CHECK(named >= static_cast<int>(diagnostic_codes().size()));
}

}  // namespace
}  // namespace layerplan
