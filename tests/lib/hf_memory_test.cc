// Memory and suggestions on the real configs of ../shared/hf-configs: the model cards' parameter
// counts and checkpoint sizes (within 0.5 %), and every suggestion of `layerplan suggest` fed back
// through compile() checks clean. Skips, saying so, where ../shared is absent.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>

#include "arch_test_util.h"
#include "catch.h"
#include "lib/suggest.h"

namespace layerplan {
namespace {

using test::compile_text;

std::string axes(const std::string& body) {
  return "parallelism_rules:\n  axes:\n" + body + "  rules: []\n";
}

bool within(double value, double published, double tolerance = 0.005) {
  return std::fabs(value - published) <= tolerance * published;
}

// Published figures of the real checkpoints, read from ../shared/hf-configs.
struct Published {
  const char* file;
  double params;        // model card parameter count (all weights in the checkpoint)
  double weight_bytes;  // checkpoint size in bytes where the card gives one, else 0
};

TEST_CASE("real configs: parameter counts and checkpoint sizes of the model cards, within 0.5 %") {
  std::filesystem::path dir = std::filesystem::path(LAYERPLAN_SHARED_DIR) / "hf-configs";
  if (!std::filesystem::is_directory(dir)) {
    std::cout << "SKIPPED: " << dir.string()
              << " is absent; published parameter counts not checked\n";
    WARN("SKIPPED: " << dir.string() << " is absent");
    return;
  }
  const Published kCards[] = {
      {"llama3/Meta-Llama-3.1-8B.json", 8030261248.0, 0},
      {"llama3/Meta-Llama-3.1-70B.json", 70.6e9, 0},
      {"llama3/Meta-Llama-3.1-405B.json", 405.9e9, 0},
      {"deepseek/DeepSeek-V3.json", 685e9, 0},  // 671 B main + 14 B MTP
      {"qwen3-moe/Qwen3-235B-A22B.json", 235.1e9, 0},
      {"qwen3/Qwen3-8B.json", 8.2e9, 0},
      {"mistral/Mixtral-8x7B-v0.1.json", 46.7e9, 0},
      // gpt-oss model card: 116.83 B parameters, 60.8 GiB checkpoint (MXFP4 experts).
      {"gpt-oss/gpt-oss-120b.json", 116.83e9, 60.8 * 1073741824.0},
      {"gpt-oss/gpt-oss-20b.json", 20.91e9, 12.8 * 1073741824.0},
      {"nemotron-h/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json", 31.6e9, 0},
  };
  for (const auto& card : kCards) {
    SECTION(card.file) {
      auto c = compile_text(test::read_file((dir / card.file).string()), axes("    tp: 1\n"));
      for (const auto& d : c->diags.all()) INFO(d.code << ": " << d.message);
      REQUIRE(c->memory.has_value());
      INFO("params " << c->memory->params_total << " bytes "
                     << c->memory->stages.at(0).weight_bytes);
      CHECK(within(static_cast<double>(c->memory->params_total), card.params));
      if (card.weight_bytes > 0) {
        CHECK(within(static_cast<double>(c->memory->stages.at(0).weight_bytes), card.weight_bytes));
      }
      CHECK_FALSE(test::has_code(*c, "quant-unknown"));
    }
  }
}

}  // namespace
}  // namespace layerplan

namespace layerplan {
namespace {

// Feeds a suggestion's rules back through compile(): no error, and the warnings it listed.
void check_feedback(const std::string& config, const Suggestion& s) {
  CompileRequest request;
  request.config_path = config;
  request.rules_path = "suggested.yaml";
  request.rules = make_source("suggested.yaml", s.rules_yaml);
  auto c = compile(request);
  INFO(config << "\n" << s.rules_yaml);
  for (const auto& d : c->diags.all()) INFO(d.code << ": " << d.message);
  REQUIRE_FALSE(c->diags.has_errors());
  REQUIRE(c->layout.has_value());
  std::vector<std::string> warnings;
  for (const auto& d : c->diags.all()) {
    if (d.severity == Severity::kWarning) warnings.push_back(d.code);
  }
  CHECK(warnings == s.warnings);
  CHECK(c->axes.world_size == s.tp * s.pp * s.dp * s.pcp);
}

}  // namespace

// The sanitizer build (scripts/ci-sanitize.sh) runs the same code paths at 8 GPUs only: each
// suggestion is compiled again there at -O0 under ASan and UBSan, 70 s for the three counts on
// 2 cores. The optimised build feeds back all three.
#ifdef LAYERPLAN_SANITIZED_BUILD
constexpr std::int64_t kSuggestGpuCounts[] = {8};
#else
constexpr std::int64_t kSuggestGpuCounts[] = {1, 8, 16};
#endif

TEST_CASE(
    "suggest: every suggestion for every real config at 1, 8 and 16 GPUs checks clean when fed "
    "back") {
  std::filesystem::path dir = std::filesystem::path(LAYERPLAN_SHARED_DIR) / "hf-configs";
  if (!std::filesystem::is_directory(dir)) {
    std::cout << "SKIPPED: " << dir.string()
              << " is absent; suggestions on real configs not checked\n";
    WARN("SKIPPED: " << dir.string() << " is absent");
    return;
  }
  std::int64_t fed_back = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    for (std::int64_t gpus : kSuggestGpuCounts) {
      SuggestRequest r;
      r.config_path = entry.path().string();
      r.gpus = gpus;
      r.fit = FitRequest{};
      r.fit->gpu_memory = std::int64_t{141} << 30;
      SuggestResult result = suggest(r);
      INFO(r.config_path << " on " << gpus << " GPUs");
      CHECK_FALSE(result.diags.has_errors());
      CHECK(result.valid <= result.candidates);
      for (const auto& s : result.suggestions) {
        REQUIRE(s.fit.has_value());
        CHECK(s.fit->fits);
        check_feedback(r.config_path, s);
        ++fed_back;
      }
    }
  }
  CHECK(fed_back > 200 * static_cast<std::int64_t>(std::size(kSuggestGpuCounts)));
}

}  // namespace layerplan
