#include "lib/arch_codec.h"

#include <array>
#include <cstdint>
#include <map>

namespace layerplan {

namespace {

// Unsigned integers as LEB128, signed ones zigzagged first, strings as a length and the bytes.
class Writer {
 public:
  explicit Writer(const SourcePtr& source) : source_(source) {}
  std::string out;
  bool ok = true;

  void u(std::uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
  void i(std::int64_t v) {
    u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void s(const std::string& v) {
    u(v.size());
    out.append(v);
  }
  void strings(const std::vector<std::string>& v) {
    u(v.size());
    for (const auto& e : v) s(e);
  }
  void lists(const std::map<std::string, std::vector<std::string>, std::less<>>& m) {
    u(m.size());
    for (const auto& [k, v] : m) {
      s(k);
      strings(v);
    }
  }
  void location(const Location& l) {
    if (l.file != nullptr && l.file != source_) ok = false;
    u(l.file != nullptr ? 1 : 0);
    i(l.line);
    i(l.column);
  }
  void source(const LayerSource& x) {
    u(static_cast<std::uint64_t>(x.encoding));
    s(x.field);
    s(x.offset_field);
    u(x.values.size());
    for (const auto& [k, v] : x.values) {
      s(k);
      u(static_cast<std::uint64_t>(v));
    }
    u(static_cast<std::uint64_t>(x.value));
    u(static_cast<std::uint64_t>(x.match));
    u(static_cast<std::uint64_t>(x.other));
    location(x.location);
  }
  void sources(const std::vector<LayerSource>& v) {
    u(v.size());
    for (const auto& e : v) source(e);
  }
  void fact(const WeightFact& f) {
    u(f.value ? 1 : 0);
    s(f.field);
    s(f.equals);
  }

 private:
  const SourcePtr& source_;
};

class Reader {
 public:
  Reader(std::string_view data, const SourcePtr& source) : data_(data), source_(source) {}
  bool ok = true;
  [[nodiscard]] bool done() const { return at_ == data_.size(); }

  std::uint64_t u() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= data_.size()) break;
      const auto byte = static_cast<unsigned char>(data_[at_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  std::int64_t i() {
    const std::uint64_t z = u();
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  int small() { return static_cast<int>(i()); }
  bool b() { return u() != 0; }
  std::string s() {
    const std::uint64_t n = u();
    if (n > data_.size() - at_) {
      ok = false;
      return {};
    }
    std::string v(data_.substr(at_, n));
    at_ += n;
    return v;
  }
  std::size_t count() {
    const std::uint64_t n = u();
    if (n > data_.size() - at_) {  // every element takes at least a byte
      ok = false;
      return 0;
    }
    return n;
  }
  std::vector<std::string> strings() {
    std::vector<std::string> v(count());
    for (auto& e : v) e = s();
    return v;
  }
  std::map<std::string, std::vector<std::string>, std::less<>> lists() {
    std::map<std::string, std::vector<std::string>, std::less<>> m;
    for (std::size_t n = count(); n > 0 && ok; --n) {
      std::string k = s();
      m[std::move(k)] = strings();
    }
    return m;
  }
  template <typename Enum>
  Enum e(Enum last) {
    const std::uint64_t v = u();
    if (v > static_cast<std::uint64_t>(last)) ok = false;
    return static_cast<Enum>(ok ? v : 0);
  }
  Location location() {
    Location l;
    if (b()) l.file = source_;
    l.line = small();
    l.column = small();
    return l;
  }
  LayerSource source() {
    LayerSource x;
    x.encoding = e(Encoding::kFirstKDense);
    x.field = s();
    x.offset_field = s();
    for (std::size_t n = count(); n > 0 && ok; --n) {
      std::string k = s();
      x.values[std::move(k)] = e(Part::kMoe);
    }
    x.value = e(Part::kMoe);
    x.match = e(Part::kMoe);
    x.other = e(Part::kMoe);
    x.location = location();
    return x;
  }
  std::vector<LayerSource> sources() {
    std::vector<LayerSource> v(count());
    for (auto& e : v) e = source();
    return v;
  }
  WeightFact fact() {
    WeightFact f;
    f.value = b();
    f.field = s();
    f.equals = s();
    return f;
  }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
  const SourcePtr& source_;
};

// One list of a declaration's weight facts, in a fixed order, for both directions.
template <typename Facts>
auto weight_fields(Facts& w) {
  return std::array{&w.o_bias,     &w.qk_norm,           &w.qk_norm_full, &w.gated_q,
                    &w.sinks,      &w.gated_mlp,         &w.router_bias,  &w.expert_bias,
                    &w.score_bias, &w.shared_expert_gate};
}

template <typename P>
auto prefix_fields(P& p) {
  return std::array{&p.embedding,        &p.layer,   &p.attention, &p.mlp, &p.moe, &p.mamba,
                    &p.linear_attention, &p.indexer, &p.lm_head};
}

}  // namespace

std::optional<std::string> encode_arch_decls(const std::vector<ArchDecl>& decls,
                                             const SourcePtr& source) {
  Writer w(source);
  w.u(decls.size());
  for (const ArchDecl& d : decls) {
    w.s(d.source);
    w.s(d.family);
    w.lists(d.verified_by);
    w.u(d.verified_all ? 1 : 0);
    w.strings(d.architectures);
    w.strings(d.model_types);
    w.lists(d.aliases);
    for (const std::string* p : prefix_fields(d.prefixes)) w.s(*p);
    w.sources(d.mixer);
    w.sources(d.ffn);
    w.u(d.mtp ? 1 : 0);
    if (d.mtp) {
      const MtpDecl& m = *d.mtp;
      w.s(m.count_field);
      w.u(m.count ? 1 : 0);
      if (m.count) w.i(*m.count);
      w.s(m.layer);
      w.s(m.head);
      w.s(m.embedding);
      w.s(m.lm_head);
      w.sources(m.mixer);
      w.sources(m.ffn);
      w.location(m.location);
    }
    w.s(d.indexer_field);
    w.u(static_cast<std::uint64_t>(d.mamba));
    w.i(d.moe_min_experts);
    w.u(d.ignored.size());
    for (const IgnoredSource& ig : d.ignored) {
      w.u(ig.mixer ? 1 : 0);
      w.source(ig.source);
      w.s(ig.why);
      w.location(ig.location);
    }
    w.u(d.tp_limited_by_experts ? 1 : 0);
    w.u(d.mlp_divides_world ? 1 : 0);
    for (const WeightFact* f : weight_fields(d.weights)) w.fact(*f);
  }
  if (!w.ok) return std::nullopt;
  return std::move(w.out);
}

std::optional<std::vector<ArchDecl>> decode_arch_decls(std::string_view data,
                                                       const SourcePtr& source) {
  Reader r(data, source);
  std::vector<ArchDecl> decls(r.count());
  for (ArchDecl& d : decls) {
    d.source = r.s();
    d.family = r.s();
    d.verified_by = r.lists();
    d.verified_all = r.b();
    d.architectures = r.strings();
    d.model_types = r.strings();
    d.aliases = r.lists();
    for (std::string* p : prefix_fields(d.prefixes)) *p = r.s();
    d.mixer = r.sources();
    d.ffn = r.sources();
    if (r.b()) {
      MtpDecl& m = d.mtp.emplace();
      m.count_field = r.s();
      if (r.b()) m.count = r.small();
      m.layer = r.s();
      m.head = r.s();
      m.embedding = r.s();
      m.lm_head = r.s();
      m.mixer = r.sources();
      m.ffn = r.sources();
      m.location = r.location();
    }
    d.indexer_field = r.s();
    d.mamba = r.e(MambaVersion::kMamba2);
    d.moe_min_experts = r.small();
    d.ignored.resize(r.count());
    for (IgnoredSource& ig : d.ignored) {
      ig.mixer = r.b();
      ig.source = r.source();
      ig.why = r.s();
      ig.location = r.location();
    }
    d.tp_limited_by_experts = r.b();
    d.mlp_divides_world = r.b();
    for (WeightFact* f : weight_fields(d.weights)) *f = r.fact();
    if (!r.ok) return std::nullopt;
  }
  if (!r.ok || !r.done()) return std::nullopt;
  return decls;
}

}  // namespace layerplan
