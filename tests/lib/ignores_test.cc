// Inline ignores: which lines a comment covers, unknown codes, and what apply_ignores drops.
#include "lib/ignores.h"

#include "catch.h"

namespace layerplan {
namespace {

const char* kRules =
    "parallelism_rules:\n"                                                     // 1
    "  axes: {tp: 2}\n"                                                        // 2
    "  rules:\n"                                                               // 3
    "    - name: a  # layerplan: ignore=rule-shadowed,rule-matches-nothing\n"  // 4
    "      match: {kind: moe}\n"                                               // 5
    "      plan: {tp_size: 1}\n"                                               // 6
    "    - name: b\n"                                                          // 7
    "      match: {kind: moe}   # layerplan: ignore=rule-shadowed\n"           // 8
    "      plan: {tp_size: 1}\n";                                              // 9

TEST_CASE("an inline ignore on a rule's first line covers the rule; elsewhere its line") {
  auto file = make_source("r.yaml", kRules);
  Diagnostics diags;
  auto list = inline_ignores(file, diags);
  CHECK(diags.all().empty());
  REQUIRE(list.size() == 2);
  CHECK(list[0].first_line == 4);
  CHECK(list[0].last_line == 6);
  CHECK(list[0].codes == std::vector<std::string>{"rule-shadowed", "rule-matches-nothing"});
  CHECK(list[1].first_line == 8);
  CHECK(list[1].last_line == 8);

  std::vector<Diagnostic> all = {
      make_warning("rule-matches-nothing", Location{file, 5, 14}, "in rule a"),
      make_warning("rule-shadowed", Location{file, 8, 14}, "in rule b, on the comment's line"),
      make_warning("rule-matches-nothing", Location{file, 8, 14}, "other code"),
      make_warning("rule-shadowed", Location{file, 9, 14}, "below, not covered"),
      make_error("tp-size-divides-tp", Location{file, 6, 23}, "another code in rule a"),
  };
  auto kept = apply_ignores(all, {}, file, list);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].message == "other code");
  CHECK(kept[1].message == "below, not covered");
  CHECK(kept[2].code == "tp-size-divides-tp");
  auto by_code = apply_ignores(all, {"tp-size-divides-tp"}, file, list);
  CHECK(by_code.size() == 2);
  // Another file's diagnostics at the same lines are not touched by this file's comments.
  auto other = make_source("s.yaml", kRules);
  std::vector<Diagnostic> elsewhere = {make_warning("rule-shadowed", Location{other, 8, 1}, "x")};
  CHECK(apply_ignores(elsewhere, {}, file, list).size() == 1);
}

TEST_CASE("an inline ignore of an unknown code warns with a did-you-mean") {
  auto file = make_source("r.yaml",
                          "parallelism_rules:  # layerplan: ignore=rule-shadow\n"
                          "  rules: []  # layerplan: ignroe=x\n");
  Diagnostics diags;
  auto list = inline_ignores(file, diags);
  CHECK(list.empty());
  REQUIRE(diags.all().size() == 2);
  CHECK(diags.all()[0].code == "ignore-unknown-code");
  CHECK(diags.all()[0].message.find("did you mean 'rule-shadowed'?") != std::string::npos);
  CHECK(diags.all()[0].location.line == 1);
  CHECK(diags.all()[1].message.find("must read '# layerplan: ignore=CODE") != std::string::npos);
  CHECK(unknown_code_message("tpa-invariant").empty());
}

}  // namespace
}  // namespace layerplan
