// The table of checks (lib/checks.cc) against the catalogue of codes (lib/diagnostics.cc): every
// row reports a catalogued code, and every catalogued code is reported by a row or listed with the
// stage that reports it. Also the runner: kinds, groups, the axis checks alone.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "catch.h"
#include "lib/checks.h"
#include "lib/engine/vllm.h"
#include "test_util.h"

namespace layerplan {
namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(LAYERPLAN_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> table_codes() {
  std::set<std::string> out;
  for (const auto& c : check_table()) out.insert(std::string(c.code));
  return out;
}

TEST_CASE("every row of the check table reports a code of the catalogue") {
  REQUIRE(check_table().size() >= 50);
  for (const auto& c : check_table()) {
    INFO(c.code);
    CHECK(find_code(c.code) != nullptr);
  }
}

TEST_CASE("every code of the catalogue comes from a check or from a listed stage, not both") {
  std::set<std::string> checks = table_codes();
  std::set<std::string> elsewhere;
  for (const auto& o : codes_reported_elsewhere()) {
    INFO(o.code);
    CHECK(find_code(o.code) != nullptr);
    CHECK(elsewhere.insert(std::string(o.code)).second);  // listed once
    CHECK(checks.count(std::string(o.code)) == 0);
  }
  for (const auto& info : diagnostic_codes()) {
    INFO(info.code);
    std::string code(info.code);
    CHECK(checks.count(code) + elsewhere.count(code) == 1);
  }
}

TEST_CASE("each code listed as another stage's is reported in the file it names") {
  for (const auto& o : codes_reported_elsewhere()) {
    INFO(o.code << " in " << o.file);
    std::string text = read_source_file(std::string(o.file));
    REQUIRE(!text.empty());
    std::string code(o.code);
    CHECK((text.find("\"" + code + "\"") != std::string::npos ||
           text.find("[" + code + "]") != std::string::npos));
  }
}

TEST_CASE("each check's code is reported in the check files") {
  std::string text;
  for (const char* f : {"lib/checks_layers.cc", "lib/checks_hybrid.cc", "lib/checks_rules.cc",
                        "lib/engine/vllm_parallel_config.cc", "lib/engine/vllm_model.cc"}) {
    text += read_source_file(f);
  }
  for (const auto& code : table_codes()) {
    INFO(code);
    CHECK(text.find("\"" + code + "\"") != std::string::npos);
  }
}

TEST_CASE("the rows of the table are well formed") {
  std::map<std::string, std::size_t> last_row_of_group;
  const auto& table = check_table();
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Check& c = table[i];
    INFO(c.code);
    switch (c.scope) {
      case CheckScope::kAxes:
      case CheckScope::kPlan:
        CHECK(c.run_plan != nullptr);
        CHECK(c.run_rule == nullptr);
        CHECK(c.run_layer == nullptr);
        CHECK(c.group.empty());
        CHECK(!c.kind);
        break;
      case CheckScope::kRule:
        CHECK(c.run_rule != nullptr);
        CHECK(c.run_plan == nullptr);
        CHECK(!c.group.empty());
        break;
      case CheckScope::kLayer:
        CHECK(c.run_layer != nullptr);
        CHECK(c.run_plan == nullptr);
        CHECK(!c.group.empty());
        break;
    }
    if (!c.group.empty()) {
      // A group's rows are adjacent: a group that came back would report in two places.
      std::string group(c.group);
      auto it = last_row_of_group.find(group);
      if (it != last_row_of_group.end()) CHECK(it->second == i - 1);
      last_row_of_group[group] = i;
    }
    // The engine's rows name an engine that exists.
    if (c.engine != nullptr) CHECK(&c.engine() == &vllm_engine());
  }
}

TEST_CASE(
    "axis checks come first, then the rest, so run_axis_checks reports what run_checks "
    "reports first") {
  bool after_axes = false;
  for (const auto& c : check_table()) {
    INFO(c.code);
    if (c.scope != CheckScope::kAxes) after_axes = true;
    CHECK((c.scope != CheckScope::kAxes || !after_axes));
  }
}

const std::string kLlama = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
  "num_hidden_layers": 4, "num_attention_heads": 32, "num_key_value_heads": 8,
  "intermediate_size": 14336, "vocab_size": 128256})";

TEST_CASE("a rules file with errors of its own still gets the axis checks, and only those") {
  // attn_tp 3 does not divide tp 8 (an axis check); the rule's unknown kind is the file's own
  // error.
  auto c = test::compile_text(kLlama,
                              "parallelism_rules:\n  axes: {tp: 8, attn_tp: 3}\n  rules:\n"
                              "    - {match: {kind: atention}, plan: {tp_size: 2}}\n");
  CHECK(test::has_code(*c, "unknown-kind"));
  CHECK(test::has_code(*c, "attn-tp-divides-tp"));
  // No layer check ran: tp_size 2 would give replicated-layer notes.
  CHECK_FALSE(test::has_code(*c, "replicated-layer"));
}

TEST_CASE("layer checks run on the layers of their kind, and groups report in table order") {
  // tp_size 2 under tp 8 on attention and MLP: replicated-layer from both groups, attention's
  // first (its group comes first in the table), each listing its own layers.
  auto c = test::compile_text(kLlama,
                              "parallelism_rules:\n  axes: {tp: 8}\n  rules:\n"
                              "    - {match: {layers: \"0-1\"}, plan: {tp_size: 2}}\n",
                              CheckOptions{true});
  std::vector<const Diagnostic*> replicated;
  for (const auto& d : c->diags.all()) {
    if (d.code == "replicated-layer") replicated.push_back(&d);
  }
  REQUIRE(replicated.size() == 2);
  CHECK(replicated[0]->message.find("attention tp_size 2 without DCP") == 0);
  CHECK(replicated[0]->subjects ==
        std::vector<std::string>{"model.layers.0.self_attn", "model.layers.1.self_attn"});
  CHECK(replicated[1]->message.find("MLP tp_size 2 is narrower than tp (8)") == 0);
  CHECK(replicated[1]->subjects ==
        std::vector<std::string>{"model.layers.0.mlp", "model.layers.1.mlp"});
}

TEST_CASE("the one 'does not divide' helper keeps the message, the numbers and the valid values") {
  Diagnostic d = check_util::does_not_divide("dcp-divides-tp", Location{}, "dcp (3)", "tp (8)");
  CHECK(d.message == "dcp (3) does not divide tp (8)");
  CHECK(d.severity == Severity::kError);
  check_util::suggest_values(d, "valid dcp values for tp 8", check_util::divisors(8));
  CHECK(d.valid_values == std::vector<std::int64_t>{1, 2, 4, 8});
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0].message == "valid dcp values for tp 8: 1, 2, 4, 8");
  Diagnostic none =
      check_util::does_not_divide("mamba-tp-divides-heads", Location{}, "Mamba tp_size 4",
                                  "the Mamba heads mamba_num_heads (6)", ": vLLM …");
  CHECK(none.message ==
        "Mamba tp_size 4 does not divide the Mamba heads mamba_num_heads (6): vLLM …");
  check_util::suggest_values(none, "valid Mamba tp_size values with tp 4", {}, "none");
  CHECK(none.notes[0].message == "valid Mamba tp_size values with tp 4: none");
  CHECK(none.valid_values.empty());
}

}  // namespace
}  // namespace layerplan
