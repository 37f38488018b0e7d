#include "lib/rules.h"

#include "catch.h"
#include "lib/glob.h"

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
      "parallelism_rules:\n  rules:\n    - match: {layers: \"3-60\", mtp: false}\n      plan: "
      "{tp_size: 1}\n"
      "    - match: {layers: [0, 2]}\n      plan: {tp_size: 1}\n    - match: {layers: 7}\n      "
      "plan: {tp_size: 1}\n"
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
  CHECK_FALSE(
      parse("parallelism_rules:\n  axes: {tp: 0, pp: x}\n  rules:\n    - match: {kind: mpl}\n"
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

TEST_CASE("a tab in YAML indentation gets a hint at the tab") {
  for (const std::string& text :
       {std::string("parallelism_rules:\n  axes:\n\ttp: 8\n  rules: []\n"),
        std::string("parallelism_rules:\n\taxes: {tp: 8}\n\trules: []\n"),
        std::string("parallelism_rules:\n  axes: {tp: 8}\n  rules:\n  \t- match: {}\n")}) {
    Diagnostics diags;
    CHECK_FALSE(parse(text, diags));
    REQUIRE(diags.all().size() == 1);
    const Diagnostic& d = diags.all()[0];
    CHECK(d.code == "yaml-syntax");
    REQUIRE(d.notes.size() == 1);
    INFO(text);
    CHECK(d.notes[0].message.find("indented with a tab") != std::string::npos);
    CHECK(d.notes[0].location.line == (text.find("\n  \t") != std::string::npos   ? 4
                                       : text.find("\n\ttp") != std::string::npos ? 3
                                                                                  : 2));
  }
  Diagnostics plain;
  CHECK_FALSE(parse("parallelism_rules: [\n", plain));
  CHECK(plain.all()[0].notes.empty());
}

TEST_CASE("axes of the file's own: near misses of built-in axes, and axes no plan names") {
  CHECK(builtin_axis_near("atn_tp") == "attn_tp");
  CHECK(builtin_axis_near("attntp") == "attn_tp");
  CHECK(builtin_axis_near("tp_attn") == "attn_tp");
  CHECK(builtin_axis_near("attn_tpp") == "attn_tp");
  CHECK(builtin_axis_near("dpc") == "dcp");
  CHECK(builtin_axis_near("pt") == "tp");
  CHECK(builtin_axis_near("attn_tp").empty());
  CHECK(builtin_axis_near("tp2").empty());
  CHECK(builtin_axis_near("mlp_tp").empty());
  CHECK(builtin_axis_near("ep4").empty());
  CHECK(builtin_axis_near("wide").empty());

  Diagnostics diags;
  auto rules = parse(
      "parallelism_rules:\n  axes: {tp: 8, atn_tp: 8, spare: 2, wide: 8}\n  rules:\n"
      "    - match: {kind: mlp}\n      plan: {tp_size: wide}\n",
      diags);
  REQUIRE(rules);
  REQUIRE(diags.all().size() == 2);
  CHECK(diags.all()[0].code == "axis-near-builtin");
  CHECK(diags.all()[0].severity == Severity::kWarning);
  CHECK(diags.all()[0].location.line == 2);
  CHECK(diags.all()[0].location.column == 17);
  CHECK(diags.all()[0].message.find("did you mean 'attn_tp'?") != std::string::npos);
  CHECK(diags.all()[1].code == "axis-unused");
  CHECK(diags.all()[1].location.column == 28);
  CHECK(diags.all()[1].message.find("axis 'spare' is declared but no rule's plan names it") == 0);

  // A file with errors may have lost the rules that name an axis: no axis-unused then.
  Diagnostics broken;
  CHECK_FALSE(
      parse("parallelism_rules:\n  axes: {tp: 8, wide: 8}\n  rules:\n"
            "    - match: {kind: nope}\n      plan: {tp_size: wide}\n",
            broken));
  for (const auto& d : broken.all()) CHECK(d.code != "axis-unused");
}

}  // namespace
}  // namespace layerplan
