// lib/manifest_writer.cc writes JSON itself; these tests hold it to nlohmann's dump(2), with
// arrays of plain numbers put on one line as the manifest format has it.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "catch.h"
#include "lib/manifest.h"
#include "test_util.h"

using namespace layerplan;
using namespace layerplan::test;
using ojson = nlohmann::ordered_json;

namespace {

// The reference: nlohmann's text, then every '[' whose contents up to the next ']' are only
// digits, '-', '.', ',' and white space rewritten as "[a, b, c]" (strings copied untouched).
// This is how dump_json was written before it wrote the text itself.
std::string reference_dump(const ojson& value) {
  std::string text = value.dump(2, ' ', false, ojson::error_handler_t::replace);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      out.append(text, i, end + 1 - i);
      i = end;
      continue;
    }
    if (text[i] != '[') {
      out += text[i];
      continue;
    }
    std::size_t j = i + 1;
    bool numeric = true;
    while (j < text.size() && text[j] != ']') {
      char c = text[j];
      if (!(c == ',' || c == ' ' || c == '\n' || c == '-' || c == '.' || (c >= '0' && c <= '9'))) {
        numeric = false;
        break;
      }
      ++j;
    }
    if (!numeric || j >= text.size()) {
      out += text[i];
      continue;
    }
    out += '[';
    bool first = true;
    std::string number;
    for (std::size_t k = i + 1; k <= j; ++k) {
      char c = text[k];
      if (c == ',' || k == j) {
        if (!number.empty()) {
          out += first ? "" : ", ";
          out += number;
          first = false;
          number.clear();
        }
      } else if (c != ' ' && c != '\n') {
        number += c;
      }
    }
    out += ']';
    i = j;
  }
  return out;
}

// A random JSON value of bounded depth: numbers of every kind, awkward strings, nesting.
ojson random_value(std::mt19937_64& rng, int depth) {
  const char* strings[] = {"",
                           "plain",
                           "[1, 2]",
                           "quote \" and \\ backslash",
                           "tab\tnew\nline",
                           "\x01\x1f control",
                           "caf\xc3\xa9 \xe2\x9c\x93",
                           "bad \xff\xfe utf-8",
                           "{\"not\": [\"json\"]}",
                           "del \x7f"};
  std::uniform_int_distribution<int> kind(0, depth > 0 ? 11 : 7);
  switch (kind(rng)) {
    case 0:
      return nullptr;
    case 1:
      return (rng() & 1) != 0;
    case 2:
      return static_cast<std::int64_t>(rng() % 2000001) - 1000000;
    case 3:
      return static_cast<std::int64_t>(rng());
    case 4:
      return static_cast<std::uint64_t>(rng());
    case 5: {
      const double floats[] = {0.5,     -2.25,      1e20,
                               1e-7,    0.1,        3.0,
                               -0.0,    123456.789, std::numeric_limits<double>::quiet_NaN(),
                               HUGE_VAL};
      return floats[rng() % 10];
    }
    case 6:
    case 7:
      return strings[rng() % 10];
    case 8:
    case 9: {  // an array, often of integers only (the one-line case)
      ojson a = ojson::array();
      std::size_t n = rng() % 6;
      bool ints = (rng() & 1) != 0;
      for (std::size_t i = 0; i < n; ++i) {
        a.push_back(ints ? ojson(static_cast<std::int64_t>(rng() % 100) - 10)
                         : random_value(rng, depth - 1));
      }
      return a;
    }
    default: {
      ojson o = ojson::object();
      std::size_t n = rng() % 5;
      for (std::size_t i = 0; i < n; ++i)
        o[strings[rng() % 10] + std::to_string(i)] = random_value(rng, depth - 1);
      return o;
    }
  }
}

// A plan to write: a fixture config and the rules, inline.
struct Case {
  const char* config;
  const char* rules;
};

}  // namespace

TEST_CASE("dump_json writes what nlohmann writes, numeric arrays on one line") {
  ojson v = ojson::parse(R"({
    "a": [1, -2, 3], "b": [], "c": {}, "d": [[0, 1], [2, 3], []], "e": [1, "x", 2],
    "f": [1.5, 2], "g": [1e300, 2], "h": {"nested": {"deeper": [18446744073709551615]}},
    "i": "[1,2]", "j": [true, false, null], "k": -9223372036854775808, "l": 0.1
  })");
  v["m"] = std::numeric_limits<double>::quiet_NaN();
  v["n"] = ojson::array({std::numeric_limits<double>::infinity(), 1});
  v["bad \xff key"] = "bad \xc3 value";
  std::string got = dump_json(v);
  CHECK(got == reference_dump(v));
  CHECK(got.find("\"a\": [1, -2, 3]") != std::string::npos);
  CHECK(got.find("\"d\": [\n    [0, 1],\n    [2, 3],\n    []\n  ]") != std::string::npos);
  CHECK(got.find("\"i\": \"[1,2]\"") != std::string::npos);
  // Scalars at the top level too.
  for (const ojson& s : {ojson(nullptr), ojson(7), ojson("x\n"), ojson::array(), ojson::object()}) {
    CHECK(dump_json(s) == reference_dump(s));
  }
}

TEST_CASE("dump_json agrees with the reference on random values") {
  std::mt19937_64 rng(20261201);
  for (int n = 0; n < 2000; ++n) {
    ojson v = random_value(rng, 4);
    std::string got = dump_json(v);
    std::string want = reference_dump(v);
    if (got != want) {
      INFO("value " << n << ": " << v.dump(-1, ' ', false, ojson::error_handler_t::replace));
      CHECK(got == want);
    }
  }
}

TEST_CASE("write_manifest streams the groups into the text dump_json gives for the lists") {
  // Worlds large enough that the lists span many pieces and chunks of the sink. The DeepSeek-V3
  // plan (world 24,576) has every kind of set the writer walks differently: groups of the
  // innermost digits (tp; pp, groups of 3 that pieces of 16,384 members split), groups too wide
  // to tabulate (ep, 8,192; world, one group over two pieces) and a set of two steps
  // (etp256, groups of 32).
  const Case cases[] = {
      {"fixtures/models/llama3_8b.json",
       "parallelism_rules:\n  axes: {tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 512}\n"
       "  rules:\n    - match: {kind: attention}\n      plan: {tp_size: attn_tp, dcp_size: dcp}\n"},
      {"fixtures/models/deepseek_v3.json",
       "parallelism_rules:\n  axes: {dp: 1024, pp: 3, tp: 8, dcp: 8, attn_tp: 1, ep: 256}\n"
       "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n"},
  };
  for (const auto& k : cases) {
    INFO(k.config);
    auto c = compile_text(fixture(k.config), k.rules);
    REQUIRE(c->layout);
    ManifestInputs listed{"config.json", "rules.yaml"};
    std::string want = reference_dump(c->manifest(listed)) + "\n";
    ManifestInputs streamed = listed;
    streamed.stream_groups = true;
    const ojson value = c->manifest(streamed);
    for (int threads : {1, 2, 3, 8}) {
      INFO("threads " << threads);
      std::string got;
      int chunks = 0;
      CHECK(write_manifest(
          value, *c->layout,
          [&](std::string_view piece) {
            got.append(piece);
            ++chunks;
            return true;
          },
          nullptr, threads));
      CHECK(got == want);
      CHECK(chunks > 1);
      // A sink that fails half way: false, and nothing more is handed to it.
      int calls = 0;
      CHECK_FALSE(write_manifest(
          value, *c->layout, [&](std::string_view) { return ++calls < 2; }, nullptr, threads));
      CHECK(calls == 2);
    }
  }
}

TEST_CASE("write_manifest passes on an exception thrown while a piece is made") {
  auto c = compile_text(fixture("fixtures/models/llama3_8b.json"),
                        "parallelism_rules:\n  axes: {tp: 8, dp: 4}\n  rules: []\n");
  REQUIRE(c->layout);
  ManifestInputs inputs{"config.json", "rules.yaml"};
  inputs.stream_groups = true;
  inputs.stream_layers = true;
  const ojson value = c->manifest(inputs);
  StreamedArray layers{40, [](std::size_t i) -> ojson {
                         if (i == 21) throw std::runtime_error("layer 21");
                         return ojson{{"i", i}};
                       }};
  for (int threads : {1, 4}) {
    INFO("threads " << threads);
    std::string got;
    std::string what;
    try {
      (void)write_manifest(
          value, *c->layout,
          [&](std::string_view piece) {
            got.append(piece);
            return true;
          },
          &layers, threads);
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    CHECK(what == "layer 21");
    // Nothing of the failing piece (layers 16 to 23) reached the sink.
    CHECK(got.find("\"i\": 16") == std::string::npos);
  }
}

TEST_CASE("Compilation::write_manifest builds the layers one at a time into the same bytes") {
  // Plans with every part the manifest has per layer: rules by name and by fallback, MLA with
  // DCP, MoE with EP, an MTP layer, per-layer memory figures and a fit against a GPU.
  const Case cases[] = {
      {"fixtures/models/llama3_8b.json",
       "parallelism_rules:\n  axes: {tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 64}\n"
       "  rules:\n    - name: narrow\n      match: {kind: attention}\n"
       "      plan: {tp_size: attn_tp, dcp_size: dcp}\n"},
      {"fixtures/models/deepseek_v3.json",
       "parallelism_rules:\n  axes: {dp: 2, pp: 2, tp: 4, dcp: 4, attn_tp: 1, ep: 4}\n"
       "  rules:\n    - match: {kind: moe}\n      plan: {ep_size: ep}\n"},
  };
  for (const auto& k : cases) {
    INFO(k.config);
    CompileRequest request;
    request.config_path = "config.json";
    request.config = make_source("config.json", fixture(k.config));
    request.rules_path = "rules.yaml";
    request.rules = make_source("rules.yaml", k.rules);
    request.fit = FitRequest{};
    request.fit->gpu_memory = std::int64_t{141} << 30;
    auto c = compile(request);
    REQUIRE(c->layout);
    REQUIRE(c->memory);
    for (bool lists : {true, false}) {
      ManifestInputs inputs{"config.json", "rules.yaml"};
      inputs.group_lists = lists;
      inputs.threads = lists ? 4 : 1;
      const ojson whole = c->manifest(inputs);
      REQUIRE(whole.at("layers").size() == c->plans.size());
      REQUIRE(whole.at("layers").at(1).contains("memory"));
      const std::string want = reference_dump(whole) + "\n";
      std::string got;
      CHECK(c->write_manifest(inputs, [&](std::string_view piece) {
        got.append(piece);
        return true;
      }));
      CHECK(got == want);
      // A sink that fails half way: false.
      int calls = 0;
      CHECK_FALSE(c->write_manifest(inputs, [&](std::string_view) { return ++calls < 2; }));
    }
  }
}
