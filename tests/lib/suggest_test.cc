// lib/suggest.cc: the enumeration, the same checks as compile(), and feeding suggestions back.
#include "lib/suggest.h"

#include <string>

#include "catch.h"
#include "test_util.h"

namespace layerplan {
namespace {

std::string model(const char* name) {
  return std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/" + name;
}

void check_feedback(const std::string& config, const Suggestion& s) {
  CompileRequest request;
  request.config_path = config;
  request.rules_path = "suggested.yaml";
  request.rules = make_source("suggested.yaml", s.rules_yaml);
  auto c = compile(request);
  INFO(s.rules_yaml);
  for (const auto& d : c->diags.all()) INFO(d.code << ": " << d.message);
  REQUIRE_FALSE(c->diags.has_errors());
  CHECK(c->layout.has_value());
  CHECK(c->axes.tp == s.tp);
  CHECK(c->axes.attn_tp == s.attn_tp);
  CHECK(c->axes.dcp == s.dcp);
  CHECK(c->axes.dp == s.dp);
}

TEST_CASE(
    "suggest enumerates tp*pp*pcp*dp = N with vLLM's dcp choices and the RFC's attention TP") {
  SuggestRequest r;
  r.config_path = model("llama3_8b.json");
  r.gpus = 1;
  CHECK(suggest(r).candidates == 1);
  // 2 GPUs: tp 2 (dcp 1, dcp 2, attn_tp 1 with dcp 2), pp 2, pcp 2 (dcp 1 or 2), dp 2.
  r.gpus = 2;
  SuggestResult two = suggest(r);
  CHECK(two.candidates == 7);
  r.per_layer = false;
  CHECK(suggest(r).candidates == 6);
  // Llama is GQA: vLLM refuses pcp on it (pcp-needs-mla, 2 layouts) and DCP at full TP needs
  // tp > 8 KV heads (dcp-gqa-kv-heads): tp 2, the RFC's attn_tp 1 + dcp 2, pp 2 and dp 2 remain.
  CHECK(two.valid == 4);
}

TEST_CASE(
    "every suggestion for Llama-3.1-8B on 8 GPUs and DeepSeek-V3 on 16 checks clean fed back") {
  for (const char* name : {"llama3_8b.json", "deepseek_v3.json"}) {
    SuggestRequest r;
    r.config_path = model(name);
    r.gpus = std::string(name) == "llama3_8b.json" ? 8 : 16;
    r.fit = FitRequest{};
    r.fit->gpu_memory = std::int64_t{141} << 30;
    SuggestResult result = suggest(r);
    INFO(name);
    REQUIRE_FALSE(result.suggestions.empty());
    for (const auto& s : result.suggestions) {
      CHECK(s.fit->fits);
      check_feedback(r.config_path, s);
    }
    // Ranked: clean layouts before those with warnings; among clean ones, cross-node bytes rise.
    for (std::size_t i = 1; i < result.suggestions.size(); ++i) {
      const auto& a = result.suggestions[i - 1];
      const auto& b = result.suggestions[i];
      CHECK((a.warnings.empty() || !b.warnings.empty()));
      if (a.warnings.empty() == b.warnings.empty()) {
        CHECK(a.cross_node_bytes_per_token <= b.cross_node_bytes_per_token);
      }
    }
  }
}

TEST_CASE("a suggestion's rules file and vLLM flags") {
  Suggestion s;
  s.tp = 8;
  s.attn_tp = 4;
  s.dcp = 2;
  s.dp = 2;
  s.ep = true;
  s.needs_pr = true;
  std::string yaml = suggestion_rules(s, 16);
  CHECK(yaml.find("world_size: 16") != std::string::npos);
  CHECK(yaml.find("attn_tp: 4") != std::string::npos);
  CHECK(yaml.find("ep: 16") != std::string::npos);
  CHECK(yaml.find("plan: { tp_size: attn_tp, dcp_size: dcp }") != std::string::npos);
}

TEST_CASE("suggest reports an unreadable config as diagnostics, not suggestions") {
  SuggestRequest r;
  r.config_path = model("no_such_model.json");
  r.gpus = 8;
  SuggestResult result = suggest(r);
  CHECK(result.diags.has_errors());
  CHECK(result.suggestions.empty());
  CHECK(result.candidates == 0);
}

}  // namespace
}  // namespace layerplan
