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
#include <cstring>
#include <memory>
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
  // Adds `piece` after the text: with a sink, hands the text so far and then the piece to it
  // (no copy); without, appends it.
  void emit(std::string_view piece) {
    if (sink_ == nullptr) {
      append(piece);
      return;
    }
    flush(/*force=*/true);
    if (ok_ && !piece.empty()) ok_ = (*sink_)(piece);
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

// Decimal text of 0..999, three digits each, zero-padded, in four bytes (so a member is copied
// with one four-byte move), and how many digits each has unpadded.
struct Thousands {
  char text[1000][4];
  unsigned char digits[1000];
};

constexpr Thousands make_thousands() {
  Thousands t{};
  for (int v = 0; v < 1000; ++v) {
    t.text[v][0] = static_cast<char>('0' + v / 100);
    t.text[v][1] = static_cast<char>('0' + v / 10 % 10);
    t.text[v][2] = static_cast<char>('0' + v % 10);
    t.text[v][3] = ' ';
    t.digits[v] = static_cast<unsigned char>(v >= 100 ? 3 : v >= 10 ? 2 : 1);
  }
  return t;
}

constexpr Thousands kThousands = make_thousands();

// Writes the decimal text of `v` (0 <= v < 10^9) at `p`, which has room for 12 bytes; returns
// the end of the text. The bytes after it up to p + 12 may be overwritten. A rank list is mostly
// this: three digits at a time from the table instead of a division per digit.
inline char* write_rank(char* p, std::uint32_t v) {
  if (v < 1000) {
    const unsigned n = kThousands.digits[v];
    std::memcpy(p, kThousands.text[v] + (3 - n), 4);
    return p + n;
  }
  const std::uint32_t high = v / 1000;
  const std::uint32_t low = v - high * 1000;
  p = write_rank(p, high);
  std::memcpy(p, kThousands.text[low], 4);
  return p + 3;
}

// The value of the top-level key "groups": every set's groups, computed from the layout and
// written in chunks of about kChunkBytes straight to the sink (or to the text, without one).
void write_group_lists(ManifestText& out, const Layout& layout) {
  constexpr std::size_t kChunkBytes = std::size_t{1} << 16;
  constexpr std::size_t kRoom = 64;  // the most one step below writes: a member, or a group's start
  constexpr std::int64_t kMaxOffsets = 4096;  // 32 KiB of offsets at most
  std::unique_ptr<char[]> chunk(new char[kChunkBytes + kRoom]);
  char* p = chunk.get();
  char* const full = chunk.get() + kChunkBytes;
  auto put = [&p](std::string_view piece) {
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  auto drain = [&] {
    out.emit(std::string_view(chunk.get(), static_cast<std::size_t>(p - chunk.get())));
    p = chunk.get();
  };
  out.push('{');
  for (std::size_t s = 0; s < layout.sets.size(); ++s) {
    const GroupSet& set = layout.sets[s];
    out.append(s ? ",\n    " : "\n    ");
    write_json_string(out, set.name);
    out.append(": [");
    const std::int64_t count = set.count();
    auto put_rank = [&p](std::int64_t rank) {
      p = rank >= 0 && rank < 1000000000 ? write_rank(p, static_cast<std::uint32_t>(rank))
                                         : std::to_chars(p, p + kRoom, rank).ptr;
    };
    const GroupStep* const one_step = set.steps.size() == 1 ? &set.steps.front() : nullptr;
    // A one-step set whose groups are its innermost digits (the product of the last sizes is
    // the group size; every vLLM set is such) has the same members in every group, shifted:
    // group g is base(g) + offsets, the base walked with an odometer over the outer digits.
    const GroupStep* step = nullptr;
    std::size_t outer = 0;
    if (one_step != nullptr && set.group_size >= 1 && set.group_size <= kMaxOffsets) {
      std::int64_t inner = 1;
      outer = one_step->sizes.size();
      while (outer > 0 && inner < set.group_size) inner *= one_step->sizes[--outer];
      if (inner == set.group_size) step = one_step;
    }
    if (step != nullptr) {
      const std::size_t n = step->sizes.size();
      std::vector<std::int64_t> offsets;
      offsets.reserve(static_cast<std::size_t>(set.group_size));
      std::vector<std::int64_t> digits(n, 0);
      std::int64_t at = 0;
      for (std::int64_t i = 0; i < set.group_size; ++i) {
        offsets.push_back(at);
        for (std::size_t k = n; k-- > outer;) {
          at += step->strides[k];
          if (++digits[k] < step->sizes[k]) break;
          at -= step->sizes[k] * step->strides[k];
          digits[k] = 0;
        }
      }
      std::int64_t base = 0;
      for (std::int64_t g = 0; g < count; ++g) {
        if (p >= full) drain();
        put(g ? ",\n      [" : "\n      [");
        put_rank(base + offsets[0]);
        for (std::size_t i = 1; i < offsets.size(); ++i) {
          if (p >= full) drain();
          std::memcpy(p, ", ", 2);
          p += 2;
          put_rank(base + offsets[i]);
        }
        *p++ = ']';
        for (std::size_t k = outer; k-- > 0;) {
          base += step->strides[k];
          if (++digits[k] < step->sizes[k]) break;
          base -= step->sizes[k] * step->strides[k];
          digits[k] = 0;
        }
      }
    } else if (one_step != nullptr) {
      // A wide group (the world set): one odometer over every digit, member by member.
      std::vector<std::int64_t> digits(one_step->sizes.size(), 0);
      std::int64_t index = 0;
      for (std::int64_t g = 0; g < count; ++g) {
        if (p >= full) drain();
        put(g ? ",\n      [" : "\n      [");
        for (std::int64_t i = 0; i < set.group_size; ++i) {
          if (p >= full) drain();
          if (i) put(", ");
          put_rank(index);
          for (std::size_t k = digits.size(); k-- > 0;) {
            index += one_step->strides[k];
            if (++digits[k] < one_step->sizes[k]) break;
            index -= one_step->sizes[k] * one_step->strides[k];
            digits[k] = 0;
          }
        }
        *p++ = ']';
      }
    } else {
      // Several steps: rank by rank from the formula.
      for (std::int64_t g = 0; g < count; ++g) {
        if (p >= full) drain();
        put(g ? ",\n      [" : "\n      [");
        for (std::int64_t i = 0; i < set.group_size; ++i) {
          if (p >= full) drain();
          if (i) put(", ");
          put_rank(set.rank(g, i));
        }
        *p++ = ']';
      }
    }
    drain();
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

bool write_manifest(const ojson& manifest, const Layout& layout, const ChunkSink& write,
                    const StreamedArray* layers) {
  ManifestText out(&write);
  auto streamed = [&](const char* key) {
    auto it = manifest.is_object() ? manifest.find(key) : manifest.end();
    return it != manifest.end() && it->is_null() ? it : manifest.end();
  };
  const auto groups = streamed("groups");
  const auto layer_list = layers != nullptr ? streamed("layers") : manifest.end();
  if (groups == manifest.end() && layer_list == manifest.end()) {
    write_json_value(out, manifest, 0);
  } else {
    // The object written as write_json_value would, with the streamed parts in their places.
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
      } else if (it == layer_list) {
        // An array of objects, as write_json_value writes one.
        if (layers->count == 0) {
          out.append("[]");
          continue;
        }
        out.append("[\n");
        for (std::size_t i = 0; i < layers->count; ++i) {
          if (i) out.append(",\n");
          out.indent(4);
          write_json_value(out, layers->element(i), 4);
        }
        out.push('\n');
        out.indent(2);
        out.push(']');
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
