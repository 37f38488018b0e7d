// What a new user meets first, through the binary: -V, `layerplan help [COMMAND]`, --help with
// defaults, exit codes and an example, the man page, friendlier mistakes (a tab in YAML, a
// generation_config.json, axes that look like slips), and the plan table (axes line, stage
// column, rule names, wrapping within 120 columns, the fold notation's legend).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catch.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::Result;
using layerplan::test::run;
using layerplan::test::spit;

const std::vector<std::string> kCommands = {"check",  "compile", "diff",  "explain",
                                            "layers", "report",  "smoke", "suggest"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Display width of a UTF-8 line (one column a character).
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

TEST_CASE("-V and --version print the version") {
  for (const char* flag : {"-V", "--version"}) {
    Result r = run({flag});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("layerplan ", 0) == 0);
  }
}

TEST_CASE("layerplan help lists the commands; help COMMAND is that command's --help") {
  Result all = run({"help"});
  CHECK(all.code == 0);
  for (const auto& command : kCommands) CHECK(contains(all.out, "  " + command));
  CHECK(contains(all.out, "Exit codes:\n  0  valid"));

  for (const auto& command : kCommands) {
    INFO(command);
    Result help = run({"help", command});
    Result flag = run({command, "--help"});
    CHECK(help.code == 0);
    CHECK(flag.code == 0);
    CHECK(help.out == flag.out);
    CHECK(contains(flag.out, "Usage: layerplan " + command));
    CHECK(contains(flag.out, "Exit codes:\n  0  "));
    CHECK(contains(flag.out, "\n  2  "));
    CHECK(contains(flag.out, "Example:\n  layerplan " + command + " "));
  }
  Result typo = run({"help", "chek"});
  CHECK(typo.code == 2);
  CHECK(contains(typo.err, "no command 'chek'; did you mean 'check'?"));
}

TEST_CASE("--help shows the defaults that mean something, and not those that mean 'not given'") {
  Result check = run({"check", "--help"});
  CHECK(contains(check.out, "(default: text)"));
  CHECK(contains(check.out, "(default: auto)"));
  CHECK_FALSE(contains(check.out, "(default: 0)"));
  CHECK_FALSE(contains(check.out, "(default: )"));
  Result diff = run({"diff", "--help"});
  CHECK(contains(diff.out, "text, json or markdown (for a pull-request comment) (default: text)"));
}

TEST_CASE("help --man writes a man page from the same definitions as --help") {
  Result man = run({"help", "--man"});
  CHECK(man.code == 0);
  CHECK(man.out.rfind(".TH LAYERPLAN 1 ", 0) == 0);
  for (const auto& command : kCommands)
    CHECK(contains(man.out, ".SS \"layerplan " + command + "\""));
  CHECK(contains(man.out, ".B Exit codes:\n.nf\n  0  every file valid"));
  CHECK(contains(man.out, "\\fB\\-\\-format\\fR"));
  CHECK(contains(man.out, "(default: text)"));
  CHECK(contains(man.out, ".SH EXIT STATUS"));
}

TEST_CASE("a tab in a rules file's indentation gets a hint") {
  std::string rules = in_scratch("tab.yaml");
  spit(rules, "parallelism_rules:\n  axes:\n\ttp: 8\n  rules: []\n");
  Result r = run({"check", "--config", "fixtures/models/llama3_8b.json", rules});
  CHECK(r.code == 1);
  CHECK(contains(r.out, rules + ":3:1: note: this line is indented with a tab; YAML allows only "
                                "spaces in indentation"));
}

TEST_CASE("a generation_config.json given as --config says what it is") {
  std::string file = in_scratch("generation_config.json");
  spit(file,
       "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128009], \"do_sample\": true,\n"
       " \"temperature\": 0.6, \"top_p\": 0.9, \"transformers_version\": \"4.45.0\"}\n");
  Result r = run({"layers", "--config", file});
  CHECK(r.code == 1);
  CHECK(contains(r.err,
                 "error: this file names neither 'architectures' nor 'model_type': it is "
                 "not a model's config.json [config-not-a-model]"));
  CHECK(contains(r.err, "note: it looks like a generation_config.json"));
  CHECK_FALSE(contains(r.err, "known architectures"));

  std::string adapter = in_scratch("adapter_config.json");
  spit(adapter,
       "{\"peft_type\": \"LORA\", \"base_model_name_or_path\": \"meta-llama/Llama-3.1-8B\", "
       "\"r\": 16}\n");
  Result a = run({"layers", "--config", adapter});
  CHECK(contains(a.err,
                 "note: it looks like a PEFT adapter's adapter_config.json; --config wants "
                 "the base model's config.json (meta-llama/Llama-3.1-8B)"));
}

TEST_CASE("axes that look like slips of built-in ones, or that no plan names, are warned about") {
  Result r = run({"check", "--config", "fixtures/models/llama3_8b.json",
                  "fixtures/rules/bad_axis_names.yaml"});
  CHECK(r.code == 0);
  CHECK(contains(r.out,
                 "fixtures/rules/bad_axis_names.yaml:8:5: warning: axis 'atn_tp' is not the "
                 "built-in axis 'attn_tp'"));
  CHECK(contains(r.out, "[axis-near-builtin]"));
  CHECK(contains(r.out,
                 "fixtures/rules/bad_axis_names.yaml:10:5: warning: axis 'mlp_width' is "
                 "declared but no rule's plan names it"));
  CHECK(contains(r.out, "[axis-unused]"));
  Result werror = run({"check", "--werror", "--config", "fixtures/models/llama3_8b.json",
                       "fixtures/rules/bad_axis_names.yaml"});
  CHECK(werror.code == 1);
}

TEST_CASE("the plan table: axes line, stage column with pp > 1, rule names, 120 columns, legend") {
  std::string rules = in_scratch("named.yaml");
  spit(rules,
       "parallelism_rules:\n  axes: {tp: 2, pp: 2}\n  rules:\n"
       "    - name: attention at full tp\n      match: {kind: attention}\n"
       "      plan: {tp_size: tp}\n");
  Result r = run({"compile", "--config", "fixtures/models/llama3_8b.json", "--rules", rules});
  CHECK(r.code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() > 4);
  CHECK(lines[0] == "axes: tp=2 attn_tp=2 dcp=1 pcp=1 pp=2 dp=1 (world size 4)");
  CHECK(lines[1].rfind("layer ", 0) == 0);
  CHECK(contains(lines[1], "  stage  tp (group)  "));
  // The rows do not fit in 120 columns with the rule and per-rank sizes beside them: those go on
  // lines of their own under each row, wrapped.
  CHECK(contains(r.out, "\nmodel.layers.{16-31}.self_attn  attention  gqa     1      2 tp  "));
  CHECK(contains(r.out,
                 "\n    rule: #0 attention at full tp (L4); per rank: q_heads=16 kv_heads=4 "));
  CHECK(contains(r.out, "\n      o_proj_heads=16 "));
  CHECK(contains(r.out, "global"));
  CHECK(contains(r.out, "\n{a-b}: layers a to b; {a-b step k}: every k-th layer from a to b\n"));
  for (const auto& line : lines) {
    INFO(line);
    if (line.rfind("  vllm serve", 0) == 0) continue;  // the launch line is one shell line
    CHECK(columns(line) <= 120);
  }
  // Per-rank sizes wrap onto lines of their own, indented to their column.
  Result deepseek = run({"compile", "--config", "fixtures/models/deepseek_v3.json", "--rules",
                         "fixtures/rules/good_deepseek_dcp_ep.yaml"});
  CHECK(deepseek.code == 0);
  bool continued = false;
  for (const auto& line : lines_of(deepseek.out)) {
    if (line.rfind("  vllm serve", 0) == 0) continue;
    INFO(line);
    CHECK(columns(line) <= 120);
    continued = continued || (line.rfind("      ", 0) == 0 && contains(line, "="));
  }
  CHECK(continued);
}

TEST_CASE("the manifest records its inputs relative to the working directory, with their SHA-256") {
  std::string out = in_scratch("plan.json");
  std::string config = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/llama3_8b.json";
  Result r = run({"compile", "--config", config, "--rules",
                  "./fixtures/rules/good_llama8b_tpa.yaml", "-o", out});
  REQUIRE(r.code == 0);
  auto m = nlohmann::json::parse(layerplan::test::slurp(out));
  CHECK(m["inputs"]["config"] == "fixtures/models/llama3_8b.json");
  CHECK(m["inputs"]["rules"] == "fixtures/rules/good_llama8b_tpa.yaml");
  CHECK(m["inputs"]["config_sha256"].get<std::string>().size() == 64);
  CHECK(m["inputs"]["rules_sha256"].get<std::string>().size() == 64);
  CHECK(m["inputs"]["config_sha256"] != m["inputs"]["rules_sha256"]);
  // The same digest sha256sum gives, where it is installed.
  std::string sum = in_scratch("sum");
  if (std::system(("sha256sum " + config + " > " + sum + " 2>/dev/null").c_str()) == 0) {
    CHECK(layerplan::test::slurp(sum).substr(0, 64) ==
          m["inputs"]["config_sha256"].get<std::string>());
  }
}

}  // namespace
