// Writing manifests as JSON text: dump_json and write_manifest (declared in lib/manifest.h).
//
// The text is nlohmann's dump(2) with every non-empty array of plain numbers on one line
// ("[0, 1, 2, 3]"). The structure and the integers are written here, straight into one buffer
// (std::to_chars), because a manifest at a large world is mostly integers; strings that need
// escaping and floating-point numbers are still formatted by nlohmann, so their bytes are its
// bytes. manifest_writer_test.cc checks the result against nlohmann's dump.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
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
  // Adds a finished piece: a large one goes to the sink as it is (no copy), a small one is
  // appended to the text so far (so small pieces do not each cost a write).
  void piece(std::string_view text) {
    if (sink_ != nullptr && text.size() >= kFlushBytes / 4) {
      emit(text);
    } else {
      append(text);
      flush();
    }
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
[[gnu::always_inline]] inline char* write_rank(char* p, std::uint32_t v) {
  auto lead = [&p](std::uint32_t part) {  // 1 to 3 digits, unpadded
    const unsigned n = kThousands.digits[part];
    std::memcpy(p, kThousands.text[part] + (3 - n), 4);
    p += n;
  };
  auto three = [&p](std::uint32_t part) {  // 3 digits, zero-padded
    std::memcpy(p, kThousands.text[part], 4);
    p += 3;
  };
  if (v < 1000) {
    lead(v);
  } else if (v < 1000000) {
    const std::uint32_t high = v / 1000;
    lead(high);
    three(v - high * 1000);
  } else {
    const std::uint32_t high = v / 1000000;
    const std::uint32_t rest = v - high * 1000000;
    const std::uint32_t mid = rest / 1000;
    lead(high);
    three(mid);
    three(rest - mid * 1000);
  }
  return p;
}

// Any rank: the table for those below 10^9, std::to_chars (up to 20 bytes) above.
[[gnu::always_inline]] inline char* write_any_rank(char* p, std::int64_t rank) {
  return rank >= 0 && rank < 1000000000 ? write_rank(p, static_cast<std::uint32_t>(rank))
                                        : std::to_chars(p, p + 24, rank).ptr;
}

// The text of one piece: a buffer that keeps its capacity from piece to piece and is written
// in place (room() hands out bytes that are not zero-filled first).
class PieceText {
 public:
  // At least `n` writable bytes after the text; the text ends where commit() says.
  char* room(std::size_t n) {
    if (size_ + n > capacity_) {
      const std::size_t capacity = std::max(size_ + n, 2 * capacity_);
      std::unique_ptr<char[]> data(new char[capacity]);
      if (size_ != 0) std::memcpy(data.get(), data_.get(), size_);
      data_ = std::move(data);
      capacity_ = capacity;
    }
    return data_.get() + size_;
  }
  void commit(const char* end) { size_ = static_cast<std::size_t>(end - data_.get()); }
  void append(std::string_view piece) {
    char* p = room(piece.size());
    if (!piece.empty()) std::memcpy(p, piece.data(), piece.size());
    size_ += piece.size();
  }
  void clear() { size_ = 0; }
  [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// A piece of the manifest's text: appends its bytes to the text it is given. Pieces are made by
// any thread, in any order, and handed to the sink in their order, so the bytes do not depend on
// the number of threads.
using PieceJob = std::function<void(PieceText& text)>;

// The workers of write_pieces: `threads` of them (fewer when no more can be started; `started`
// says whether any was), with at most 2 * threads pieces made ahead of the one being written, so
// memory does not grow with the manifest.
//
// The hand-offs are atomics (a piece takes tens of microseconds; a lock and a condition variable
// per piece cost a system call or two each, which some virtual machines make expensive): workers
// claim pieces with a counter, a slot's `done` says which piece it holds, `written` how many
// pieces the sink has, and waits spin a little before they sleep (std::atomic::wait).
void write_pieces_on_workers(ManifestText& out, const std::vector<PieceJob>& jobs, int threads,
                             bool& started) {
  const std::size_t n = jobs.size();
  using Index = std::uint32_t;  // a futex word: waits on it need no table of waiters
  if (n >= std::numeric_limits<Index>::max() / 4)
    throw std::length_error("too many manifest pieces");
  const auto window = static_cast<Index>(2 * threads);
  struct Slot {
    PieceText text;
    std::atomic<Index> done{std::numeric_limits<Index>::max()};  // the piece `text` holds
  };
  std::vector<Slot> slots(window);
  std::atomic<Index> next{0};     // the next piece a worker claims
  std::atomic<Index> written{0};  // pieces handed to the sink; raised past n to release workers
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    for (;;) {
      const Index j = next.fetch_add(1, std::memory_order_relaxed);
      if (j >= n) return;
      // Slot j % window was last used by piece j - window: free once that piece is written.
      for (Index w = written.load(std::memory_order_acquire); j >= w + window;
           w = written.load(std::memory_order_acquire)) {
        written.wait(w, std::memory_order_acquire);
      }
      Slot& slot = slots[j % window];
      // After a stop, `written` no longer guards the slot (it was raised to release the
      // workers): the piece is marked, so that nothing waits for it, and not made.
      if (!stop.load(std::memory_order_relaxed)) {
        slot.text.clear();
        try {
          jobs[j](slot.text);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
          stop.store(true, std::memory_order_relaxed);
        }
      }
      slot.done.store(j, std::memory_order_release);
      slot.done.notify_one();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had (a process or memory limit): work with those started
    }
  }
  started = !workers.empty();
  if (!started) return;
  for (Index j = 0; j < n; ++j) {
    Slot& slot = slots[j % window];
    for (Index d = slot.done.load(std::memory_order_acquire); d != j;
         d = slot.done.load(std::memory_order_acquire)) {
      slot.done.wait(d, std::memory_order_acquire);
    }
    if (stop.load(std::memory_order_relaxed)) break;
    out.piece(slot.text.view());
    if (!out.ok()) break;
    written.store(j + 1, std::memory_order_release);
    written.notify_all();
  }
  // Release every worker still waiting for a slot; they make nothing more.
  stop.store(true, std::memory_order_relaxed);
  written.store(static_cast<Index>(n) + window, std::memory_order_release);
  written.notify_all();
  for (auto& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

// Makes the pieces and hands them to `out` in order: on worker threads when `threads` > 1 (and
// any can be started), else on this thread alone. Stops early when the sink fails. An exception
// thrown by a piece is rethrown here, after the workers have stopped.
void write_pieces(ManifestText& out, const std::vector<PieceJob>& jobs, int threads) {
  const std::size_t n = jobs.size();
  if (threads > 1 && n >= 2) {
    bool started = false;
    write_pieces_on_workers(out, jobs, threads, started);
    if (started) return;
  }
  PieceText text;
  for (const auto& job : jobs) {
    text.clear();
    job(text);
    out.piece(text.view());
    if (!out.ok()) return;
  }
}

// A mixed-radix counter over the dimensions [lo, hi) of a step (the last the fastest), started
// at `position`, and the element its digits stand for: `at`, the sum of digit_k * strides[k].
class Odometer {
 public:
  Odometer(const GroupStep& step, std::size_t lo, std::size_t hi, std::int64_t position)
      : step_(step), lo_(lo), hi_(hi), digits_(hi, 0) {
    for (std::size_t k = hi; k-- > lo;) {
      digits_[k] = position % step.sizes[k];
      position /= step.sizes[k];
      at += digits_[k] * step.strides[k];
    }
  }
  void next() {
    for (std::size_t k = hi_; k-- > lo_;) {
      at += step_.strides[k];
      if (++digits_[k] < step_.sizes[k]) return;
      at -= step_.sizes[k] * step_.strides[k];
      digits_[k] = 0;
    }
  }
  std::int64_t at = 0;

 private:
  const GroupStep& step_;
  std::size_t lo_, hi_;
  std::vector<std::int64_t> digits_;
};

// How one set's members are computed, shared (read-only) by the pieces that write its groups.
struct SetWalk {
  const GroupSet* set = nullptr;
  const GroupStep* step = nullptr;  // the set's one step; null when it has several
  // A one-step set whose groups are its innermost digits (the product of the last sizes is the
  // group size; every vLLM set is such) has the same members in every group, shifted: group g
  // is base(g) + offsets, base(g) given by g's digits over the outer `outer` dimensions.
  std::size_t outer = 0;
  std::vector<std::int64_t> offsets;  // empty: not such a set (or a group too wide to tabulate)
  std::size_t rank_room = 0;          // bytes one member's text may take, ", " included
};

SetWalk set_walk(const GroupSet& set) {
  constexpr std::int64_t kMaxOffsets = 4096;  // 32 KiB of offsets at most
  SetWalk w;
  w.set = &set;
  w.step = set.steps.size() == 1 ? &set.steps.front() : nullptr;
  // The largest rank the set lists bounds its digits (several steps: not worth bounding).
  std::int64_t largest = 0;
  bool bounded = w.step != nullptr;
  for (std::size_t k = 0; bounded && k < w.step->sizes.size(); ++k) {
    bounded = w.step->strides[k] >= 0;
    largest += (w.step->sizes[k] - 1) * w.step->strides[k];
  }
  if (!bounded) largest = std::numeric_limits<std::int64_t>::max();
  char digits[24];
  w.rank_room = 2 + static_cast<std::size_t>(
                        std::to_chars(digits, digits + sizeof digits, largest).ptr - digits);
  if (w.step == nullptr || set.group_size < 1 || set.group_size > kMaxOffsets) return w;
  const GroupStep& step = *w.step;
  std::int64_t inner = 1;
  std::size_t outer = step.sizes.size();
  while (outer > 0 && inner < set.group_size) inner *= step.sizes[--outer];
  if (inner != set.group_size) return w;
  w.outer = outer;
  Odometer member(step, outer, step.sizes.size(), 0);
  w.offsets.reserve(static_cast<std::size_t>(set.group_size));
  for (std::int64_t i = 0; i < set.group_size; ++i, member.next()) w.offsets.push_back(member.at);
  return w;
}

// Appends the text of the set's members with flat index (group * group_size + member) in
// [first, last): each group opened with its line and "[", members separated by ", ", closed
// with "]". Any split of a set into ranges gives the same text as the whole.
void write_members(PieceText& text, const SetWalk& w, std::int64_t first, std::int64_t last) {
  const GroupSet& set = *w.set;
  const std::int64_t size = set.group_size;
  constexpr std::string_view kFirstOpen = "\n      [";
  constexpr std::string_view kOpen = ",\n      [";
  constexpr std::size_t kSlack = 16;  // write_rank may write past a rank's end
  const auto members = static_cast<std::size_t>(last - first);
  const std::size_t room = members * w.rank_room +
                           (members / static_cast<std::size_t>(size) + 2) * (kOpen.size() + 1) +
                           kSlack;
  char* p = text.room(room);
  auto put = [&p](std::string_view piece) {
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  std::int64_t g = first / size;
  std::int64_t i = first % size;
  std::int64_t f = first;
  if (!w.offsets.empty()) {
    Odometer base(*w.step, 0, w.outer, g);  // the group's base: its digits over the outer dims
    const std::int64_t* offsets = w.offsets.data();
    while (f < last) {
      const std::int64_t end = std::min(size, i + (last - f));
      f += end - i;
      if (i == 0) {
        if (g != 0) {
          std::memcpy(p, kOpen.data(), kOpen.size());  // a constant size: two moves
          p += kOpen.size();
        } else {
          put(kFirstOpen);
        }
        p = write_any_rank(p, base.at + offsets[0]);
        i = 1;
      }
      for (; i < end; ++i) {
        std::memcpy(p, ", ", 2);
        p += 2;
        p = write_any_rank(p, base.at + offsets[i]);
      }
      if (i < size) break;
      *p++ = ']';
      i = 0;
      ++g;
      base.next();
    }
  } else if (w.step != nullptr) {
    // A wide group (the world set): one odometer over every digit, member by member.
    Odometer member(*w.step, 0, w.step->sizes.size(), f);
    for (; f < last; ++f, member.next()) {
      put(i ? std::string_view(", ") : g ? kOpen : kFirstOpen);
      p = write_any_rank(p, member.at);
      if (++i == size) {
        *p++ = ']';
        i = 0;
        ++g;
      }
    }
  } else {
    // Several steps: rank by rank from the formula.
    for (; f < last; ++f) {
      put(i ? std::string_view(", ") : g ? kOpen : kFirstOpen);
      p = write_any_rank(p, set.rank(g, i));
      if (++i == size) {
        *p++ = ']';
        i = 0;
        ++g;
      }
    }
  }
  text.commit(p);
}

// What `write` writes, appended to `text`.
void text_of(PieceText& text, const std::function<void(ManifestText&)>& write) {
  ManifestText t(nullptr);
  write(t);
  text.append(t.text());
}

// The pieces of the value of the top-level key "groups": every set's groups, computed from the
// layout, about kPieceMembers members to a piece. `walks` holds what the pieces share.
void group_list_pieces(std::vector<PieceJob>& jobs, const Layout& layout,
                       std::vector<SetWalk>& walks) {
  constexpr std::int64_t kPieceMembers = 16384;  // about 128 KiB of text at a large world
  walks.clear();
  walks.reserve(layout.sets.size());
  for (const auto& set : layout.sets) walks.push_back(set_walk(set));
  for (std::size_t s = 0; s < layout.sets.size(); ++s) {
    const GroupSet& set = layout.sets[s];
    const std::int64_t members = set.count() * set.group_size;
    jobs.emplace_back([&set, s](PieceText& text) {
      text_of(text, [&](ManifestText& t) {
        t.append(s == 0 ? "{" : "");
        t.append(s ? ",\n    " : "\n    ");
        write_json_string(t, set.name);
        t.append(": [");
      });
    });
    for (std::int64_t first = 0; first < members; first += kPieceMembers) {
      const std::int64_t last = std::min(members, first + kPieceMembers);
      const SetWalk* w = &walks[s];
      jobs.emplace_back(
          [w, first, last](PieceText& text) { write_members(text, *w, first, last); });
    }
    jobs.emplace_back([members](PieceText& text) { text.append(members ? "\n    ]" : "]"); });
  }
  if (layout.sets.empty()) {
    jobs.emplace_back([](PieceText& text) { text.append("{}"); });
  } else {
    jobs.emplace_back([](PieceText& text) { text.append("\n  }"); });
  }
}

}  // namespace

int manifest_threads(int requested) {
  if (requested > 0) return std::min(requested, 64);
  // Below four hardware threads the workers, the thread handing pieces to the sink and the one
  // making `compile`'s table would share two cores: measured slower than one thread on a 2-core
  // machine (docs/benchmarks.md).
  const auto hardware = static_cast<int>(std::thread::hardware_concurrency());
  return hardware < 4 ? 1 : std::min(hardware, kMaxManifestThreads);
}

std::string dump_json(const ojson& value) {
  ManifestText out(nullptr);
  write_json_value(out, value, 0);
  return std::move(out.text());
}

bool write_manifest(const ojson& manifest, const Layout& layout, const ChunkSink& write,
                    const StreamedArray* layers, int threads) {
  ManifestText out(&write);
  auto streamed = [&](const char* key) {
    auto it = manifest.is_object() ? manifest.find(key) : manifest.end();
    return it != manifest.end() && it->is_null() ? it : manifest.end();
  };
  const auto groups = streamed("groups");
  const auto layer_list = layers != nullptr ? streamed("layers") : manifest.end();
  if (groups == manifest.end() && layer_list == manifest.end()) {
    write_json_value(out, manifest, 0);
    out.push('\n');
    out.flush(/*force=*/true);
    return out.ok();
  }
  // The object written as write_json_value would, with the streamed parts in their places, as
  // pieces that the workers make.
  constexpr std::size_t kLayersPerPiece = 8;
  std::vector<PieceJob> jobs;
  std::vector<SetWalk> walks;
  bool first = true;
  for (auto it = manifest.begin(); it != manifest.end(); ++it) {
    const bool is_first = first;
    first = false;
    jobs.emplace_back([it, is_first](PieceText& text) {
      text_of(text, [&](ManifestText& t) {
        t.append(is_first ? "{\n" : ",\n");
        t.indent(2);
        write_json_string(t, it.key());
        t.append(": ");
      });
    });
    if (it == groups) {
      group_list_pieces(jobs, layout, walks);
    } else if (it == layer_list) {
      // An array of objects, as write_json_value writes one.
      if (layers->count == 0) {
        jobs.emplace_back([](PieceText& text) { text.append("[]"); });
        continue;
      }
      for (std::size_t begin = 0; begin < layers->count; begin += kLayersPerPiece) {
        const std::size_t end = std::min(layers->count, begin + kLayersPerPiece);
        jobs.emplace_back([layers, begin, end](PieceText& text) {
          text_of(text, [&](ManifestText& t) {
            for (std::size_t i = begin; i < end; ++i) {
              t.append(i ? ",\n" : "[\n");
              t.indent(4);
              write_json_value(t, layers->element(i), 4);
            }
          });
        });
      }
      jobs.emplace_back([](PieceText& text) { text.append("\n  ]"); });
    } else {
      jobs.emplace_back([it](PieceText& text) {
        text_of(text, [&](ManifestText& t) { write_json_value(t, it.value(), 2); });
      });
    }
  }
  jobs.emplace_back([](PieceText& text) { text.append("\n}\n"); });
  write_pieces(out, jobs, threads);
  out.flush(/*force=*/true);
  return out.ok();
}

}  // namespace layerplan
