// Every fixture manifest under fixtures/manifests: good_* read cleanly and match vLLM's layout;
// bad_* carry "_expect": {"exit": 2|3, "message": ...} and must produce exactly that outcome
// from the manifest alone (exit 2: a shape problem; exit 3: a membership finding).
#include <filesystem>
#include <fstream>

#include "catch.h"
#include "smoke/expected_groups.h"
#include "smoke/manifest_view.h"

namespace layerplan::smoke {
namespace {

namespace fs = std::filesystem;

TEST_CASE("fixture manifests meet their inline expectations", "[smoke]") {
  const fs::path dir = fs::path(LAYERPLAN_SOURCE_DIR) / "fixtures" / "manifests";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const bool good = name.rfind("good_", 0) == 0;
    const bool bad = name.rfind("bad_", 0) == 0;
    if (!good && !bad) continue;
    ++seen;
    INFO(name);
    std::ifstream file(entry.path());
    const auto j = nlohmann::ordered_json::parse(file);
    std::vector<Problem> problems;
    auto view = read_manifest(j, problems);
    std::vector<std::string> messages;
    for (const auto& p : problems) messages.push_back(render_problem(p));
    int exit_code = problems.empty() ? 0 : 2;
    if (view) {
      for (const auto& set : view->sets) {
        auto findings = check_set_sizes(*view, set);
        for (auto& f : compare_with_derivation(set, derive_vllm_groups(*view, set.name))) {
          findings.push_back(f);
        }
        for (const auto& f : findings) messages.push_back(f.message);
        if (!findings.empty()) exit_code = 3;
      }
    }
    if (good) {
      CHECK(messages.empty());
      CHECK(exit_code == 0);
      CHECK_FALSE(j.contains("_expect"));
      continue;
    }
    REQUIRE(j.contains("_expect"));
    CHECK(exit_code == j["_expect"]["exit"].get<int>());
    const auto want = j["_expect"]["message"].get<std::string>();
    bool found = false;
    for (const auto& m : messages) found = found || m.find(want) != std::string::npos;
    CAPTURE(messages);
    CHECK(found);
  }
  CHECK(seen >= 10);
}

// `compile --group-lists none` leaves the lists out: the view expanded from the compact
// group_layout is the one read from the lists, set by set and group by group.
TEST_CASE("a golden manifest reads the same without its group lists", "[smoke]") {
  const fs::path dir = fs::path(LAYERPLAN_SOURCE_DIR) / "fixtures" / "golden";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    INFO(entry.path().filename().string());
    std::ifstream file(entry.path());
    const auto listed = nlohmann::ordered_json::parse(file);
    REQUIRE(listed.contains("group_layout"));
    auto compact = listed;
    compact.erase("groups");
    std::vector<Problem> problems;
    auto a = read_manifest(listed, problems);
    auto b = read_manifest(compact, problems);
    std::string messages;
    for (const auto& p : problems) messages += render_problem(p) + "\n";
    INFO(messages);
    REQUIRE(problems.empty());
    REQUIRE(a->sets.size() == b->sets.size());
    for (std::size_t s = 0; s < a->sets.size(); ++s) {
      CHECK(a->sets[s].name == b->sets[s].name);
      CHECK(a->sets[s].groups == b->sets[s].groups);
    }
    CHECK(a->comms.size() == b->comms.size());
  }
  CHECK(seen >= 5);
}

TEST_CASE("a compact group layout that walks past the world is a shape problem", "[smoke]") {
  auto j = nlohmann::ordered_json::parse(R"({
    "world_size": 4,
    "axes": {"tp": 4, "attn_tp": 4, "dcp": 1, "pcp": 1, "pp": 1, "dp": 1},
    "group_layout": {"tp": {"group_size": 4, "groups": 1,
                            "steps": [{"axes": ["tp"], "sizes": [4], "strides": [2]}]}},
    "layers": [], "pipeline": {"stages": [], "comms": []}
  })");
  std::vector<Problem> problems;
  CHECK_FALSE(read_manifest(j, problems));
  bool found = false;
  for (const auto& p : problems) {
    found = found || (p.where == "/group_layout/tp/steps/0" &&
                      p.message.find("walks past the 4 entries") != std::string::npos);
  }
  CHECK(found);
}

}  // namespace
}  // namespace layerplan::smoke
