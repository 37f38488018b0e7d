// End-to-end: runs the layerplan binary as a user would and checks exit codes, output and files.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::Result;
using layerplan::test::run_shell;
using layerplan::test::scratch;
using layerplan::test::slurp;

const std::string kLlama8 = "--config fixtures/models/llama3_8b.json";
const std::string kLlama70 = "--config fixtures/models/llama3_70b.json";
const std::string kDeepSeek = "--config fixtures/models/deepseek_v3.json";

TEST_CASE("check: exit 0 on a valid plan, 1 on an invalid one, with file:line:col") {
  Result ok = run_shell("check " + kLlama70 + " --rules fixtures/rules/good_rfc_llama.yaml");
  CHECK(ok.code == 0);
  CHECK(contains(ok.out, "OK: LlamaForCausalLM"));
  Result bad = run_shell("check " + kLlama70 + " --rules fixtures/rules/bad_tpa_invariant.yaml");
  CHECK(bad.code == 1);
  CHECK(contains(bad.out,
                 "fixtures/rules/bad_tpa_invariant.yaml:8:10: error: attn_tp (4) * dcp (4) = 16 "
                 "must equal tp (8) when attn_tp < tp [tpa-invariant]"));
  CHECK(contains(bad.out, "INVALID"));
}

TEST_CASE("check --format json is machine-readable") {
  Result r = run_shell("check " + kLlama70 +
                       " --rules fixtures/rules/bad_tpa_invariant.yaml --format json");
  CHECK(r.code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["valid"] == false);
  bool found = false;
  for (const auto& d : j["diagnostics"]) {
    if (d["code"] == "tpa-invariant") {
      found = true;
      CHECK(d["location"]["line"] == 8);
      CHECK(d["severity"] == "error");
    }
  }
  CHECK(found);
}

TEST_CASE("--werror turns warnings into a failing verdict") {
  std::string args = "check " + kDeepSeek + " --rules fixtures/rules/good_rfc_mtp.yaml";
  Result plain = run_shell(args);
  CHECK(plain.code == 0);
  CHECK(contains(plain.out, "warning: rule 0 matches no layer"));
  CHECK(contains(plain.out, "model.layers.61"));
  Result strict = run_shell(args + " --werror");
  CHECK(strict.code == 1);
  CHECK(contains(strict.out, "error: rule 0 matches no layer"));
}

TEST_CASE("unreadable inputs and usage errors exit 2") {
  Result missing = run_shell(
      "check --config fixtures/models/nope.json --rules fixtures/rules/good_tp2_pp2.yaml");
  CHECK(missing.code == 2);
  CHECK(contains(missing.out, "cannot read 'fixtures/models/nope.json'"));
  CHECK(contains(missing.out, "[input-unreadable]"));
  Result dir = run_shell("check " + kLlama8 + " --rules fixtures/rules");
  CHECK(dir.code == 2);
  CHECK(contains(dir.out, "it is a directory"));
  Result no_rules = run_shell("check " + kLlama8);
  CHECK(no_rules.code == 2);
  CHECK(contains(no_rules.err, "--rules"));
  Result typo = run_shell("chekc");
  CHECK(typo.code == 2);
  CHECK(contains(typo.err, "did you mean 'check'?"));
  Result bad_flag =
      run_shell("compile " + kLlama8 + " --rules fixtures/rules/good_tp2_pp2.yaml --format xml");
  CHECK(bad_flag.code == 2);
}

TEST_CASE("a FIFO where a file is expected is refused without blocking") {
  std::string fifo = scratch() + "/fifo.yaml";
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Result r = run_shell("check " + kLlama8 + " --rules " + fifo);
  CHECK(r.code == 2);
  CHECK(contains(r.out, "not a regular file"));
}

TEST_CASE("--config accepts a directory holding config.json") {
  std::string dir = scratch() + "/model";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/llama3_8b.json",
                             dir + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  Result r = run_shell("layers --config " + dir);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "model.layers.{0-31}.self_attn"));
}

TEST_CASE("compile -o writes the manifest atomically and never a partial file") {
  std::string out = scratch() + "/plan.json";
  std::filesystem::remove(out);
  Result ok =
      run_shell("compile " + kLlama8 + " --rules fixtures/rules/good_llama8b_tpa.yaml -o " + out);
  REQUIRE(ok.code == 0);
  CHECK(contains(ok.out, "manifest written to"));
  std::string first = slurp(out);
  auto manifest = nlohmann::json::parse(first);
  CHECK(manifest["world_size"] == 8);
  CHECK(manifest["groups"]["attn_tp"] == nlohmann::json::parse("[[0,2,4,6],[1,3,5,7]]"));

  // An invalid plan leaves the existing file exactly as it was.
  Result bad =
      run_shell("compile " + kLlama70 + " --rules fixtures/rules/bad_tpa_invariant.yaml -o " + out);
  CHECK(bad.code == 1);
  CHECK(slurp(out) == first);
  // An unwritable destination is an error, not a crash, and leaves no temporary file.
  Result nodir =
      run_shell("compile " + kLlama8 + " --rules fixtures/rules/good_llama8b_tpa.yaml -o " +
                scratch() + "/no/such/dir/plan.json");
  CHECK(nodir.code == 2);
  CHECK(contains(nodir.err, "cannot write"));
  int leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(scratch())) {
    leftovers += e.path().filename().string().find(".tmp") != std::string::npos ? 1 : 0;
  }
  CHECK(leftovers == 0);
}

TEST_CASE("golden manifests match byte for byte (regenerate: scripts/regen-golden.sh)") {
  std::ifstream list(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/golden/LIST");
  std::string name, model, rules;
  int checked = 0;
  while (list >> name >> model >> rules) {
    // As scripts/regen-golden.sh does: a rules file marked "# flags: allow-unverified" compiles
    // with --allow-unverified.
    std::string text = slurp(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/rules/" + rules);
    std::string flags =
        text.find("# flags: allow-unverified") != std::string::npos ? "--allow-unverified " : "";
    Result r = run_shell("compile " + flags + "--config fixtures/models/" + model +
                         " --rules fixtures/rules/" + rules + " -o -");
    INFO(name);
    REQUIRE(r.code == 0);
    CHECK(r.out == slurp(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/golden/" + name + ".json"));
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("compile output is deterministic across runs") {
  std::string args =
      "compile " + kDeepSeek + " --rules fixtures/rules/good_deepseek_dcp_ep.yaml -o -";
  Result a = run_shell(args), b = run_shell(args);
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
}

TEST_CASE("compile prints a folded per-layer table") {
  Result r = run_shell("compile " + kDeepSeek +
                       " --rules fixtures/rules/good_deepseek_dcp_ep.yaml --groups");
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "model.layers.{3-60}.mlp"));
  CHECK(contains(r.out, "moe (mtp)"));
  CHECK(contains(r.out, "dcp      [0,1,2,3]"));
}

TEST_CASE("explain names the chosen rule and why the others did not match") {
  Result r =
      run_shell("explain " + kLlama8 +
                " --rules fixtures/rules/good_llama8b_tpa.yaml --layer model.layers.3.self_attn");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "rule 0 (line 10): matches, CHOSEN"));
  CHECK(contains(r.out, "no:  kind attention != mlp"));
  CHECK(contains(r.out, "tp_size  attn_tp (4) from the rule"));
  CHECK(contains(r.out, "all_to_all on 'dcp'"));
  Result json =
      run_shell("explain " + kLlama8 +
                " --rules fixtures/rules/good_llama8b_tpa.yaml --layer lm_head --emit json");
  CHECK(json.code == 0);
  CHECK(nlohmann::json::parse(json.out)["fallback"] == true);
}

TEST_CASE("explain on a prefix the model lacks suggests the nearest one") {
  Result r =
      run_shell("explain " + kLlama8 +
                " --rules fixtures/rules/good_llama8b_tpa.yaml --layer model.layers.3.self_atn");
  CHECK(r.code == 2);
  CHECK(contains(r.err, "did you mean 'model.layers.3.self_attn'?"));
  CHECK(contains(r.err, "[layer-not-found]"));
}

TEST_CASE("layers works without rules, as a table and as JSON") {
  Result t = run_shell("layers " + kDeepSeek);
  CHECK(t.code == 0);
  CHECK(contains(t.out, "model.layers.61"));
  Result j = run_shell("layers " + kDeepSeek + " --emit json");
  CHECK(j.code == 0);
  auto parsed = nlohmann::json::parse(j.out);
  CHECK(parsed["num_mtp_layers"] == 1);
  // embedding, 61 decoder layers of two slots, lm_head; the MTP draft (deepseek_mtp.py): its own
  // embedding, its projection, attention, MoE and shared head.
  CHECK(parsed["layers"].size() == 1 + 61 * 2 + 1 + 5);
}

TEST_CASE(
    "--format is the diagnostics format, --emit the output; --format json alone still "
    "selects the output, with a warning") {
  // The new spelling: the product as chosen, the diagnostics as chosen, no warning.
  Result table = run_shell("layers " + kDeepSeek + " --format json --emit table");
  CHECK(table.code == 0);
  CHECK(contains(table.out, "model.layers.61"));
  CHECK(nlohmann::json::parse(table.err)["valid"] == true);
  Result json = run_shell("layers " + kDeepSeek + " --emit json");
  CHECK(json.code == 0);
  CHECK(nlohmann::json::parse(json.out)["num_mtp_layers"] == 1);
  CHECK_FALSE(contains(json.err, "warning"));
  // The old spelling, kept for one release: the same output, and a warning that says what to write.
  for (const std::string& command :
       {"layers " + kDeepSeek,
        "explain " + kLlama8 + " --rules fixtures/rules/good_llama8b_tpa.yaml --layer lm_head",
        "suggest " + kLlama8 + " --gpus 8 --top 2"}) {
    Result old = run_shell(command + " --format json");
    INFO(command << "\n" << old.all().substr(0, 2000));
    CHECK(old.code == 0);
    CHECK_NOTHROW(nlohmann::json::parse(old.out));
    std::string verb = command.substr(0, command.find(' '));
    CHECK(contains(old.err, "layerplan " + verb +
                                ": warning: --format json selects the diagnostics "
                                "format only in the next release; use --emit json for the output"));
  }
  CHECK(run_shell("layers " + kDeepSeek + " --emit yaml").code == 2);
  CHECK(run_shell("explain " + kLlama8 +
                  " --rules fixtures/rules/good_llama8b_tpa.yaml --layer lm_head --emit table")
            .code == 2);
}

TEST_CASE("smoke: input errors exit 2 before anything is launched") {
  Result none = run_shell("smoke");
  CHECK(none.code == 2);
  CHECK(contains(none.err, "--manifest FILE, or --config and --rules"));
  Result both = run_shell("smoke --manifest x.json " + kLlama8);
  CHECK(both.code == 2);
  Result missing = run_shell("smoke --manifest fixtures/manifests/none.json");
  CHECK(missing.code == 2);
  CHECK(contains(missing.err, "cannot read"));
  Result not_json = run_shell("smoke --manifest fixtures/rules/good_tp2_pp2.yaml");
  CHECK(not_json.code == 2);
  CHECK(contains(not_json.err, "not valid JSON"));
  Result invalid_plan =
      run_shell("smoke " + kLlama70 + " --rules fixtures/rules/bad_tpa_invariant.yaml");
  CHECK(invalid_plan.code == 1);
  CHECK(contains(invalid_plan.err, "[tpa-invariant]"));
}

TEST_CASE("--version and --help") {
  Result v = run_shell("--version");
  CHECK(v.code == 0);
  CHECK(contains(v.out, "layerplan 0.1.0"));
  for (const char* sub : {"check", "compile", "explain", "layers", "report", "smoke"}) {
    Result h = run_shell(std::string(sub) + " --help");
    INFO(sub);
    CHECK(h.code == 0);
    CHECK(contains(h.out, "--"));
  }
}

TEST_CASE("report and compile --emit html write the same report of a plan") {
  std::string manifest = scratch() + "/report_plan.json",
              from_compile = scratch() + "/compiled.html",
              from_report = scratch() + "/reported.html";
  Result c = run_shell("compile " + kLlama8 + " --rules fixtures/rules/good_llama8b_tpa.yaml -o " +
                       manifest + " --emit html " + from_compile + " --gpus-per-node 4");
  INFO(c.all());
  REQUIRE(c.code == 0);
  CHECK(contains(c.out, "report written to " + from_compile));
  Result r = run_shell("report " + manifest + " -o " + from_report + " --gpus-per-node 4");
  REQUIRE(r.code == 0);
  std::string a = slurp(from_compile), b = slurp(from_report);
  // The rank groups and the per-layer plan are the same; the diagnostics are known only to compile.
  auto part = [](const std::string& html) {
    return html.substr(
        html.find("<section id=\"groups\">"),
        html.find("<section id=\"diagnostics\">") - html.find("<section id=\"groups\">"));
  };
  CHECK(part(a).size() > 1000);
  CHECK(part(a) == part(b));
  CHECK(contains(b, "Not recorded in the manifest"));
}

TEST_CASE("report: bad manifests and bad flags exit non-zero with a located error and no output") {
  std::string out = scratch() + "/never.html";
  Result missing = run_shell("report /nonexistent.json -o " + out);
  CHECK(missing.code == 2);
  CHECK(contains(missing.err, "[input-unreadable]"));
  std::string broken = scratch() + "/broken.json";
  layerplan::test::spit(broken, "{\"world_size\": 8,\n \"axes\": {\"tp\": 8,}}\n");
  Result syntax = run_shell("report " + broken + " -o " + out);
  CHECK(syntax.code == 1);
  CHECK(contains(syntax.err, broken + ":2:19: error:"));
  CHECK(contains(syntax.err, "[json-syntax]"));
  std::string wrong = scratch() + "/wrong.json";
  layerplan::test::spit(
      wrong, slurp("fixtures/golden/llama8b_tpa.json")
                 .replace(slurp("fixtures/golden/llama8b_tpa.json").find("\"world_size\": 8"), 15,
                          "\"world_size\": 4"));
  Result invalid = run_shell("report " + wrong + " -o " + out + " --format json");
  CHECK(invalid.code == 1);
  CHECK(contains(invalid.err, "\"code\": \"manifest-invalid\""));
  CHECK_FALSE(std::filesystem::exists(out));
  Result format = run_shell("compile " + kLlama8 +
                            " --rules fixtures/rules/good_llama8b_tpa.yaml --emit pdf " + out);
  CHECK(format.code == 2);
  CHECK(contains(format.err, "--emit takes 'vllm-args' or 'html FILE', got 'pdf "));
  Result missing_file =
      run_shell("compile " + kLlama8 + " --rules fixtures/rules/good_llama8b_tpa.yaml --emit html");
  CHECK(missing_file.code == 2);
  Result zero =
      run_shell("report fixtures/golden/llama8b_tpa.json -o " + out + " --gpus-per-node 0");
  CHECK(zero.code == 2);
  CHECK_FALSE(std::filesystem::exists(out));
  Result unwritable =
      run_shell("report fixtures/golden/llama8b_tpa.json -o /nonexistent/dir/r.html");
  CHECK(unwritable.code == 2);
  CHECK(contains(unwritable.err, "layerplan: error:"));
}

}  // namespace
