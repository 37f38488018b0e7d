// Source text and positions: every input file is read once into a SourceFile, and every
// diagnostic points into one through a Location.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace layerplan {

struct SourceFile {
  std::string path;  // as the user named it
  std::string text;
  std::vector<std::size_t> line_starts;  // byte offset of each line's first character

  SourceFile(std::string path_in, std::string text_in);
  // The text of 1-based line `line`, without its newline; empty when out of range.
  [[nodiscard]] std::string_view line_text(int line) const;
  // 1-based line and column of a byte offset.
  [[nodiscard]] std::pair<int, int> position_of(std::size_t offset) const;
};

using SourcePtr = std::shared_ptr<const SourceFile>;

// A place in a source file. line 0 means "the file as a whole"; a null file means "no file".
struct Location {
  SourcePtr file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  [[nodiscard]] bool has_file() const { return file != nullptr; }
  [[nodiscard]] std::string to_string() const;  // "path:line:col", "path" or ""
  // One past the last column of the token that starts at `column` (a value, a key or a word:
  // up to a space, a comma, a bracket, a '#' or the end of the line), as SARIF's endColumn;
  // 0 when there is no column.
  [[nodiscard]] int end_column() const;
  bool operator==(const Location&) const = default;  // the same file object, line and column
};

// Width in bytes (at least 1) of the token that starts at byte `start` of `line`.
[[nodiscard]] std::size_t token_width(std::string_view line, std::size_t start);

inline constexpr std::size_t kMaxInputBytes = 16u << 20;  // 16 MiB: real configs are < 64 KiB

// Why a file could not be read.
struct ReadError {
  std::string message;
};

// Reads a regular file of at most kMaxInputBytes. Refuses directories, FIFOs, devices and
// missing files with a message that says which.
[[nodiscard]] std::optional<SourcePtr> read_source(const std::string& path, ReadError& error,
                                                   std::size_t max_bytes = kMaxInputBytes);

// Reads all of `in` (stdin) as a source named `path`, refusing more than max_bytes.
[[nodiscard]] std::optional<SourcePtr> read_stream(std::istream& in, const std::string& path,
                                                   ReadError& error,
                                                   std::size_t max_bytes = kMaxInputBytes);

// Makes a source from a string (tests, stdin).
[[nodiscard]] SourcePtr make_source(std::string path, std::string text);

// Length (1 to 4) of the well-formed UTF-8 sequence at text[pos], or 0 when the bytes there are
// not one: RFC 3629, so no overlong forms, no UTF-16 surrogates and nothing above U+10FFFF --
// exactly what nlohmann::json accepts when it serialises a string.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);
// Offset of the first byte that is not part of well-formed UTF-8, or npos when all of it is.
[[nodiscard]] std::size_t find_invalid_utf8(std::string_view text);

}  // namespace layerplan
