// The HTML report in a real browser: headless Chromium loads reports of fixture plans, and the test
// fails on a script error, on an empty render, or when a group is not drawn with its members.
// Where Chromium is absent it prints "SKIPPED: ..." and ctest reports it skipped.
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catch.h"
#include "report_dom.h"
#include "run_binary.h"

namespace {

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::quote;
using layerplan::test::slurp;

std::string chromium() {
  if (const char* env = std::getenv("LAYERPLAN_CHROMIUM"); env && *env) return env;
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

struct Browser {
  int code = -1;
  std::string out, err;
};

// Runs headless Chromium on a local file with its own profile, under a 90-second timeout.
Browser browse(const std::string& file, const std::string& flags) {
  static int runs = 0;
  std::string profile = in_scratch(fmt::format("profile{}", runs++));
  std::string out = in_scratch("browser.out"), err = in_scratch("browser.err");
  std::string cmd = fmt::format(
      "timeout 90 {} --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "
      "--user-data-dir={} --enable-logging=stderr --v=0 {} file://{} >{} 2>{} </dev/null",
      quote(chromium()), quote(profile), flags, file, quote(out), quote(err));
  int status = std::system(cmd.c_str());
  Browser b;
  b.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  b.out = slurp(out);
  b.err = slurp(err);
  return b;
}

// Width and height from a PNG's IHDR chunk, or {0, 0} when the bytes are not a PNG.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      png.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// Checks one report in the browser: no script error, every cell laid out, and (`all_drawn`)
// every group of every set drawn with its members in rank-in-group order.
void check_in_browser(const std::string& html_path, const nlohmann::json& manifest,
                      bool all_drawn) {
  std::string html = slurp(html_path);
  auto written = layerplan::test::drawn_views(html);
  std::size_t cells = 0;
  for (const auto& v : written) cells += v.rects;
  REQUIRE(cells > 0);

  Browser dom = browse(html_path, "--dump-dom");
  INFO("chromium exit " << dom.code << ", stderr:\n" << dom.err);
  REQUIRE(dom.code == 0);
  CHECK_FALSE(contains(dom.err, "Uncaught"));
  // The page's first script records any error on <html data-js-errors>; the script sets
  // data-ready when it ran to its end.
  std::size_t html_at = dom.out.find("<html");
  REQUIRE(html_at != std::string::npos);
  std::string html_tag = dom.out.substr(html_at, dom.out.find('>', html_at) - html_at);
  INFO(html_tag);
  CHECK_FALSE(contains(html_tag, "data-js-errors"));
  CHECK(contains(html_tag, "data-ready=\"1\""));
  // The script counted the cells that have a size on the page: all of them.
  CHECK(contains(html_tag, fmt::format("data-drawn-cells=\"{}\"", cells)));
  auto views = layerplan::test::drawn_views(dom.out);
  CHECK(views.size() == written.size());
  if (all_drawn) {
    auto mismatches = layerplan::test::group_mismatches(views, manifest);
    INFO(fmt::format("{}", fmt::join(mismatches, "\n")));
    CHECK(mismatches.empty());
  }
}

TEST_CASE("the HTML report renders in headless Chromium with every group drawn") {
  if (chromium().empty()) {
    // ctest reports the test as skipped on this line (SKIP_REGULAR_EXPRESSION in CMakeLists.txt).
    std::cout
        << "SKIPPED: Chromium is not installed (Debian: chromium; or set LAYERPLAN_CHROMIUM); "
           "the report was not rendered in a browser\n";
    WARN("SKIPPED: no Chromium");
    return;
  }
  struct Plan {
    std::string config, rules, extra;
  };
  std::vector<Plan> plans = {
      {"llama3_8b.json", "good_llama8b_tpa.yaml", "--gpus-per-node 4"},
      {"llama3_70b.json", "good_tp2_dp2_pp2.yaml", ""},
      {"deepseek_v3.json", "good_deepseek_dcp_ep.yaml", "--gpus-per-node 2"},
  };
  for (const auto& plan : plans) {
    SECTION(plan.rules) {
      std::string manifest_path = in_scratch(plan.rules + ".json");
      std::string html_path = in_scratch(plan.rules + ".html");
      auto r = layerplan::test::run_shell(fmt::format(
          "compile --config fixtures/models/{} --rules fixtures/rules/{} -o {} --emit html {} {}",
          plan.config, plan.rules, quote(manifest_path), quote(html_path), plan.extra));
      INFO(r.all());
      REQUIRE(r.code == 0);
      check_in_browser(html_path, nlohmann::json::parse(slurp(manifest_path)), true);
    }
  }
  SECTION("world 65,536: one DP replica drawn") {
    std::string rules = in_scratch("world65536.yaml");
    std::ofstream(rules)
        << "parallelism_rules:\n  axes: {tp: 8, attn_tp: 1, dcp: 8, dp: 1024, pp: 8, ep: 256}\n"
           "  rules:\n    - match: {kind: attention, attention_flavor: mla}\n"
           "      plan: {tp_size: tp, dcp_size: dcp}\n"
           "    - match: {kind: moe}\n      plan: {tp_size: tp, ep_size: ep}\n";
    std::string manifest_path = in_scratch("world65536.json"),
                html_path = in_scratch("world65536.html");
    auto r = layerplan::test::run_shell(
        fmt::format("compile --config fixtures/models/deepseek_v3.json --rules {} -o {}",
                    quote(rules), quote(manifest_path)));
    INFO(r.all());
    REQUIRE(r.code == 0);
    r = layerplan::test::run_shell(
        fmt::format("report {} -o {} --gpus-per-node 8", quote(manifest_path), quote(html_path)));
    REQUIRE(r.code == 0);
    CHECK(slurp(html_path).size() < 400'000);
    check_in_browser(html_path, nlohmann::json(), false);
  }
  SECTION("the screenshot is a picture, not an empty page") {
    std::string html_path = in_scratch("shot.html"), blank_path = in_scratch("blank.html");
    auto r =
        layerplan::test::run_shell(fmt::format("compile --config fixtures/models/llama3_8b.json "
                                               "--rules fixtures/rules/good_llama8b_tpa.yaml "
                                               "--emit html {} --gpus-per-node 4",
                                               quote(html_path)));
    REQUIRE(r.code == 0);
    std::ofstream(blank_path) << "<!DOCTYPE html><html><body></body></html>\n";
    std::string shot = in_scratch("shot.png"), blank = in_scratch("blank.png");
    Browser a = browse(html_path, "--window-size=1200,900 --screenshot=" + quote(shot));
    Browser b = browse(blank_path, "--window-size=1200,900 --screenshot=" + quote(blank));
    INFO(a.err << b.err);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    std::string png = slurp(shot), empty = slurp(blank);
    CHECK(png_size(png) == std::make_pair(std::uint32_t{1200}, std::uint32_t{900}));
    CHECK(png_size(empty) == std::make_pair(std::uint32_t{1200}, std::uint32_t{900}));
    // A blank page compresses to a few kilobytes; coloured cells, tables and text do not.
    INFO("report PNG " << png.size() << " bytes, blank page PNG " << empty.size() << " bytes");
    CHECK(png.size() > 10 * empty.size());
  }
}

}  // namespace
