#include "lib/json_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace layerplan {
namespace {

class Parser {
 public:
  Parser(const SourcePtr& file, JsonDocument& doc, const JsonLimits& limits)
      : file_(file), text_(file->text), doc_(doc), limits_(limits) {}

  bool parse() {
    skip_space();
    if (!parse_value(doc_.value, "", 0)) return false;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected text after the end of the JSON value");
    return true;
  }

  std::string error;
  std::string error_code = "json-syntax";
  std::size_t error_pos = 0;

 private:
  bool fail(std::string message, std::string code = "json-syntax") {
    if (error.empty()) {
      error = std::move(message);
      error_code = std::move(code);
      error_pos = pos_;
    }
    return false;
  }

  Location here() const {
    auto [line, column] = file_->position_of(pos_);
    return Location{file_, line, column};
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool consume_word(std::string_view word) {
    if (text_.compare(pos_, word.size(), word) != 0) return false;
    pos_ += word.size();
    return true;
  }

  // Remembers where the value at `pointer` stands, within the limit on pointer bytes.
  bool remember(const std::string& pointer, Location location) {
    pointer_bytes_ += pointer.size();
    if (pointer_bytes_ > limits_.max_pointer_bytes) {
      return fail(fmt::format("JSON keys are too long for the number of values under them (the "
                              "paths to all values exceed {} bytes)",
                              limits_.max_pointer_bytes),
                  "json-limit");
    }
    doc_.positions[pointer] = std::move(location);
    return true;
  }

  bool parse_value(nlohmann::json& out, const std::string& pointer, int depth) {
    if (depth > limits_.max_depth) {
      return fail(fmt::format("JSON nests deeper than {} levels", limits_.max_depth), "json-limit");
    }
    if (++values_ > limits_.max_values) {
      return fail(fmt::format("JSON holds more than {} values", limits_.max_values), "json-limit");
    }
    if (pos_ >= text_.size()) return fail("unexpected end of file, expected a value");
    char c = text_[pos_];
    switch (c) {
      case '{':
        return parse_object(out, pointer, depth);
      case '[':
        return parse_array(out, pointer, depth);
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        if (consume_word("true")) {
          out = true;
          return true;
        }
        break;
      case 'f':
        if (consume_word("false")) {
          out = false;
          return true;
        }
        break;
      case 'n':
        if (consume_word("null")) {
          out = nullptr;
          return true;
        }
        break;
      case 'N':
        if (consume_word("NaN")) {
          out = std::numeric_limits<double>::quiet_NaN();
          return true;
        }
        break;
      case 'I':
        if (consume_word("Infinity")) {
          out = std::numeric_limits<double>::infinity();
          return true;
        }
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    }
    return fail("expected a JSON value (an object, array, string, number, true, false or null)");
  }

  bool parse_object(nlohmann::json& out, const std::string& pointer, int depth) {
    out = nlohmann::json::object();
    ++pos_;  // '{'
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a quoted key");
      Location key_location = here();
      std::string key;
      if (!parse_string(key)) return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected ':' after the key");
      ++pos_;
      skip_space();
      std::string child = pointer + "/" + json_pointer_escape(key);
      if (!remember(child, key_location)) return false;
      nlohmann::json value;
      if (!parse_value(value, child, depth + 1)) return false;
      out[key] = std::move(value);  // the last of duplicate keys wins, as in Python
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool parse_array(nlohmann::json& out, const std::string& pointer, int depth) {
    out = nlohmann::json::array();
    ++pos_;  // '['
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (std::size_t index = 0;; ++index) {
      skip_space();
      std::string child = fmt::format("{}/{}", pointer, index);
      if (!remember(child, here())) return false;
      nlohmann::json value;
      if (!parse_value(value, child, depth + 1)) return false;
      out.push_back(std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool parse_number(nlohmann::json& out) {
    std::size_t start = pos_;
    if (text_[pos_] == '-') {
      ++pos_;
      if (consume_word("Infinity")) {
        out = -std::numeric_limits<double>::infinity();
        return true;
      }
    }
    bool is_float = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && pos_ > start)) {
        is_float = true;
        ++pos_;
      } else {
        break;
      }
    }
    std::string token(text_.substr(start, pos_ - start));
    if (token == "-" || token.empty()) {
      pos_ = start;
      return fail("malformed number");
    }
    char* end = nullptr;
    if (!is_float) {
      errno = 0;
      if (token[0] == '-') {
        long long v = std::strtoll(token.c_str(), &end, 10);
        if (errno == 0 && *end == '\0') {
          out = static_cast<std::int64_t>(v);
          return true;
        }
      } else {
        unsigned long long v = std::strtoull(token.c_str(), &end, 10);
        if (errno == 0 && *end == '\0') {
          out = static_cast<std::uint64_t>(v);
          return true;
        }
      }
      // Integers beyond 64 bits are kept as doubles; range checks reject them later.
    }
    double v = std::strtod(token.c_str(), &end);
    if (end == nullptr || *end != '\0') {
      pos_ = start;
      return fail("malformed number");
    }
    out = v;
    return true;
  }

  static void append_utf8(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool parse_hex4(std::uint32_t& cp) {
    if (pos_ + 4 > text_.size()) return fail("truncated \\u escape");
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return fail("malformed \\u escape");
    }
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return fail("unterminated string");
      if (out.size() > limits_.max_string_bytes) {
        return fail(fmt::format("a string is longer than {} bytes", limits_.max_string_bytes),
                    "json-limit");
      }
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character inside a string");
      if (c != '\\') {
        std::size_t n = utf8_sequence_length(text_, pos_);
        if (n == 0) return fail("invalid UTF-8 byte inside a string");
        out.append(text_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) return fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!parse_hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            std::uint32_t low = 0;
            if (!consume_word("\\u") || !parse_hex4(low) || low < 0xDC00 || low >= 0xE000) {
              return fail("unpaired UTF-16 surrogate in a \\u escape");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return fail("unpaired UTF-16 surrogate in a \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          return fail("unknown escape in a string");
      }
    }
  }

  SourcePtr file_;
  std::string_view text_;
  JsonDocument& doc_;
  const JsonLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
  std::size_t pointer_bytes_ = 0;
};

}  // namespace

std::string json_pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

Location JsonDocument::locate(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    auto it = positions.find(p);
    if (it != positions.end()) return it->second;
    if (p.empty()) return Location{file, 0, 0};
    p.erase(p.rfind('/'));
  }
}

std::optional<JsonDocument> parse_json(const SourcePtr& file, Diagnostics& diags,
                                       const JsonLimits& limits) {
  JsonDocument doc;
  doc.file = file;
  doc.positions[""] = Location{file, 1, 1};
  Parser parser(file, doc, limits);
  if (!parser.parse()) {
    auto [line, column] = file->position_of(parser.error_pos);
    diags.report(make_error(parser.error_code, Location{file, line, column},
                            fmt::format("{} (in {})", parser.error, file->path)));
    return std::nullopt;
  }
  return doc;
}

}  // namespace layerplan
