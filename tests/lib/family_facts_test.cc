// Family facts are declaration data (schemas/architectures/*.yaml), never family names in C++:
// the built-in declarations' `weights` give what lib/engine/vllm_memory.cc decided per family
// name before, and an --arch-file copy of the declarations under other family names gives the
// same memory and the same check verdicts (issue 15: a rename silently switched such lists off).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "arch_test_util.h"
#include "catch.h"

namespace layerplan {

// Generated from schemas/architectures/*.yaml (lib/embed_architectures.cmake).
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files();

namespace {

namespace fs = std::filesystem;

// What vllm_memory.cc::read_facts decided by family name before the facts became declaration
// data (commit 139eb7c), with deliberate changes that follow vLLM's code at f067737b, each
// written out below as `vllm:`: e_score_correction_bias on topk_method noaux_tc is DeepSeek's
// rule (deepseek_v2.py::DeepseekV2MoE.__init__), declared only by the families vLLM runs
// through that class; and the six facts of issue 15e (docs/vllm-fidelity.md, "Weight facts").
struct OldFacts {
  bool o_bias, qk_norm, qk_norm_full, gated_q, sinks, gated_mlp, router_bias, expert_bias,
      score_bias, shared_expert_gate;
};

bool config_flag(const HfConfig& c, const char* key, bool fallback) {
  const nlohmann::json* v = c.find(key);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

OldFacts old_facts(const std::string& fam, const HfConfig& c) {
  const nlohmann::json* topk = c.find("topk_method");
  bool noaux = topk != nullptr && topk->is_string() && topk->get<std::string>() == "noaux_tc";
  // vllm: glm4_moe_lite left this list (glm4_moe.py::Glm4MoE builds the bias always) and
  // glm_moe_dsa joined it (deepseek_v2.py::DeepseekV2MoE, noaux_tc only).
  bool deepseek_moe = fam == "deepseek" || fam == "deepseek_v32" || fam == "glm_moe_dsa" ||
                      fam == "mistral_large_3";
  // vllm: Qwen3Attention, Qwen3MoeAttention, Qwen3NextAttention, MiniMaxM2Attention and
  // NemotronHAttention build o_proj with bias=False whatever attention_bias says.
  bool no_o_bias = fam == "glm4_moe" || fam == "qwen3" || fam == "qwen3_moe" ||
                   fam == "qwen3_next" || fam == "minimax_m2" || fam == "nemotron_h";
  OldFacts f{};
  f.o_bias = config_flag(c, "attention_bias", false) && !no_o_bias;
  f.qk_norm = fam == "qwen3" || fam == "qwen3_moe" || fam == "qwen3_next" ||
              (fam == "glm4_moe" && config_flag(c, "use_qk_norm", false));
  f.qk_norm_full = fam == "minimax_m2";
  // vllm: qwen3_next.py::Qwen3NextAttention reads attn_output_gate (getattr default True).
  f.gated_q = fam == "qwen3_next" && config_flag(c, "attn_output_gate", true);
  f.sinks = fam == "gpt_oss";
  f.gated_mlp = fam != "nemotron_h";
  f.router_bias = fam == "gpt_oss";
  f.expert_bias = fam == "gpt_oss";
  // vllm: minimax_m2.py::MiniMaxM2MoE reads use_routing_bias with getattr default False.
  f.score_bias = (deepseek_moe && noaux) || fam == "nemotron_h" || fam == "glm4_moe" ||
                 fam == "glm4_moe_lite" ||
                 (fam == "minimax_m2" && config_flag(c, "use_routing_bias", false));
  // vllm: qwen3_moe.py::Qwen3MoeSparseMoeBlock builds the gate with its shared expert.
  f.shared_expert_gate = fam == "qwen3_next" || fam == "qwen3_moe";
  return f;
}

TEST_CASE("the built-in weights maps say what read_facts said per family name") {
  ArchRegistry builtin = ArchRegistry::builtin();
  std::set<std::string> families;
  for (const auto& decl : builtin.decls()) families.insert(decl.family);
  // The oracle names real families (a typo in it would make a check vacuous).
  for (const char* fam : {"qwen3", "qwen3_moe", "qwen3_next", "glm4_moe", "glm_moe_dsa",
                          "minimax_m2", "gpt_oss", "nemotron_h", "deepseek", "deepseek_v32",
                          "glm4_moe_lite", "mistral_large_3", "llama", "mixtral", "jamba"}) {
    INFO(fam);
    CHECK(families.count(fam) == 1);
  }
  // Every combination of the config fields the facts read: absent, true / false, other text.
  std::vector<std::string> bodies = {""};
  for (const char* field :
       {"attention_bias", "use_qk_norm", "use_routing_bias", "attn_output_gate"}) {
    std::vector<std::string> next;
    for (const auto& b : bodies) {
      next.push_back(b);
      next.push_back(b + ", \"" + std::string(field) + "\": true");
      next.push_back(b + ", \"" + std::string(field) + "\": false");
    }
    bodies = next;
  }
  std::vector<std::string> with_topk;
  for (const auto& b : bodies) {
    with_topk.push_back(b);
    with_topk.push_back(b + ", \"topk_method\": \"noaux_tc\"");
    with_topk.push_back(b + ", \"topk_method\": \"greedy\"");
  }
  Diagnostics diags;
  int compared = 0;
  for (const auto& body : with_topk) {
    auto config =
        parse_hf_config(make_source("config.json", "{\"model_type\": \"x\"" + body + "}"), diags);
    REQUIRE(config.has_value());
    for (const auto& decl : builtin.decls()) {
      INFO(decl.family << " on {" << body << "}");
      OldFacts want = old_facts(decl.family, *config);
      const WeightFacts& w = decl.weights;
      CHECK(weight_fact_holds(w.o_bias, *config) == want.o_bias);
      CHECK(weight_fact_holds(w.qk_norm, *config) == want.qk_norm);
      CHECK(weight_fact_holds(w.qk_norm_full, *config) == want.qk_norm_full);
      CHECK(weight_fact_holds(w.gated_q, *config) == want.gated_q);
      CHECK(weight_fact_holds(w.sinks, *config) == want.sinks);
      CHECK(weight_fact_holds(w.gated_mlp, *config) == want.gated_mlp);
      CHECK(weight_fact_holds(w.router_bias, *config) == want.router_bias);
      CHECK(weight_fact_holds(w.expert_bias, *config) == want.expert_bias);
      CHECK(weight_fact_holds(w.score_bias, *config) == want.score_bias);
      CHECK(weight_fact_holds(w.shared_expert_gate, *config) == want.shared_expert_gate);
      ++compared;
    }
  }
  CHECK(compared == static_cast<int>(with_topk.size() * builtin.decls().size()));
}

// The built-in declaration files with every `family: NAME` renamed to `family: renamed_NAME`,
// written to a fresh folder; `edit` may change the text further.
std::vector<std::string> renamed_arch_files(const fs::path& dir,
                                            std::string (*edit)(std::string) = nullptr) {
  fs::create_directories(dir);
  std::vector<std::string> paths;
  const std::regex family(R"((^|\n)(\s*-?\s*)family:\s*(\w+))");
  for (const auto& [name, text] : builtin_architecture_files()) {
    std::string renamed = std::regex_replace(text, family, "$1$2family: renamed_$3");
    REQUIRE(renamed != text);
    if (edit != nullptr) renamed = edit(renamed);
    fs::path path = dir / name;
    std::ofstream(path, std::ios::binary) << renamed;
    paths.push_back(path.string());
  }
  return paths;
}

fs::path scratch_dir(const std::string& tag) {
  return fs::temp_directory_path() /
         ("layerplan_family_facts_" + tag + "_" + std::to_string(::getpid()));
}

std::vector<fs::path> model_configs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(LAYERPLAN_SOURCE_DIR) / "fixtures/models")) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  fs::path shared = fs::path(LAYERPLAN_SHARED_DIR) / "hf-configs";
  if (fs::is_directory(shared)) {
    for (const auto& e : fs::recursive_directory_iterator(shared)) {
      if (e.path().extension() == ".json") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Everything the memory plan says, as one comparable string.
std::string memory_summary(const Compilation& c) {
  if (!c.memory) return "no memory plan";
  std::string s = "params " + std::to_string(c.memory->params_total);
  for (const auto& st : c.memory->stages) {
    s += " | stage " + std::to_string(st.stage) + ": " + std::to_string(st.weight_bytes) + " " +
         std::to_string(st.kv_bytes_per_token) + " " +
         std::to_string(st.sliding_kv_bytes_per_token) + " " +
         std::to_string(st.state_bytes_per_seq);
  }
  for (const auto& l : c.memory->layers) {
    s += " " + std::to_string(l.params) + "/" + std::to_string(l.weight_bytes) + "/" +
         std::to_string(l.kv_bytes_per_token);
  }
  return s;
}

std::string verdicts(const Compilation& c) {
  std::string s;
  for (const auto& d : c.diags.all()) {
    s += d.code + "@" + d.location.to_string() + " ";
  }
  return s;
}

const std::vector<std::string> kFamilyFactAxes = {"    tp: 1\n", "    tp: 8\n", "    tp: 16\n",
                                                  "    tp: 2\n    pp: 2\n",
                                                  "    tp: 8\n    dp: 16\n    ep: 128\n"};

std::string rules_for(const std::string& axes) {
  return "parallelism_rules:\n  axes:\n" + axes + "  rules: []\n";
}

TEST_CASE("an --arch-file copy under other family names: same memory, same verdicts") {
  fs::path dir = scratch_dir("renamed");
  std::vector<std::string> files = renamed_arch_files(dir);
  CheckOptions options;
  options.allow_unverified = true;
  int models = 0, with_memory = 0, with_errors = 0;
  for (const auto& path : model_configs()) {
    std::string config = test::read_file(path.string());
    for (const auto& axes : kFamilyFactAxes) {
      INFO(path.string() << " at {" << axes << "}");
      auto builtin = test::compile_with_arch(config, rules_for(axes), {}, options);
      auto renamed = test::compile_with_arch(config, rules_for(axes), files, options);
      if (!builtin->model) {
        CHECK_FALSE(renamed->model.has_value());
        continue;
      }
      REQUIRE(renamed->model.has_value());
      // The copy answered, not the built-in declaration.
      CHECK(renamed->model->family == "renamed_" + builtin->model->family);
      CHECK(verdicts(*renamed) == verdicts(*builtin));
      CHECK(memory_summary(*renamed) == memory_summary(*builtin));
      with_memory += builtin->memory ? 1 : 0;
      with_errors += builtin->diags.has_errors() ? 1 : 0;
    }
    ++models;
  }
  // The comparison covered plans that check clean and plans that fail (tp-exceeds-experts,
  // mlp-divides-world, ...).
  CHECK(models >= 10);
  CHECK(with_memory >= 10);
  CHECK(with_errors >= 5);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

std::string without_sinks(std::string text) {
  auto at = text.find("  sinks: true\n");
  bool gpt_oss = text.find("family: renamed_gpt_oss") != std::string::npos;
  REQUIRE((at != std::string::npos) == gpt_oss);
  if (at != std::string::npos) text.replace(at, 14, "  sinks: false\n");
  return text;
}

TEST_CASE("the comparison sees a weight fact: a copy without gpt-oss's sinks weighs less") {
  fs::path dir = scratch_dir("nosinks");
  std::vector<std::string> files = renamed_arch_files(dir, without_sinks);
  std::string config = test::fixture("fixtures/models/gpt_oss_120b.json");
  CheckOptions options;
  options.allow_unverified = true;
  auto builtin = test::compile_with_arch(config, rules_for("    tp: 8\n"), {}, options);
  auto edited = test::compile_with_arch(config, rules_for("    tp: 8\n"), files, options);
  REQUIRE(builtin->memory.has_value());
  REQUIRE(edited->memory.has_value());
  // OAIAttention.sinks: num_attention_heads / tp bf16 values per attention layer on a rank.
  const Layer& attention = *test::layer_at(*builtin, "model.layers.0.attn").layer;
  std::int64_t per_layer = attention.num_heads.value / 8 * 2;
  std::int64_t layers = builtin->model->num_hidden_layers;
  CHECK(builtin->memory->stages.at(0).weight_bytes - edited->memory->stages.at(0).weight_bytes ==
        per_layer * layers);
  CHECK(builtin->memory->params_total - edited->memory->params_total ==
        attention.num_heads.value * layers);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace layerplan
