// `layerplan layers A.json B.json DIR ...`: many configs in one run (issue 13).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::Result;
using layerplan::test::scratch;
using layerplan::test::slurp;
using layerplan::test::spit;

namespace fs = std::filesystem;

const std::string kModels = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/";

// A folder with two good configs (in a nested folder too) and one naming an unknown class.
std::string make_config_folder(const std::string& name) {
  std::string dir = scratch() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir + "/nested");
  fs::create_directories(dir + "/.hidden");
  fs::copy_file(kModels + "llama3_8b.json", dir + "/a_llama.json");
  fs::copy_file(kModels + "deepseek_v3.json", dir + "/nested/b_deepseek.json");
  spit(dir + "/b_bad.json", R"({"architectures": ["NoSuchForCausalLM"], "model_type": "nosuch"})");
  spit(dir + "/.hidden/skipped.json", "not json");
  spit(dir + "/notes.txt", "not a config");
  return dir;
}

// What `layers --config PATH` prints alone.
std::string single_table(const std::string& path) {
  Result r = layerplan::test::run({"layers", "--config", path});
  REQUIRE(r.code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("layers lists several configs, each as it would alone, under a header") {
  Result r =
      layerplan::test::run({"layers", kModels + "llama3_8b.json", kModels + "deepseek_v3.json"});
  CHECK(r.code == 0);
  CHECK(r.out == "== " + kModels + "llama3_8b.json ==\n" +
                     single_table(kModels + "llama3_8b.json") + "\n== " + kModels +
                     "deepseek_v3.json ==\n" + single_table(kModels + "deepseek_v3.json"));
  CHECK(r.err.empty());
}

TEST_CASE(
    "layers over a folder: every *.json below it, sorted; a bad one is reported, the others "
    "listed") {
  std::string dir = make_config_folder("batch");
  Result r = layerplan::test::run({"layers", dir});
  CHECK(r.code == 1);  // one config does not expand
  auto a = r.out.find("== " + dir + "/a_llama.json ==\n");
  auto bad = r.out.find("== " + dir + "/b_bad.json ==\n");
  auto b = r.out.find("== " + dir + "/nested/b_deepseek.json ==\n");
  REQUIRE(a != std::string::npos);
  REQUIRE(bad != std::string::npos);
  REQUIRE(b != std::string::npos);
  CHECK(a < bad);
  CHECK(bad < b);
  CHECK(contains(r.out, "no layer table: " + dir + "/b_bad.json does not expand"));
  CHECK(contains(r.out, "model.layers.{0-31}.self_attn"));  // llama
  CHECK(contains(r.out, "model.layers.{3-60}.mlp"));        // deepseek, after the bad one
  CHECK(contains(
      r.err, "architecture 'NoSuchForCausalLM' (model_type 'nosuch') is not one layerplan knows"));
  CHECK_FALSE(contains(r.out + r.err, "skipped.json"));  // hidden folders are skipped
  CHECK_FALSE(contains(r.out + r.err, "notes.txt"));
}

TEST_CASE("layers --emit json: one array, an object per config with its path") {
  std::string dir = make_config_folder("batch_json");
  Result r = layerplan::test::run({"layers", "--emit", "json", dir, kModels + "missing.json"});
  CHECK(r.code == 2);  // the missing file cannot be read: the worst exit code of all
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 4);
  CHECK(j[0]["path"] == dir + "/a_llama.json");
  CHECK(j[0]["valid"] == true);
  CHECK(j[0]["architecture"] == "LlamaForCausalLM");
  CHECK(j[0]["layers"].size() == 66);
  CHECK(j[1]["path"] == dir + "/b_bad.json");
  CHECK(j[1]["valid"] == false);
  CHECK(j[1]["diagnostics"][0]["code"] == "arch-unknown");
  CHECK_FALSE(j[1].contains("layers"));
  CHECK(j[2]["path"] == dir + "/nested/b_deepseek.json");
  CHECK(j[2]["valid"] == true);
  CHECK(j[2]["architecture"] == "DeepseekV3ForCausalLM");
  CHECK(j[3]["valid"] == false);
  CHECK(j[3]["diagnostics"][0]["code"] == "input-unreadable");
  // Each entry's layers are what `layers --config PATH --emit json` gives.
  Result one = layerplan::test::run(
      {"layers", "--emit", "json", "--config", dir + "/nested/b_deepseek.json"});
  REQUIRE(one.code == 0);
  CHECK(nlohmann::json::parse(one.out)["layers"] == j[2]["layers"]);
}

TEST_CASE(
    "layers: --config joins the batch; a folder holding config.json is one config; no input is a "
    "usage error") {
  std::string dir = scratch() + "/hf_model";
  fs::create_directories(dir);
  fs::copy_file(kModels + "llama3_8b.json", dir + "/config.json",
                fs::copy_options::overwrite_existing);
  fs::copy_file(kModels + "deepseek_v3.json", dir + "/other.json",
                fs::copy_options::overwrite_existing);
  Result r = layerplan::test::run({"layers", "--config", kModels + "deepseek_v3.json", dir});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "== " + kModels + "deepseek_v3.json ==\n"));
  CHECK(contains(r.out, "== " + dir + " ==\n"));
  CHECK_FALSE(contains(r.out, "other.json"));
  Result none = layerplan::test::run({"layers"});
  CHECK(none.code == 2);
  CHECK(contains(none.err, "give --config FILE, or config files and folders"));
  std::string empty = scratch() + "/empty_folder";
  fs::create_directories(empty);
  Result nothing = layerplan::test::run({"layers", empty});
  CHECK(nothing.code == 2);
  CHECK(contains(nothing.err, "no *.json files under " + empty));
}
