// The source-text stage (lib/source.h, lib/yaml_source.h): reading files, positions in them,
// UTF-8 validation (RFC 3629) and the checks load_yaml makes before yaml-cpp sees the text.
#include "lib/source.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "catch.h"
#include "lib/yaml_source.h"

namespace layerplan {
namespace {

// A fresh directory under /tmp, removed with its files at the end of the test.
struct SourceTestDir {
  std::string path;
  SourceTestDir() {
    char name[] = "/tmp/layerplan_source_test_XXXXXX";
    const char* made = ::mkdtemp(name);
    if (made != nullptr) path = made;
  }
  ~SourceTestDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

bool source_contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("read_source reads a regular file whole") {
  SourceTestDir dir;
  REQUIRE_FALSE(dir.path.empty());
  std::string p = dir.write("a.yaml", "one\ntwo\n");
  ReadError error;
  auto file = read_source(p, error);
  REQUIRE(file.has_value());
  CHECK((*file)->path == p);
  CHECK((*file)->text == "one\ntwo\n");
  CHECK(error.message.empty());
}

TEST_CASE("read_source refuses a missing file, a directory and a FIFO, naming the path") {
  SourceTestDir dir;
  REQUIRE_FALSE(dir.path.empty());
  ReadError error;

  std::string missing = dir.path + "/missing.yaml";
  CHECK_FALSE(read_source(missing, error).has_value());
  CHECK(source_contains(error.message, missing));

  error = {};
  CHECK_FALSE(read_source(dir.path, error).has_value());
  CHECK(source_contains(error.message, "directory"));

  // Nobody writes to the FIFO: a blocking open would hang here for ever.
  std::string fifo = dir.path + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  error = {};
  CHECK_FALSE(read_source(fifo, error).has_value());
  CHECK(source_contains(error.message, fifo));
  CHECK(source_contains(error.message, "not a regular file"));
}

TEST_CASE("read_source refuses a file over the limit and accepts one at it") {
  SourceTestDir dir;
  REQUIRE_FALSE(dir.path.empty());
  std::string p = dir.write("big.yaml", std::string(11, 'x'));
  ReadError error;
  CHECK_FALSE(read_source(p, error, 10).has_value());
  CHECK(source_contains(error.message, "limit"));
  error = {};
  auto file = read_source(p, error, 11);
  REQUIRE(file.has_value());
  CHECK((*file)->text.size() == 11);
}

TEST_CASE("read_stream reads up to the limit") {
  std::istringstream small("abc");
  ReadError error;
  auto file = read_stream(small, "-", error, 3);
  REQUIRE(file.has_value());
  CHECK((*file)->text == "abc");
  CHECK((*file)->path == "-");

  std::istringstream big("abcd");
  error = {};
  CHECK_FALSE(read_stream(big, "-", error, 3).has_value());
  CHECK_FALSE(error.message.empty());
}

TEST_CASE("make_source splits lines; line_text and position_of are 1-based") {
  auto file = make_source("r.yaml", "ab\ncde\r\n\nlast");
  CHECK(file->path == "r.yaml");
  CHECK(file->line_starts == std::vector<std::size_t>{0, 3, 8, 9});
  CHECK(file->line_text(1) == "ab");
  CHECK(file->line_text(2) == "cde");  // the CR of a CRLF is not part of the line
  CHECK(file->line_text(3).empty());
  CHECK(file->line_text(4) == "last");
  CHECK(file->line_text(0).empty());
  CHECK(file->line_text(5).empty());

  CHECK(file->position_of(0) == std::pair<int, int>{1, 1});
  CHECK(file->position_of(1) == std::pair<int, int>{1, 2});
  CHECK(file->position_of(2) == std::pair<int, int>{1, 3});  // the newline ends line 1
  CHECK(file->position_of(3) == std::pair<int, int>{2, 1});
  CHECK(file->position_of(5) == std::pair<int, int>{2, 3});
  CHECK(file->position_of(8) == std::pair<int, int>{3, 1});
  CHECK(file->position_of(12) == std::pair<int, int>{4, 4});
}

TEST_CASE("Location prints path:line:col and the end of the token under it") {
  auto file = make_source("r.yaml", "axes: {tp: 16, pp: 2}\n");
  CHECK(Location{file, 1, 12}.to_string() == "r.yaml:1:12");
  CHECK(Location{file, 1, 0}.to_string() == "r.yaml:1");
  CHECK(Location{file, 0, 0}.to_string() == "r.yaml");
  CHECK(Location{}.to_string().empty());
  // "16" spans columns 12 and 13; endColumn is one past it.
  CHECK(Location{file, 1, 12}.end_column() == 14);
  CHECK(Location{file, 1, 0}.end_column() == 0);
}

TEST_CASE("utf8_sequence_length follows RFC 3629") {
  using namespace std::string_literals;
  CHECK(utf8_sequence_length("a", 0) == 1);
  CHECK(utf8_sequence_length("\xC3\xA9", 0) == 2);          // U+00E9
  CHECK(utf8_sequence_length("\xE2\x82\xAC", 0) == 3);      // U+20AC
  CHECK(utf8_sequence_length("\xF0\x9F\x98\x80", 0) == 4);  // U+1F600
  CHECK(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0) == 4);  // U+10FFFF, the last code point
  CHECK(utf8_sequence_length("\xC0\xAF", 0) == 0);          // overlong '/'
  CHECK(utf8_sequence_length("\xC1\xBF", 0) == 0);          // overlong
  CHECK(utf8_sequence_length("\xE0\x80\xAF", 0) == 0);      // overlong, 3 bytes
  CHECK(utf8_sequence_length("\xF0\x80\x80\xAF", 0) == 0);  // overlong, 4 bytes
  CHECK(utf8_sequence_length("\xED\xA0\x80", 0) == 0);      // U+D800, a surrogate
  CHECK(utf8_sequence_length("\xED\xBF\xBF", 0) == 0);      // U+DFFF, a surrogate
  CHECK(utf8_sequence_length("\xED\x9F\xBF", 0) == 3);      // U+D7FF, just below them
  CHECK(utf8_sequence_length("\xF4\x90\x80\x80", 0) == 0);  // U+110000
  CHECK(utf8_sequence_length("\xF5\x80\x80\x80", 0) == 0);
  CHECK(utf8_sequence_length("\x80", 0) == 0);      // a lone continuation byte
  CHECK(utf8_sequence_length("\xE2\x82", 0) == 0);  // cut short
  CHECK(utf8_sequence_length("\xFF", 0) == 0);
}

TEST_CASE("find_invalid_utf8 gives the offset of the first bad byte") {
  CHECK(find_invalid_utf8("plain ascii") == std::string_view::npos);
  CHECK(find_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC") == std::string_view::npos);
  CHECK(find_invalid_utf8("ab\xED\xA0\x80") == 2);
  CHECK(find_invalid_utf8("\xC3\xA9x\xC0\xAF") == 3);
  CHECK(find_invalid_utf8("") == std::string_view::npos);
}

// The position of the only yaml-syntax diagnostic of `diags`.
std::pair<int, int> source_yaml_syntax_at(const Diagnostics& diags) {
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].code == "yaml-syntax");
  return {diags.all()[0].location.line, diags.all()[0].location.column};
}

TEST_CASE("load_yaml reports bad UTF-8 and NUL bytes as yaml-syntax at their position") {
  using namespace std::string_literals;
  {
    Diagnostics diags;
    auto file = make_source("r.yaml", "a: 1\nb: x\xED\xA0\x80\n");
    CHECK_FALSE(load_yaml(file, diags).has_value());
    CHECK(source_yaml_syntax_at(diags) == std::pair<int, int>{2, 5});
  }
  {
    Diagnostics diags;
    auto file = make_source("r.yaml", "a: \xF4\x90\x80\x80\n");
    CHECK_FALSE(load_yaml(file, diags).has_value());
    CHECK(source_yaml_syntax_at(diags) == std::pair<int, int>{1, 4});
  }
  {
    Diagnostics diags;
    auto file = make_source("r.yaml", "a: 1\nb: 2\0\n"s);
    CHECK_FALSE(load_yaml(file, diags).has_value());
    CHECK(source_yaml_syntax_at(diags) == std::pair<int, int>{2, 5});
  }
  {
    Diagnostics diags;
    auto file = make_source("r.yaml", "a: [1, 2\n");
    CHECK_FALSE(load_yaml(file, diags).has_value());
    REQUIRE_FALSE(diags.all().empty());
    CHECK(diags.all()[0].code == "yaml-syntax");
  }
  {
    Diagnostics diags;
    auto file = make_source("r.yaml", "name: caf\xC3\xA9\n");
    auto root = load_yaml(file, diags);
    REQUIRE(root.has_value());
    CHECK(diags.all().empty());
    CHECK((*root)["name"].Scalar() == "caf\xC3\xA9");
  }
}

TEST_CASE("parse_integer takes exact decimal integers only") {
  CHECK(parse_integer("16") == std::optional<std::int64_t>{16});
  CHECK(parse_integer("0") == std::optional<std::int64_t>{0});
  CHECK_FALSE(parse_integer("1.5").has_value());
  CHECK_FALSE(parse_integer("0x10").has_value());
  CHECK_FALSE(parse_integer("").has_value());
  CHECK_FALSE(parse_integer("99999999999999999999").has_value());
}

}  // namespace
}  // namespace layerplan
