#include "catch.h"
#include "lib/glob.h"
#include "lib/rules.h"

namespace layerplan {
namespace {

std::optional<RulesFile> parse(const std::string& text, Diagnostics& diags) {
  return parse_rules(make_source("rules.yaml", text), diags);
}

TEST_CASE("the RFC's examples parse, with positions") {
  Diagnostics diags;
  auto rules = parse(
      "parallelism_rules:\n  axes:\n    tp: 16\n    attn_tp: 4\n    dcp: 4\n  rules:\n"
      "    - match: { kind: attention }\n      plan: { tp_size: attn_tp, dcp_size: dcp }\n"
      "    - match: { kind: mlp }\n      plan: { tp_size: tp }\n",
      diags);
  REQUIRE(rules);
  REQUIRE(rules->axes.size() == 3);
  CHECK(rules->axes[1].name == "attn_tp");
  CHECK(rules->axes[1].location.line == 4);
  CHECK(rules->axes[1].location.column == 14);
  REQUIRE(rules->rules.size() == 2);
  CHECK(rules->rules[0].plan.tp_size.axis == "attn_tp");
  CHECK(rules->rules[0].plan.tp_size.location.line == 8);
  CHECK(rules->rules[1].location.line == 9);
  CHECK(*rules->rules[0].match.kind == LayerKind::kAttention);
}

TEST_CASE("matchers: layer ranges, mtp and empty match") {
  Diagnostics diags;
  auto rules = parse(
      "parallelism_rules:\n  rules:\n    - match: {layers: \"3-60\", mtp: false}\n      plan: {tp_size: 1}\n"
      "    - match: {layers: [0, 2]}\n      plan: {tp_size: 1}\n    - match: {layers: 7}\n      plan: {tp_size: 1}\n"
      "    - match:\n      plan: {tp_size: 1}\n",
      diags);
  REQUIRE(rules);
  CHECK(rules->rules[0].match.layers == std::make_pair(3, 60));
  CHECK(rules->rules[0].match.mtp == false);
  CHECK(rules->rules[1].match.layers == std::make_pair(0, 2));
  CHECK(rules->rules[2].match.layers == std::make_pair(7, 7));
  CHECK_FALSE(rules->rules[3].match.kind);
}

TEST_CASE("every error of a file is reported in one pass") {
  Diagnostics diags;
  CHECK_FALSE(parse("parallelism_rules:\n  axes: {tp: 0, pp: x}\n  rules:\n    - match: {kind: mpl}\n"
                    "      plan: {tp_size: nope}\n",
                    diags));
  CHECK(diags.count(Severity::kError) == 4);
}

TEST_CASE("a top-level scalar or a missing section is a clear error") {
  Diagnostics a, b, c;
  CHECK_FALSE(parse("just text", a));
  CHECK(a.all()[0].code == "wrong-type");
  CHECK_FALSE(parse("other: 1\n", b));
  CHECK(b.all()[0].code == "unknown-key");
  CHECK_FALSE(parse("", c));
  CHECK(c.all()[0].code == "wrong-type");
}

TEST_CASE("alias bombs and deep nesting stop at the limits") {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char name = 'b'; name <= 'j'; ++name) {
    bomb += std::string(1, name) + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  Diagnostics diags;
  CHECK_FALSE(parse(bomb, diags));
  CHECK(diags.all()[0].code == "yaml-limit");
  Diagnostics deep;
  CHECK_FALSE(parse(std::string(100, '[') + std::string(100, ']'), deep));
  CHECK(deep.all()[0].code == "yaml-limit");
}

TEST_CASE("globs match whole prefixes") {
  CHECK(glob_match("model.layers.*.mlp", "model.layers.12.mlp"));
  CHECK_FALSE(glob_match("model.layers.*.mlp", "model.layers.12.mlp.experts"));
  CHECK(glob_match("model.layers.6[01]*", "model.layers.61.self_attn"));
  CHECK(glob_match("model.layers.?.mlp", "model.layers.3.mlp"));
  CHECK_FALSE(glob_match("model.layers.?.mlp", "model.layers.13.mlp"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("[!a]x", "bx"));
  CHECK_FALSE(glob_match("mtp_*", "model.layers.61"));
  CHECK(glob_match("model.**.mlp", "model.layers.3.mlp"));
  CHECK(glob_compact("a***b*?**") == "a*b*?*");
  CHECK(glob_compact("[**]**x") == "[**]*x");  // classes are copied as they are
  CHECK(glob_error(std::string(257, '*')).has_value());
  CHECK(glob_error("a[b"));
  CHECK_FALSE(glob_error("a[b]"));
  // Many stars against a long non-matching text: linear, no blow-up.
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

}  // namespace
}  // namespace layerplan
