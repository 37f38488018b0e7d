// Hostile inputs, end to end: every class of bad input gives a clear message and a non-zero exit,
// never a crash, a hang or a half-written output file. Each case runs the binary under
// `timeout`, so a hang fails the test instead of stalling it.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "catch.h"
#include "run_binary.h"

namespace {

namespace fs = std::filesystem;

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::names_in;
using layerplan::test::quote;
using layerplan::test::Result;
using layerplan::test::run;
using layerplan::test::scratch;
using layerplan::test::slurp;
using layerplan::test::spit;

const std::string kLlama8 = "fixtures/models/llama3_8b.json";
const std::string kGoodRules = "fixtures/rules/good_tp2_pp2.yaml";

Result check(const std::string& config, const std::string& rules) {
  return run({"check", "--config", config, "--rules", rules});
}

// `check` with a config.json given as text.
Result check_config(const std::string& json) {
  std::string path = in_scratch("config.json");
  spit(path, json);
  return check(path, kGoodRules);
}

// `check` with a rules file given as text, on Llama 3 8B.
Result check_rules(const std::string& yaml) {
  std::string path = in_scratch("rules.yaml");
  spit(path, yaml);
  return check(kLlama8, path);
}

std::string llama8_with(const std::string& key, const std::string& value) {
  auto j = nlohmann::json::parse(slurp(std::string(LAYERPLAN_SOURCE_DIR) + "/" + kLlama8));
  std::string text = j.dump();
  std::string needle = "\"" + key + "\":";
  std::size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  std::size_t begin = at + needle.size();
  std::size_t end = text.find_first_of(",}", begin);
  return text.substr(0, begin) + value + text.substr(end);
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A clean failure: the expected exit code, the message, and nothing that looks like a crash.
void expect_failure(const Result& r, int code, const std::string& message) {
  INFO("exit " << r.code << "\n" << r.all().substr(0, 2000));
  CHECK(r.code == code);
  CHECK(contains(r.all(), message));
  CHECK_FALSE(contains(r.all(), "internal error"));
  CHECK_FALSE(contains(r.all(), "Sanitizer"));
  CHECK_FALSE(contains(r.all(), "runtime error"));
}

// ---------------------------------------------------------------------------------------------
// Files that are not files

TEST_CASE("hostile: a missing, directory, FIFO or device input is refused with exit 2") {
  std::string fifo = in_scratch("fifo.json");
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string empty_dir = in_scratch("empty_dir");
  fs::create_directories(empty_dir);

  expect_failure(check("no/such/config.json", kGoodRules), 2, "No such file or directory");
  expect_failure(check(empty_dir, kGoodRules), 2, "holds no config.json");
  expect_failure(check(fifo, kGoodRules), 2, "not a regular file");
  expect_failure(check("/dev/zero", kGoodRules), 2, "not a regular file");
  expect_failure(check(kLlama8, "no/such/rules.yaml"), 2, "No such file or directory");
  expect_failure(check(kLlama8, empty_dir), 2, "it is a directory");
  expect_failure(check(kLlama8, fifo), 2, "not a regular file");
  // --arch-file takes the same road.
  for (const std::string& arch : {std::string("no/such/arch.yaml"), empty_dir, fifo}) {
    Result r = run({"check", "--config", kLlama8, "--rules", kGoodRules, "--arch-file", arch});
    expect_failure(r, 2, "cannot read '" + arch + "'");
  }
}

TEST_CASE("hostile: an input over the size limit is refused before it is read") {
  std::string big = in_scratch("big.json");
  { std::ofstream(big, std::ios::binary).put(' '); }
  fs::resize_file(big, (16u << 20) + 1);  // sparse: costs no disk
  expect_failure(check(big, kGoodRules), 2, "more than the limit of 16777216 bytes");
  expect_failure(check(kLlama8, big), 2, "more than the limit of 16777216 bytes");
}

// ---------------------------------------------------------------------------------------------
// config.json

TEST_CASE("hostile: absurd sizes in config.json are refused") {
  expect_failure(check_config(llama8_with("num_hidden_layers", "1000000000")), 1,
                 "num_hidden_layers must be an integer in [1, 10000], got 1000000000");
  expect_failure(check_config(llama8_with("num_attention_heads", "0")), 1,
                 "num_attention_heads must be an integer in [1, 67108864], got 0");
  expect_failure(check_config(llama8_with("num_attention_heads", "NaN")), 1, "got NaN");
  expect_failure(check_config(llama8_with("num_attention_heads", "-Infinity")), 1, "got -Infinity");
  expect_failure(check_config(llama8_with("num_attention_heads", "[32]")), 1, "got a list");
  expect_failure(check_config(llama8_with("num_attention_heads", "{}")), 1, "got an object");
  expect_failure(check_config(llama8_with("num_attention_heads", "\"32\"")), 1,
                 "got the string \"32\"");
  expect_failure(check_config(llama8_with("hidden_size", "9223372036854775808")), 1,
                 "[config-invalid-field]");
  expect_failure(check_config(llama8_with("hidden_size", "1e400")), 1, "got Infinity");
  expect_failure(check_config(llama8_with("hidden_size", "134217728")), 1,
                 "hidden_size must be an integer in [1, 67108864]");
  expect_failure(check_config(llama8_with("vocab_size", "-1")), 1, "got -1");
}

TEST_CASE("hostile: a list or a scalar where config.json needs an object is refused") {
  expect_failure(check_config("[1, 2, 3]"), 1, "must hold a JSON object at the top level");
  expect_failure(check_config("\"LlamaForCausalLM\""), 1, "must hold a JSON object");
  expect_failure(check_config("{\"architectures\": {\"a\": 1}, \"model_type\": \"llama\"}"), 1,
                 "architectures must be a list of class names");
  expect_failure(check_config("{\"text_config\": [1]}"), 1, "text_config must be an object");
}

TEST_CASE("hostile: JSON nesting, long strings, many values and long keys hit their limits") {
  expect_failure(check_config(repeat("[", 100000) + repeat("]", 100000)), 1,
                 "JSON nests deeper than 64 levels");
  expect_failure(check_config("{\"a\": \"" + std::string(2u << 20, 'x') + "\"}"), 1,
                 "a string is longer than 1048576 bytes");
  expect_failure(check_config("[" + repeat("0,", 300000) + "0]"), 1,
                 "JSON holds more than 262144 values");
  // A 1 MiB key over 100 values: 100 MiB of JSON pointers if nothing stopped it.
  expect_failure(
      check_config("{\"" + std::string(1u << 20, 'k') + "\": [" + repeat("0,", 100) + "0]}"), 1,
      "JSON keys are too long for the number of values under them");
}

TEST_CASE("hostile: invalid UTF-8 in config.json is a syntax error, not a crash") {
  expect_failure(check_config("{\"model_type\": \"\xff\xfe\"}"), 1, "invalid UTF-8 byte");
  expect_failure(check_config("{\"model_type\": \"\xed\xa0\x80\"}"), 1, "invalid UTF-8 byte");
  expect_failure(check_config("{\"model_type\": \"\xc0\xaf\"}"), 1, "invalid UTF-8 byte");
  expect_failure(check_config("{\"model_type\": \"\\ud800\"}"), 1, "unpaired UTF-16 surrogate");
}

// ---------------------------------------------------------------------------------------------
// rules.yaml

TEST_CASE("hostile: deep YAML nesting stops at the limit, flow or block, without overflowing") {
  expect_failure(check_rules("parallelism_rules: " + repeat("[", 100000) + repeat("]", 100000)), 1,
                 "nests deeper than 32 levels [yaml-limit]");
  expect_failure(check_rules("parallelism_rules:\n  " + repeat("- ", 100000) + "1\n"), 1,
                 "nests deeper than 32 levels [yaml-limit]");
  std::string indented = "parallelism_rules:\n";
  for (int i = 1; i < 3000; ++i) indented += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  expect_failure(check_rules(indented), 1, "nests deeper than 32 levels [yaml-limit]");
  expect_failure(
      check_rules("parallelism_rules: " + repeat("{a: ", 100000) + "1" + repeat("}", 100000)), 1,
      "nests deeper than 32 levels [yaml-limit]");
}

TEST_CASE("hostile: an alias bomb (billion laughs) stops at the node limit, fast") {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
            repeat("*a" + std::to_string(i - 1) + ", ", 9) + "*a" + std::to_string(i - 1) + "]\n";
  }
  yaml += "parallelism_rules: *a11\n";
  Result r = check_rules(yaml);
  expect_failure(r, 1, "expands to more than 100000 nodes");
  CHECK(r.seconds < 20);
}

TEST_CASE("hostile: non-UTF-8 YAML, NUL bytes and escapes that make no character are refused") {
  expect_failure(check_rules("parallelism_rules:\n  axes: {tp: 2}\n  rules: []\n# \xff\n"), 1,
                 "not valid UTF-8 text [yaml-syntax]");
  // UTF-16: yaml-cpp would transcode it, producing bytes nlohmann cannot serialise.
  std::string utf16;
  for (char c : std::string("parallelism_rules:\n")) (utf16 += '\0') += c;
  expect_failure(check_rules(utf16), 1, "holds a NUL byte");
  // yaml-cpp 0.7 and 0.8 refuse these escapes themselves; lib/yaml_source.cc checks every
  // scalar again in case a version does not.
  for (const char* escape : {"\\ud800", "\\udc00", "\\U00110000"}) {
    Result r =
        check_rules(std::string("parallelism_rules:\n  axes: {tp: 2}\n  rules:\n    - {name: \"") +
                    escape + "\", match: {kind: mlp}, plan: {tp_size: 1}}\n");
    expect_failure(r, 1, "[yaml-syntax]");
    CHECK((contains(r.all(), "invalid unicode") ||
           contains(r.all(), "stands for no Unicode character")));
  }
  expect_failure(
      check_rules("parallelism_rules:\n  axes: {tp: 2}\n  rules:\n"
                  "    - {name: \"\xed\xa0\x80\", match: {kind: mlp}, plan: {tp_size: 1}}\n"),
      1, "not valid UTF-8 text");
}

TEST_CASE("hostile: long keys and values, many axes and many rules hit their limits") {
  expect_failure(
      check_rules("parallelism_rules:\n  axes:\n    ? " + std::string(5000, 'a') + "\n    : 1\n"),
      1, "a value of 5000 bytes is longer than the limit of 4096 [yaml-limit]");
  expect_failure(check_rules("parallelism_rules:\n  axes: {tp: " + std::string(5000, '1') + "}\n"),
                 1, "a value of 5000 bytes is longer than the limit of 4096 [yaml-limit]");
  std::string axes;
  for (int i = 0; i < 65; ++i) axes += "a" + std::to_string(i) + ": 1, ";
  expect_failure(check_rules("parallelism_rules:\n  axes: {" + axes + "tp: 2}\n  rules: []\n"), 1,
                 "'axes' defines 66 axes, more than the limit of 64 [yaml-limit]");
  std::string rules = "parallelism_rules:\n  axes: {tp: 2}\n  rules:\n";
  for (int i = 0; i < 300; ++i) rules += "    - {match: {kind: mlp}, plan: {tp_size: 1}}\n";
  expect_failure(check_rules(rules), 1,
                 "'rules' holds 300 rules, more than the limit of 256 [yaml-limit]");
}

TEST_CASE("hostile: many layers times the most rules with the worst patterns stays fast") {
  // A fifth of the largest model (10000 decoder layers take about 2 s a pattern in a release
  // build); the cost is linear in layers x rules, so this bounds that too.
  auto j = nlohmann::json::parse(slurp(std::string(LAYERPLAN_SOURCE_DIR) + "/" + kLlama8));
  j["num_hidden_layers"] = 2000;
  std::string config = in_scratch("llama_2000_layers.json");
  spit(config, j.dump());
  // The longest patterns allowed, all stars or backtracking; 256 rules, each against every layer.
  for (const std::string& pattern : {std::string(256, '*'), repeat("*?", 128), repeat("*m", 128),
                                     "*" + std::string(254, '?') + "x"}) {
    std::string yaml = "parallelism_rules:\n  axes: {tp: 2}\n  rules:\n";
    for (int i = 0; i < 256; ++i) {
      yaml += "    - {match: {prefix_pattern: \"" + pattern + "\"}, plan: {tp_size: 1}}\n";
    }
    std::string rules = in_scratch("globs.yaml");
    spit(rules, yaml);
    Result r = check(config, rules);
    INFO(pattern << ": exit " << r.code << " in " << r.seconds << " s");
    CHECK((r.code == 0 || r.code == 1));
    CHECK_FALSE(contains(r.all(), "internal error"));
    CHECK(r.seconds < 30);
  }
  expect_failure(check_rules("parallelism_rules:\n  axes: {tp: 2}\n  rules:\n"
                             "    - {match: {prefix_pattern: \"" +
                             std::string(257, '*') + "\"}, plan: {tp_size: 1}}\n"),
                 1, "is malformed: it is 257 bytes long, more than the limit of 256 [bad-pattern]");
}

TEST_CASE("hostile: tens of thousands of bad keys are all reported, in linear time") {
  std::string yaml = "parallelism_rules:\n  axes: {tp: 2}\n  rules: []\n";
  for (int i = 0; i < 30000; ++i) yaml += "  key_number_" + std::to_string(i) + "_is_unknown: 1\n";
  Result r = check_rules(yaml);
  expect_failure(r, 1, "unknown key 'key_number_29999_is_unknown' in parallelism_rules");
  CHECK(contains(r.all(), "30000 errors generated."));
  CHECK(r.seconds < 30);
}

TEST_CASE("hostile: axes near 2^31 and 2^63 overflow nothing") {
  const std::string max = "9223372036854775807";
  auto rules = [](const std::string& axes) {
    return "parallelism_rules:\n  axes: {" + axes + "}\n  rules: []\n";
  };
  expect_failure(check_rules(rules("tp: " + max + ", pp: 2")), 1,
                 "overflows a 64-bit integer [world-size-limit]");
  expect_failure(check_rules(rules("tp: 2147483648, dp: 2147483648")), 1, "[world-size-limit]");
  expect_failure(check_rules(rules("tp: 2147483647, pp: 2147483647, dp: 2147483647")), 1,
                 "overflows a 64-bit integer [world-size-limit]");
  expect_failure(check_rules(rules("tp: 4611686018427387904, attn_tp: 2, dcp: " + max)), 1,
                 "more than 2^63 must equal tp");
  // A prime near 2^63: listing its divisors would take minutes.
  Result r = check_rules(rules("tp: " + max + ", dcp: 3"));
  expect_failure(r, 1, "valid dcp values for tp " + max + ": (too many to list)");
  CHECK(r.seconds < 20);
  expect_failure(check_rules(rules("tp: 8, world_size: " + max)), 1, "'world_size' is not an axis");
  std::string with_world =
      "parallelism_rules:\n  world_size: " + max + "\n  axes: {tp: 2}\n  rules: []\n";
  expect_failure(check_rules(with_world), 1, "[world-size-mismatch]");
}

TEST_CASE("hostile: per-layer sizes near 2^63 overflow nothing") {
  const std::string big = "4611686018427387904";  // 2^62
  std::string yaml =
      "parallelism_rules:\n  axes: {tp: 4, dcp: 2}\n  rules:\n"
      "    - match: {kind: attention}\n"
      "      plan: {tp_size: 2, dcp_size: " +
      big +
      "}\n"
      "    - match: {kind: mlp}\n"
      "      plan: {tp_size: " +
      big + ", ep_size: " + big + "}\n";
  Result r = check_rules(yaml);
  expect_failure(r, 1, "[dcp-size-mismatch]");
  CHECK(contains(r.all(), "= more than 2^63 must equal tp (4) on a layer narrower than tp"));
  std::string path = in_scratch("rules_big.yaml");
  spit(path, yaml);
  for (const char* layer : {"model.layers.0.self_attn", "model.layers.0.mlp", "lm_head"}) {
    Result e = run({"explain", "--config", kLlama8, "--rules", path, "--layer", std::string(layer),
                    "--emit", "json"});
    INFO(layer << ": " << e.all().substr(0, 2000));
    CHECK(e.code == 1);
    CHECK_NOTHROW(nlohmann::json::parse(e.out));
  }
}

TEST_CASE("hostile: a plan whose rank group lists would be too large is refused before writing") {
  // World 2^20 (the limit) with vLLM's six group sets, attn_tp and two tp sub-group sets.
  Result r = check_rules(
      "parallelism_rules:\n  axes: {tp: 16, attn_tp: 8, dcp: 2, dp: 65536}\n  rules:\n"
      "    - {match: {kind: mlp, layers: 0-15}, plan: {tp_size: 2}}\n"
      "    - {match: {kind: mlp, layers: 16-31}, plan: {tp_size: 4}}\n");
  expect_failure(r, 1,
                 "the rank groups of this plan would list 9437184 ranks (9 group sets over a world "
                 "of 1048576), more than layerplan lists (8388608) [world-size-limit]");
  CHECK(r.seconds < 20);
}

TEST_CASE("hostile: the same plan compiles with --group-lists none into a small file") {
  std::string rules = in_scratch("rules.yaml");
  spit(rules,
       "parallelism_rules:\n  axes: {tp: 16, attn_tp: 8, dcp: 2, dp: 65536}\n  rules:\n"
       "    - {match: {kind: mlp, layers: 0-15}, plan: {tp_size: 2}}\n"
       "    - {match: {kind: mlp, layers: 16-31}, plan: {tp_size: 4}}\n");
  std::string out = in_scratch("compact.json");
  Result r =
      run({"compile", "--config", kLlama8, "--rules", rules, "-o", out, "--group-lists", "none"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto m = nlohmann::json::parse(slurp(out));
  CHECK_FALSE(m.contains("groups"));
  REQUIRE(m.contains("group_layout"));
  CHECK(m["group_layout"].size() == 9);
  CHECK(m["group_layout"]["dp"]["groups"] == 16);
  CHECK(m["group_layout"]["dp"]["group_size"] == 65536);
  CHECK(slurp(out).size() < 1000000);
  Result bad =
      run({"compile", "--config", kLlama8, "--rules", rules, "-o", out, "--group-lists", "some"});
  CHECK(bad.code != 0);
}

// ---------------------------------------------------------------------------------------------
// Output: all or nothing

struct Snapshot {
  bool exists = false;
  std::string contents;
  std::vector<std::string> siblings;  // every name in the directory
};

Snapshot snapshot(const std::string& path) {
  Snapshot s;
  s.exists = fs::exists(path);
  if (s.exists && fs::is_regular_file(path)) s.contents = slurp(path);
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    s.siblings.push_back(e.path().filename().string());
  }
  std::sort(s.siblings.begin(), s.siblings.end());
  return s;
}

void expect_unchanged(const Snapshot& before, const std::string& path) {
  Snapshot after = snapshot(path);
  CHECK(after.exists == before.exists);
  CHECK(after.contents == before.contents);
  CHECK(after.siblings == before.siblings);  // no temporary left behind
}

Result compile_to(const std::string& output, const std::string& rules = kGoodRules) {
  return run({"compile", "--config", kLlama8, "--rules", rules, "-o", output});
}

TEST_CASE("hostile: a failed run leaves an existing output file untouched") {
  std::string dir = in_scratch("out_keep");
  fs::create_directories(dir);
  std::string out = dir + "/manifest.json";
  spit(out, "previous manifest\n");
  Snapshot before = snapshot(out);
  expect_failure(compile_to(out, "fixtures/rules/bad_tpa_invariant.yaml"), 1, "[tpa-invariant]");
  expect_unchanged(before, out);
  expect_failure(compile_to(out, "no/such/rules.yaml"), 2, "No such file");
  expect_unchanged(before, out);
}

TEST_CASE("hostile: an unwritable, vanished or non-directory output location fails cleanly") {
  std::string dir = in_scratch("out_bad");
  fs::create_directories(dir);
  std::string file = dir + "/plain_file";
  spit(file, "x");
  std::string subdir = dir + "/a_directory";
  fs::create_directories(subdir);
  Snapshot before = snapshot(file);

  expect_failure(compile_to(file + "/manifest.json"), 2, "cannot create a temporary file");
  expect_failure(compile_to(dir + "/vanished/manifest.json"), 2, "cannot create a temporary file");
  expect_failure(compile_to(subdir), 2, "it exists and is not a regular file");
  expect_failure(compile_to(dir + "/"), 2, "cannot write");
  // A directory no one may write to, even root: procfs.
  expect_failure(compile_to("/proc/layerplan-manifest.json"), 2, "cannot write");
  expect_unchanged(before, file);
  CHECK(fs::is_directory(subdir));

  if (::geteuid() != 0) {  // root ignores permission bits
    std::string ro = dir + "/read_only";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    expect_failure(compile_to(ro + "/manifest.json"), 2, "Permission denied");
    CHECK_FALSE(fs::exists(ro + "/manifest.json"));
    fs::permissions(ro, fs::perms::owner_all);
  }
}

TEST_CASE(
    "hostile: -o through a directory that is a symbolic link: followed, refused cleanly when "
    "dangling or a loop") {
  std::string root = in_scratch("out_symlink");
  fs::remove_all(root);
  fs::create_directories(root + "/real");
  spit(root + "/real/manifest.json", "previous manifest\n");

  // The directory swapped for a link to another directory: the file is written there, whole.
  fs::create_directory_symlink("real", root + "/linked");
  Result ok = compile_to(root + "/linked/manifest.json");
  INFO(ok.all());
  REQUIRE(ok.code == 0);
  CHECK_NOTHROW(nlohmann::json::parse(slurp(root + "/real/manifest.json")));
  CHECK(names_in(root + "/real") == std::vector<std::string>{"manifest.json"});

  // A link to nothing, and a link to itself.
  fs::create_directory_symlink("gone", root + "/dangling");
  expect_failure(compile_to(root + "/dangling/manifest.json"), 2, "cannot create a temporary file");
  fs::create_directory_symlink("loop", root + "/loop");
  expect_failure(compile_to(root + "/loop/manifest.json"), 2, "Too many levels of symbolic links");
  CHECK(names_in(root) == std::vector<std::string>{"dangling", "linked", "loop", "real"});
}

TEST_CASE("hostile: a successful run replaces the output whole and leaves no temporary") {
  std::string dir = in_scratch("out_ok");
  fs::create_directories(dir);
  std::string out = dir + "/manifest.json";
  spit(out, "previous manifest\n");
  Result r = compile_to(out);
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK_NOTHROW(nlohmann::json::parse(slurp(out)));
  CHECK(names_in(dir) == std::vector<std::string>{"manifest.json"});
}

TEST_CASE("hostile: a manifest that cannot be written to standard output is an error") {
  if (!fs::exists("/dev/full")) {
    WARN("no /dev/full: cannot simulate a full disk");
    return;
  }
  std::string cmd = "cd " + quote(LAYERPLAN_SOURCE_DIR) + " && " + quote(LAYERPLAN_BINARY) +
                    " compile --config " + kLlama8 + " --rules " + kGoodRules +
                    " -o - >/dev/full 2>" + quote(in_scratch("stderr"));
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(contains(slurp(in_scratch("stderr")), "cannot write the manifest to standard output"));
}

TEST_CASE("hostile: paths that are not UTF-8 still give valid JSON") {
  std::string dir = in_scratch("utf8");
  fs::create_directories(dir);
  std::string out = dir + "/manifest-\xff\xfe.json";
  Result r = compile_to(out);
  INFO(r.all());
  REQUIRE(r.code == 0);
  auto manifest = nlohmann::json::parse(slurp(out));
  CHECK(manifest["inputs"]["rules"] == kGoodRules);

  Result bad = run({"check", "--config", dir + "/missing-\xc3\x28.json", "--rules", kGoodRules,
                    "--format", "json"});
  CHECK(bad.code == 2);
  nlohmann::json diagnostics;
  REQUIRE_NOTHROW(diagnostics = nlohmann::json::parse(bad.out));
  CHECK(diagnostics["diagnostics"][0]["code"] == "input-unreadable");
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST_CASE("hostile: the same inputs give byte-identical manifests, whatever the environment") {
  std::string dir = in_scratch("determinism");
  fs::create_directories(dir);
  const std::vector<std::string> envs = {"", "LC_ALL=C.UTF-8 TZ=Asia/Kolkata",
                                         "LC_ALL=POSIX TZ=America/New_York LANG=de_DE.UTF-8"};
  for (const auto& [model, rules] : std::vector<std::pair<std::string, std::string>>{
           {"fixtures/models/deepseek_v3.json", "fixtures/rules/good_deepseek_dcp_ep.yaml"},
           {"fixtures/models/llama3_70b.json", "fixtures/rules/good_rfc_llama.yaml"}}) {
    std::vector<std::string> outputs;
    for (std::size_t i = 0; i < envs.size(); ++i) {
      std::string out = dir + "/m" + std::to_string(i) + ".json";
      Result r = run({"compile", "--config", model, "--rules", rules, "-o", out}, envs[i]);
      REQUIRE(r.code == 0);
      outputs.push_back(slurp(out));
      Result to_stdout = run({"compile", "--config", model, "--rules", rules, "-o", "-"}, envs[i]);
      CHECK(to_stdout.out == outputs.back());
    }
    for (const auto& o : outputs) CHECK(o == outputs.front());
  }
}

TEST_CASE("hostile: the manifest's bytes do not depend on the number of threads writing it") {
  // World 32,768 (every group set spans two pieces or more), and a small plan (fewer pieces
  // than threads), each written by one thread, by a few and by more than this machine may have.
  std::string big = in_scratch("threads_big.yaml");
  spit(big,
       "parallelism_rules:\n  axes: {tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 2048}\n  rules:\n"
       "    - {match: {kind: attention}, plan: {tp_size: attn_tp, dcp_size: dcp}}\n");
  for (const auto& [model, rules] : std::vector<std::pair<std::string, std::string>>{
           {kLlama8, big},
           {"fixtures/models/deepseek_v3.json", "fixtures/rules/good_deepseek_dcp_ep.yaml"}}) {
    INFO(model << " " << rules);
    std::vector<std::string> outputs;
    for (const char* threads : {"1", "3", "16", "0"}) {
      std::string out = in_scratch(std::string("threads_") + threads + ".json");
      Result r = run({"compile", "--config", model, "--rules", rules, "-o", out, "--threads",
                      std::string(threads)});
      INFO(r.err);
      REQUIRE(r.code == 0);
      CHECK(contains(r.out, "manifest written to"));
      outputs.push_back(slurp(out));
    }
    for (const auto& o : outputs) CHECK(o == outputs.front());
    Result to_stdout =
        run({"compile", "--config", model, "--rules", rules, "-o", "-", "--threads", "5"});
    CHECK(to_stdout.out == outputs.front());
  }
  Result bad = run({"compile", "--config", kLlama8, "--rules", big, "-o", "-", "--threads", "-1"});
  CHECK(bad.code == 2);
}

}  // namespace
