#include "lib/json_reader.h"

#include <cmath>

#include "catch.h"

namespace layerplan {
namespace {

std::optional<JsonDocument> parse(const std::string& text, Diagnostics& diags,
                                  JsonLimits limits = {}) {
  return parse_json(make_source("config.json", text), diags, limits);
}

TEST_CASE("Python's non-finite numbers, tabs and nesting are accepted") {
  Diagnostics diags;
  auto doc = parse(
      "{\n\t\"time_step_limit\": [0.0, Infinity],\n\t\"x\": -Infinity, \"y\": NaN,\n"
      "\t\"text_config\": {\"num_attention_heads\": 64}}",
      diags);
  REQUIRE(doc);
  CHECK(std::isinf(doc->value["time_step_limit"][1].get<double>()));
  CHECK(doc->value["x"].get<double>() < 0);
  CHECK(std::isnan(doc->value["y"].get<double>()));
  Location l = doc->locate("/text_config/num_attention_heads");
  CHECK(l.line == 4);
  CHECK(l.column == 18);
  CHECK(doc->locate("/time_step_limit/1").line == 2);
}

TEST_CASE("big integers, escapes and unicode") {
  Diagnostics diags;
  auto doc = parse(
      R"({"a": 18446744073709551615, "b": -9223372036854775808, "s": "\u00e9\ud83d\ude00\n"})",
      diags);
  REQUIRE(doc);
  CHECK(doc->value["a"].get<std::uint64_t>() == 18446744073709551615ull);
  CHECK(doc->value["b"].get<std::int64_t>() == INT64_MIN);
  CHECK(doc->value["s"].get<std::string>() == "\xc3\xa9\xf0\x9f\x98\x80\n");
}

TEST_CASE("syntax errors are reported at their line and column") {
  Diagnostics diags;
  CHECK_FALSE(parse("{\n  \"a\": 1,\n  \"b\" 2\n}", diags));
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].code == "json-syntax");
  CHECK(diags.all()[0].location.line == 3);
  CHECK(diags.all()[0].location.column == 7);
}

TEST_CASE("malformed documents of every kind are refused, not crashed on") {
  for (const char* text :
       {"", "{", "[1,]", "{\"a\":}", "\"unterminated", "{\"a\": tru}", "01x", "{\"a\": \"\\q\"}",
        "{\"a\": \"\\ud800\"}", "{} trailing", "-", "{\"a\":1,}"}) {
    Diagnostics diags;
    INFO(text);
    CHECK_FALSE(parse(text, diags));
    CHECK(diags.has_errors());
  }
}

TEST_CASE("invalid UTF-8 inside a string is refused") {
  Diagnostics diags;
  CHECK_FALSE(parse("{\"model_type\": \"ll\xff\"}", diags));
  CHECK(diags.all()[0].code == "json-syntax");
}

TEST_CASE("nesting and size limits stop hostile documents") {
  Diagnostics diags;
  std::string deep(200, '[');
  deep += std::string(200, ']');
  CHECK_FALSE(parse(deep, diags));
  CHECK(diags.all()[0].code == "json-limit");
  Diagnostics diags2;
  JsonLimits small;
  small.max_string_bytes = 8;
  CHECK_FALSE(parse("{\"k\": \"0123456789abcdef\"}", diags2, small));
  CHECK(diags2.all()[0].code == "json-limit");
}

}  // namespace
}  // namespace layerplan
