// Replays every input a fuzz target once crashed on (fixtures/fuzz-regressions/TARGET/*) through
// the same body the fuzzer runs (fuzz/targets.h, fuzz/surfaces.h): none may throw, whatever it
// reports.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.h"
#include "fuzz/surfaces.h"
#include "test_util.h"

namespace layerplan {
namespace {

std::vector<std::string> inputs_of(const std::string& target) {
  std::vector<std::string> names;
  std::filesystem::path dir =
      std::filesystem::path(LAYERPLAN_SOURCE_DIR) / "fixtures/fuzz-regressions" / target;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename() != "README.md") {
      names.push_back("fixtures/fuzz-regressions/" + target + "/" +
                      entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void replay(const std::string& target, void (*body)(std::string_view)) {
  auto names = inputs_of(target);
  for (const auto& name : names) {
    INFO(name);
    std::string input = test::fixture(name);
    CHECK_NOTHROW(body(input));
  }
}

TEST_CASE("fuzz regressions: config reader and layer expansion") {
  replay("config", fuzz::run_config);
}

TEST_CASE("fuzz regressions: rules reader") { replay("rules", fuzz::run_rules); }

TEST_CASE("fuzz regressions: check and compile pipeline") {
  replay("pipeline", fuzz::run_pipeline);
}

TEST_CASE("fuzz regressions: vLLM launch line") { replay("vllm_args", fuzz::run_vllm_args); }

TEST_CASE("fuzz regressions: smoke's and the report's manifest readers") {
  replay("manifest", fuzz::run_manifest);
}

TEST_CASE("fuzz regressions: a manifest claiming a huge world costs what its bytes cost") {
  // Before the fix each of these took minutes (a world-sized array per group set).
  for (const char* name : {"tiny-sets-of-a-2-24-world", "tiny-sets-of-a-2-20-world-smoke"}) {
    INFO(name);
    std::string input = test::fixture(std::string("fixtures/fuzz-regressions/manifest/") + name);
    auto start = std::chrono::steady_clock::now();
    CHECK_NOTHROW(fuzz::run_manifest(input));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  }
}

TEST_CASE("fuzz regressions: check's output formats") { replay("outputs", fuzz::run_outputs); }

TEST_CASE("fuzz regressions: HuggingFace cache resolver") {
  replay("resolver", fuzz::run_resolver);
}

TEST_CASE("fuzz regressions: layerplan diff") { replay("diff", fuzz::run_diff); }

// The diff target's invariants (a diff iff no error; text, markdown and JSON render; the JSON
// verdict is the diff's; a manifest is the same plan as itself) on the golden manifests, two by
// two, and on a pair with a broken side.
TEST_CASE("the diff target's invariants hold on the golden manifests") {
  std::vector<std::string> goldens;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(LAYERPLAN_SOURCE_DIR) / "fixtures/golden")) {
    if (entry.path().extension() == ".json") {
      goldens.push_back("fixtures/golden/" + entry.path().filename().string());
    }
  }
  std::sort(goldens.begin(), goldens.end());
  REQUIRE(goldens.size() >= 2);
  const std::string sep(fuzz::kSeparator);
  for (std::size_t i = 0; i < goldens.size(); ++i) {
    const std::string a = test::fixture(goldens[i]);
    const std::string b = test::fixture(goldens[(i + 1) % goldens.size()]);
    INFO(goldens[i]);
    CHECK_NOTHROW(fuzz::run_diff(a + sep + b));
    CHECK_NOTHROW(fuzz::run_diff(a));
  }
  CHECK_NOTHROW(fuzz::run_diff(test::fixture(goldens[0]) + sep + "{\"world_size\": \"x\"}"));
}

TEST_CASE("fuzz regressions are there to replay") {
  std::size_t total = 0;
  for (const char* target :
       {"config", "rules", "pipeline", "vllm_args", "manifest", "diff", "outputs", "resolver"}) {
    total += inputs_of(target).size();
  }
  CHECK(total > 0);
}

}  // namespace
}  // namespace layerplan
