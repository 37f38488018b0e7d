// Writing manifests as JSON text: dump_json and write_manifest (declared in lib/manifest.h).
//
// The text is nlohmann's dump(2) with every non-empty array of plain numbers on one line
// ("[0, 1, 2, 3]"). The structure and the integers are written here, straight into one buffer
// (std::to_chars), because a manifest at a large world is mostly integers; strings that need
// escaping and floating-point numbers are still formatted by nlohmann, so their bytes are its
// bytes. manifest_writer_test.cc checks the result against nlohmann's dump.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/manifest.h"

namespace layerplan {

namespace {

using ojson = nlohmann::ordered_json;

// The text being written, handed to a sink in chunks of about kFlushBytes when there is one.
class ManifestText {
 public:
  explicit ManifestText(const ChunkSink* sink) : sink_(sink) {}

  std::string& text() { return text_; }
  [[nodiscard]] bool ok() const { return ok_; }

  void append(std::string_view piece) { text_.append(piece.data(), piece.size()); }
  void push(char c) { text_.push_back(c); }
  void indent(int n) { text_.append(static_cast<std::size_t>(n), ' '); }
  void integer(std::int64_t v) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    text_.append(digits, end);
  }
  void unsigned_integer(std::uint64_t v) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    text_.append(digits, end);
  }
  // Hands what is written so far to the sink once it is large (or always, with `force`).
  void flush(bool force = false) {
    if (sink_ == nullptr || (!force && text_.size() < kFlushBytes)) return;
    if (ok_ && !text_.empty()) ok_ = (*sink_)(text_);
    text_.clear();
  }

 private:
  static constexpr std::size_t kFlushBytes = std::size_t{1} << 16;
  const ChunkSink* sink_;
  std::string text_;
  bool ok_ = true;
};

// A string as nlohmann writes it (ensure_ascii off, invalid UTF-8 replaced): plain printable
// ASCII is copied, anything else goes through nlohmann.
void write_json_string(ManifestText& out, const std::string& s) {
  bool plain = true;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.push('"');
    out.append(s);
    out.push('"');
    return;
  }
  out.append(ojson(s).dump(-1, ' ', false, ojson::error_handler_t::replace));
}

std::string float_text(const ojson& v) {
  return v.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

// Whether the array goes on one line: non-empty, and every element a number whose text is
// digits, '.' and '-' only (a float nlohmann writes as 1e+20 or null keeps one per line).
bool one_line_numbers(const ojson& array) {
  if (array.empty()) return false;
  for (const auto& e : array) {
    if (e.is_number_integer()) continue;
    if (!e.is_number_float()) return false;
    for (char c : float_text(e)) {
      if (!(c == '-' || c == '.' || (c >= '0' && c <= '9'))) return false;
    }
  }
  return true;
}

void write_json_number(ManifestText& out, const ojson& v) {
  if (v.is_number_unsigned()) {
    out.unsigned_integer(v.get<std::uint64_t>());
  } else if (v.is_number_integer()) {
    out.integer(v.get<std::int64_t>());
  } else {
    out.append(float_text(v));
  }
}

void write_json_value(ManifestText& out, const ojson& v, int indent) {
  switch (v.type()) {
    case ojson::value_t::object: {
      if (v.empty()) {
        out.append("{}");
        break;
      }
      out.append("{\n");
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out.append(",\n");
        first = false;
        out.indent(indent + 2);
        write_json_string(out, it.key());
        out.append(": ");
        write_json_value(out, it.value(), indent + 2);
      }
      out.push('\n');
      out.indent(indent);
      out.push('}');
      break;
    }
    case ojson::value_t::array: {
      if (v.empty()) {
        out.append("[]");
        break;
      }
      if (one_line_numbers(v)) {
        out.push('[');
        bool first = true;
        for (const auto& e : v) {
          if (!first) out.append(", ");
          first = false;
          write_json_number(out, e);
        }
        out.push(']');
        break;
      }
      out.append("[\n");
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.append(",\n");
        first = false;
        out.indent(indent + 2);
        write_json_value(out, e, indent + 2);
      }
      out.push('\n');
      out.indent(indent);
      out.push(']');
      break;
    }
    case ojson::value_t::string:
      write_json_string(out, v.get_ref<const std::string&>());
      break;
    case ojson::value_t::boolean:
      out.append(v.get<bool>() ? "true" : "false");
      break;
    case ojson::value_t::null:
      out.append("null");
      break;
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned:
    case ojson::value_t::number_float:
      write_json_number(out, v);
      break;
    default:  // binary, discarded: not in manifests; nlohmann's text
      out.append(v.dump(-1, ' ', false, ojson::error_handler_t::replace));
      break;
  }
  out.flush();
}

// The value of the top-level key "groups": every set's groups, computed from the layout.
void write_group_lists(ManifestText& out, const Layout& layout) {
  out.push('{');
  std::string& text = out.text();
  for (std::size_t s = 0; s < layout.sets.size(); ++s) {
    const GroupSet& set = layout.sets[s];
    out.append(s ? ",\n    " : "\n    ");
    write_json_string(out, set.name);
    out.append(": [");
    const std::int64_t count = set.count();
    // A one-step set is walked with an odometer over its digits; a longer one rank by rank.
    const GroupStep* step = set.steps.size() == 1 ? &set.steps.front() : nullptr;
    std::vector<std::int64_t> digits(step ? step->sizes.size() : 0, 0);
    std::int64_t index = 0;
    // Members are written through a pointer into room made for up to kMembersAtOnce of them,
    // then the text is cut to what was used, so a group of a million ranks (the `world` set)
    // never needs a buffer of its own size.
    constexpr std::int64_t kMembersAtOnce = 4096;
    constexpr std::size_t kMemberBytes = 22;  // ", " and up to 20 digits
    for (std::int64_t g = 0; g < count; ++g) {
      out.append(g ? ",\n      [" : "\n      [");
      for (std::int64_t first = 0; first < set.group_size; first += kMembersAtOnce) {
        const std::int64_t last = std::min(set.group_size, first + kMembersAtOnce);
        const std::size_t at = text.size();
        text.resize(at + static_cast<std::size_t>(last - first) * kMemberBytes + 1);
        char* p = text.data() + at;
        char* const end = text.data() + text.size();
        for (std::int64_t i = first; i < last; ++i) {
          if (i) {
            *p++ = ',';
            *p++ = ' ';
          }
          p = std::to_chars(p, end, step ? index : set.rank(g, i)).ptr;
          if (step) {
            for (std::size_t k = digits.size(); k-- > 0;) {
              index += step->strides[k];
              if (++digits[k] < step->sizes[k]) break;
              index -= step->sizes[k] * step->strides[k];
              digits[k] = 0;
            }
          }
        }
        text.resize(static_cast<std::size_t>(p - text.data()));
        out.flush();
      }
      out.push(']');
    }
    out.append(count ? "\n    ]" : "]");
  }
  out.append(layout.sets.empty() ? "}" : "\n  }");
}

}  // namespace

std::string dump_json(const ojson& value) {
  ManifestText out(nullptr);
  write_json_value(out, value, 0);
  return std::move(out.text());
}

bool write_manifest(const ojson& manifest, const Layout& layout, const ChunkSink& write) {
  ManifestText out(&write);
  auto groups = manifest.is_object() ? manifest.find("groups") : manifest.end();
  if (groups == manifest.end() || !groups->is_null()) {
    write_json_value(out, manifest, 0);
  } else {
    // The object written as write_json_value would, with the streamed lists for "groups".
    out.append("{\n");
    bool first = true;
    for (auto it = manifest.begin(); it != manifest.end(); ++it) {
      if (!first) out.append(",\n");
      first = false;
      out.indent(2);
      write_json_string(out, it.key());
      out.append(": ");
      if (it == groups) {
        write_group_lists(out, layout);
      } else {
        write_json_value(out, it.value(), 2);
      }
    }
    out.append("\n}");
  }
  out.push('\n');
  out.flush(/*force=*/true);
  return out.ok();
}

}  // namespace layerplan
