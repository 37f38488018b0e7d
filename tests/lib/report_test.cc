#include "lib/report.h"

#include <fmt/format.h>

#include "catch.h"
#include "report_dom.h"
#include "test_util.h"

namespace layerplan {
namespace {

std::unique_ptr<Compilation> compile_fixture(const std::string& model, const std::string& rules) {
  CompileRequest request;
  request.config_path = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/" + model;
  request.rules_path = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/rules/" + rules;
  auto c = compile(request);
  REQUIRE(c->layout);
  return c;
}

nlohmann::ordered_json manifest_of(const std::string& model, const std::string& rules) {
  return compile_fixture(model, rules)->manifest({model, rules});
}

std::string html_of(const nlohmann::ordered_json& manifest, ReportOptions options = {}) {
  std::vector<ManifestProblem> problems;
  auto model = read_report_model(manifest, problems);
  INFO(
      problems.size() << " problems, first: "
                      << (problems.empty() ? "" : problems[0].pointer + " " + problems[0].message));
  REQUIRE(model);
  return render_report_html(*model, options);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

TEST_CASE("report: every group of every set of small plans is drawn with its members in order") {
  for (auto [model, rules] : std::vector<std::pair<std::string, std::string>>{
           {"llama3_8b.json", "good_llama8b_tpa.yaml"},
           {"llama3_70b.json", "good_tp2_dp2_pp2.yaml"},
           {"deepseek_v3.json", "good_deepseek_dcp_ep.yaml"},
           {"deepseek_v3.json", "good_pcp_dcp_mla.yaml"}}) {
    INFO(rules);
    auto manifest = manifest_of(model, rules);
    for (std::int64_t gpus_per_node : {0, 2}) {
      ReportOptions options;
      options.gpus_per_node = gpus_per_node;
      std::string html = html_of(manifest, options);
      auto views = test::drawn_views(html);
      auto mismatches = test::group_mismatches(views, nlohmann::json::parse(manifest.dump()));
      INFO(fmt::format("{}", fmt::join(mismatches, "\n")));
      CHECK(mismatches.empty());
      CHECK(views.size() == manifest["groups"].size() + (gpus_per_node > 0 ? 1 : 0));
    }
  }
}

TEST_CASE(
    "report: a set of one-rank groups is stated, not drawn; node-spanning groups are marked") {
  auto manifest = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");  // tp 8, dcp 2, attn_tp 4
  ReportOptions options;
  options.gpus_per_node = 4;
  std::string html = html_of(manifest, options);
  CHECK(html.find("data-set=\"pcp\" data-singleton=\"8\"") != std::string::npos);
  // tp (0-7) spans both nodes, dcp pairs do not, attn_tp {0,2,4,6} and {1,3,5,7} do.
  CHECK(html.find(
            "<rect class=\"x\" x=\"78\" y=\"0\" width=\"34\" height=\"22\" fill=\"hsl(0,70%,68%)\" "
            "data-rank=\"0\" data-group=\"0\" data-pos=\"0\"/>") != std::string::npos);
  auto views = test::drawn_views(html);
  std::size_t crossing = 0;
  for (const auto& v : views) {
    if (v.set == "dcp") CHECK(v.rects == 8);
  }
  crossing = count(html, "<rect class=\"x\"");
  CHECK(crossing == 8 /* world */ + 8 /* tp */ + 8 /* attn_tp */);
  CHECK(html.find("2 of 2 drawn groups span nodes") != std::string::npos);
  // Without node information there is nothing to mark.
  CHECK(count(html_of(manifest), "<rect class=\"x\"") == 0);
}

TEST_CASE("report: every string from the manifest is escaped") {
  auto manifest = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");
  manifest["layers"][1]["rule"]["name"] = "<script>alert('rule')</script>";
  manifest["inputs"]["rules"] = "rules\"><img src=x onerror=alert(1)>.yaml";
  manifest["model"]["architecture"] = "</title><script>alert(2)</script>";
  manifest["groups"]["<svg onload=alert(3)>"] = manifest["groups"]["dcp"];
  manifest["layers"][1]["comms"][0]["why"] = "\" onmouseover=\"alert(4)";
  std::string html = html_of(manifest);
  CHECK(count(html, "<script") == 2);  // the error catcher and the page's own script
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<svg onload") == std::string::npos);
  CHECK(html.find("\" onmouseover=\"") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;rule&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("data-set=\"&lt;svg onload=alert(3)&gt;\"") != std::string::npos);
  CHECK(html_escape("a&b<c>\"d'") == "a&amp;b&lt;c&gt;&quot;d&#39;");
}

TEST_CASE("report: the page fetches nothing") {
  std::string html = html_of(manifest_of("deepseek_v3.json", "good_deepseek_dcp_ep.yaml"));
  CHECK(html.find("default-src 'none'") != std::string::npos);
  for (const char* fetch :
       {"http://", "https://", " src=", "<link", "@import", "url(", "fetch(", "XMLHttpRequest"}) {
    INFO(fetch);
    CHECK(html.find(fetch) == std::string::npos);
  }
}

TEST_CASE("report: layers fold into ranges with rule, plan, per-rank sizes and collectives") {
  std::string html = html_of(manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml"));
  CHECK(html.find("model.layers.<b>{0-31}</b>.self_attn <small>(32 layers)</small>") !=
        std::string::npos);
  CHECK(html.find("<td>4 <small>on attn_tp</small></td><td>2 <small>on dcp</small></td>") !=
        std::string::npos);
  CHECK(html.find("#0, line 10") != std::string::npos);
  CHECK(html.find("all_to_all <small>on</small> dcp <small>1024/token</small>") !=
        std::string::npos);
  CHECK(html.find("<span class=\"kv\">q_heads <b>8</b></span>") != std::string::npos);
  CHECK(html.find("<i>global plan</i> (no rule matched)") != std::string::npos);
  // compile writes each layer's memory: the report draws it.
  CHECK(html.find("<th>bytes per rank</th>") != std::string::npos);
  CHECK(html.find("weight_bytes ") != std::string::npos);
}

TEST_CASE("report: nodes and memory are drawn when the manifest has them") {
  auto manifest = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");
  manifest["nodes"] = {{"host-a", {0, 1, 2, 3}}, {"host-b", {4, 5, 6, 7}}};
  for (auto& layer : manifest["layers"]) layer["memory"] = {{"weights_bytes", 3 << 20}};
  manifest["memory"] = {{"per_rank", {{"weights_bytes", 2u << 30}, {"kv_cache_bytes", 1u << 30}}}};
  std::string html = html_of(manifest);
  CHECK(html.find(">host-a</text>") != std::string::npos);
  CHECK(html.find("from the manifest&#39;s nodes") != std::string::npos);
  CHECK(html.find("1 of 1 drawn group span nodes") != std::string::npos);  // tp
  CHECK(html.find("<th>bytes per rank</th>") != std::string::npos);
  CHECK(html.find("weights_bytes 3.00 MiB") != std::string::npos);
  CHECK(html.find("<td>per_rank.weights_bytes</td><td>2.00 GiB</td>") != std::string::npos);
  CHECK(html.find("<span style=\"width:50.0%\">") !=
        std::string::npos);  // kv cache: half the weights
  // --gpus-per-node draws other nodes than the manifest's.
  ReportOptions options;
  options.gpus_per_node = 2;
  CHECK(html_of(manifest, options).find("4 nodes, from --gpus-per-node 2") != std::string::npos);
}

TEST_CASE("report: world 65,536 draws one DP replica and says how the rest follows") {
  std::string rules =
      "parallelism_rules:\n  axes: {tp: 8, attn_tp: 1, dcp: 8, dp: 1024, pp: 8, ep: 256}\n  "
      "rules:\n"
      "    - match: {kind: attention, attention_flavor: mla}\n      plan: {tp_size: tp, dcp_size: "
      "dcp}\n"
      "    - match: {kind: moe}\n      plan: {tp_size: tp, ep_size: ep}\n"
      "    - match: {kind: mlp}\n      plan: {tp_size: tp}\n";
  auto c = test::compile_text(test::fixture("fixtures/models/deepseek_v3.json"), rules);
  REQUIRE(c->layout);
  ReportOptions options;
  options.gpus_per_node = 8;
  auto result = report_compilation(*c, {"deepseek_v3.json", "rules.yaml"}, options);
  REQUIRE(result.html);
  const std::string& html = *result.html;
  CHECK(html.size() < 400'000);  // the manifest is 5.9 MB
  CHECK(html.find("data-drawn=\"64\"") != std::string::npos);
  CHECK(html.find("World size 65536 is too large to draw every rank: drawn is DP replica 0 in full "
                  "(ranks 0-63: its 8 pipeline stages of tp*pcp = 8 ranks)") != std::string::npos);
  auto views = test::drawn_views(html);
  for (const auto& v : views) {
    INFO(v.view);
    if (!v.singleton) CHECK(v.rects == 64);
  }
  CHECK(html.find("0, 1, 2, 3, 4, 5, 6, 7, ..., 65532, 65533, 65534, 65535 (65536 ranks)") !=
        std::string::npos);
  CHECK(html.find("8192 groups of 8") != std::string::npos);  // tp: counted over the whole world
}

TEST_CASE("report: a manifest without group lists draws the same page from group_layout") {
  // Small plans (every group drawn), and world 8,192 (one DP replica drawn), with and without
  // nodes: the page from the formulas is the page from the lists, byte for byte.
  std::vector<std::unique_ptr<Compilation>> plans;
  plans.push_back(compile_fixture("llama3_8b.json", "good_llama8b_tpa.yaml"));
  plans.push_back(compile_fixture("deepseek_v3.json", "good_deepseek_dcp_ep.yaml"));
  plans.push_back(compile_fixture("deepseek_v3.json", "good_pcp_dcp_mla.yaml"));
  plans.push_back(test::compile_text(
      test::fixture("fixtures/models/deepseek_v3.json"),
      "parallelism_rules:\n  axes: {tp: 8, attn_tp: 1, dcp: 8, dp: 128, pp: 8, ep: 256}\n"
      "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n"));
  for (const auto& c : plans) {
    REQUIRE(c->layout);
    ManifestInputs listed{"config.json", "rules.yaml"};
    ManifestInputs compact = listed;
    compact.group_lists = false;
    const auto with_lists = c->manifest(listed);
    const auto without = c->manifest(compact);
    REQUIRE_FALSE(without.contains("groups"));
    for (std::int64_t gpus_per_node : {0, 2, 8}) {
      INFO(c->axes.world_size << " ranks, " << gpus_per_node << " per node");
      ReportOptions options;
      options.gpus_per_node = gpus_per_node;
      CHECK(html_of(without, options) == html_of(with_lists, options));
    }
  }
}

TEST_CASE("report: a group_layout that does not cut the world into groups is refused") {
  auto manifest = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");
  manifest.erase("groups");
  auto& layout = manifest["group_layout"];
  layout["tp"]["steps"][0]["sizes"] = {1, 1, 2, 4};  // with strides 8, 8, 2, 1: ranks 2, 3 twice
  layout["tp"]["steps"][0]["strides"] = {8, 8, 2, 1};
  layout["dcp"]["steps"][0]["sizes"] = {1, 1, 4, 1};        // walks 4 of 8 ranks
  layout["pp"]["group_size"] = 3;                           // 8 ranks are not groups of 3
  layout["dp"]["steps"] = nlohmann::ordered_json::array();  // no step
  layout["world"]["steps"][0] = 5;
  layout["pcp"]["steps"][0]["strides"] = {8, 1};
  layout["attn_tp"] = 5;
  std::vector<ManifestProblem> problems;
  CHECK_FALSE(read_report_model(manifest, problems));
  std::string all;
  for (const auto& p : problems) all += p.pointer + ": " + p.message + "\n";
  INFO(all);
  CHECK(all.find("/group_layout/tp/steps/0: the step does not visit every rank once") !=
        std::string::npos);
  CHECK(all.find("/group_layout/dcp/steps/0: the step walks 4 elements, not the world's 8") !=
        std::string::npos);
  CHECK(all.find("/group_layout/pp: group_size 3 and groups 8 do not cut the world of 8 ranks") !=
        std::string::npos);
  CHECK(all.find("/group_layout/dp/steps: expected 1 to 8 steps") != std::string::npos);
  CHECK(all.find("/group_layout/world/steps/0: expected an object with axes, sizes and strides") !=
        std::string::npos);
  CHECK(all.find("/group_layout/pcp/steps/0: expected sizes and strides of the same length, 1 "
                 "to 16") != std::string::npos);
  CHECK(all.find("/group_layout/attn_tp: expected an object with group_size, groups and steps") !=
        std::string::npos);
  // A size beyond the world, alone.
  auto too_wide = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");
  too_wide.erase("groups");
  too_wide["group_layout"]["tp"]["steps"][0]["sizes"] = {1, 1, 1, 16};
  problems.clear();
  CHECK_FALSE(read_report_model(too_wide, problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/group_layout/tp/steps/0");
  CHECK(problems[0].message == "expected sizes and strides of 1 to world_size 8");
  manifest.erase("group_layout");
  problems.clear();
  CHECK_FALSE(read_report_model(manifest, problems));
  REQUIRE_FALSE(problems.empty());
  CHECK(problems[0].message == "missing key \"groups\"");
}

TEST_CASE("report: a manifest's problems are errors at file:line:col, every one of them") {
  auto manifest = manifest_of("llama3_8b.json", "good_llama8b_tpa.yaml");
  manifest["groups"]["dcp"][1] = {2, 9};
  manifest["groups"]["tp"][0][3] = 0;
  manifest["layers"][0].erase("plan");
  ReportRequest request;
  request.manifest = make_source("plan.json", dump_json(manifest));
  auto result = report_manifest(request);
  CHECK_FALSE(result.html);
  std::vector<std::string> seen;
  for (const auto& d : result.diags.sorted()) {
    CHECK(d.code == "manifest-invalid");
    seen.push_back(d.location.to_string() + ": " + d.message);
  }
  INFO(fmt::format("{}", fmt::join(seen, "\n")));
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].find("at /groups/tp/0/3: rank 0 is already in group 0 of set \"tp\"") !=
        std::string::npos);
  CHECK(seen[0].rfind("plan.json:44:17: ", 0) == 0);  // the fourth rank of [0, 1, 2, 0, ...]
  CHECK(seen[1].find("at /groups/dcp/1/1: rank 9 is not below world_size 8") != std::string::npos);
  CHECK(seen[2].find("at /layers/0: missing key \"plan\"") != std::string::npos);

  request.manifest = make_source("plan.json", "{\n  \"world_size\": 8,\n  \"axes\": [1,\n}\n");
  result = report_manifest(request);
  REQUIRE(result.diags.all().size() == 1);
  CHECK(result.diags.all()[0].code == "json-syntax");
  CHECK(result.diags.all()[0].location.to_string() == "plan.json:4:1");

  request.manifest = make_source(
      "plan.json", "{\"world_size\": 4, \"axes\": {\"tp\": 2, \"pcp\": 1, \"pp\": 1, \"dp\": 1}}");
  result = report_manifest(request);
  REQUIRE_FALSE(result.html);
  std::string messages;
  for (const auto& d : result.diags.all()) messages += d.message + "\n";
  CHECK(messages.find("tp*pcp*pp*dp = 2*1*1*1 differs from world_size 4") != std::string::npos);
  CHECK(messages.find("missing key \"model\"") != std::string::npos);

  request.manifest.reset();
  request.manifest_path = "/nonexistent/plan.json";
  result = report_manifest(request);
  CHECK(result.input_unreadable);
  CHECK(result.diags.all()[0].code == "input-unreadable");
}

}  // namespace
}  // namespace layerplan
