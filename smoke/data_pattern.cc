#include "smoke/data_pattern.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace layerplan::smoke {
namespace {

// Largest integer magnitude up to which every integer is exact.
int exact_bound(ElementType type) {
  switch (type) {
    case ElementType::kBf16:
      return 256;
    case ElementType::kFp16:
      return 2048;
    case ElementType::kFp32:
      return 1 << 24;
    case ElementType::kInt16:
      return 32767;
    case ElementType::kInt32:
      return 1 << 30;
  }
  return 1;
}

std::uint16_t half_bits(int v) {
  if (v == 0) return 0;
  const unsigned sign = v < 0 ? 0x8000u : 0u;
  unsigned a = static_cast<unsigned>(v < 0 ? -v : v);
  const int e = std::bit_width(a) - 1;  // a in [2^e, 2^(e+1))
  const unsigned mantissa = e <= 10 ? (a << (10 - e)) & 0x3ffu : (a >> (e - 10)) & 0x3ffu;
  return static_cast<std::uint16_t>(sign | static_cast<unsigned>((e + 15) << 10) | mantissa);
}

float half_value(std::uint16_t bits) {
  const int sign = bits & 0x8000 ? -1 : 1;
  const int e = (bits >> 10) & 0x1f;
  const int m = bits & 0x3ff;
  if (e == 0) return static_cast<float>(sign) * static_cast<float>(m) / 16777216.0f;  // 2^-24
  if (e == 31) {
    return static_cast<float>(sign) *
           (m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity());
  }
  return static_cast<float>(sign) * static_cast<float>(1024 + m) * std::ldexp(1.0f, e - 25);
}

void encode_value(std::byte* dst, int v, ElementType type) {
  switch (type) {
    case ElementType::kBf16: {
      const auto bits = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(float(v)) >> 16);
      std::memcpy(dst, &bits, 2);
      return;
    }
    case ElementType::kFp16: {
      const auto bits = half_bits(v);
      std::memcpy(dst, &bits, 2);
      return;
    }
    case ElementType::kFp32: {
      const float f = static_cast<float>(v);
      std::memcpy(dst, &f, 4);
      return;
    }
    case ElementType::kInt16: {
      const auto s = static_cast<std::int16_t>(v);
      std::memcpy(dst, &s, 2);
      return;
    }
    case ElementType::kInt32: {
      const std::int32_t s = v;
      std::memcpy(dst, &s, 4);
      return;
    }
  }
}

// Writes f(i) for i < min(period, count), then repeats that period to `count` elements.
template <typename F>
void fill_periodic(std::byte* dst, std::int64_t count, int period, ElementType type, F&& f) {
  const auto es = static_cast<std::size_t>(element_bytes(type));
  const std::int64_t head = std::min<std::int64_t>(period, count);
  for (std::int64_t i = 0; i < head; ++i)
    encode_value(dst + static_cast<std::size_t>(i) * es, f(i), type);
  std::int64_t filled = head;
  while (filled < count) {
    const std::int64_t n = std::min(filled, count - filled);
    std::memcpy(dst + static_cast<std::size_t>(filled) * es, dst, static_cast<std::size_t>(n) * es);
    filled += n;
  }
}

}  // namespace

int element_bytes(ElementType type) {
  return type == ElementType::kFp32 || type == ElementType::kInt32 ? 4 : 2;
}

std::string_view element_name(ElementType type) {
  switch (type) {
    case ElementType::kBf16:
      return "bfloat16";
    case ElementType::kFp16:
      return "float16";
    case ElementType::kFp32:
      return "float32";
    case ElementType::kInt16:
      return "int16";
    case ElementType::kInt32:
      return "int32";
  }
  return "?";
}

std::optional<ElementType> parse_dtype(std::string_view dtype) {
  if (dtype == "bfloat16") return ElementType::kBf16;
  if (dtype == "float16") return ElementType::kFp16;
  if (dtype == "float32") return ElementType::kFp32;
  return std::nullopt;
}

ElementType cpu_stand_in(ElementType type) {
  return element_bytes(type) == 2 ? ElementType::kInt16 : ElementType::kFp32;
}

int Pattern::value(int rank, std::int64_t i) const {
  const std::int64_t p = period();
  return static_cast<int>((i + 31 * std::int64_t{rank} + seed) % p) - magnitude;
}

Pattern pattern_for(int group_size, ElementType type, int seed) {
  const int m = std::clamp(exact_bound(type) / std::max(group_size, 1), 1, 100);
  return {seed, m};
}

std::int64_t input_count(Op op, std::int64_t count, int group_size) {
  return op == Op::kAllGather ? count / group_size : count;
}

std::int64_t output_count(Op op, std::int64_t count, int group_size) {
  return op == Op::kReduceScatter ? count / group_size : count;
}

void fill_input(std::byte* dst, std::int64_t count, int rank, const Pattern& pattern,
                ElementType type) {
  fill_periodic(dst, count, pattern.period(), type,
                [&](std::int64_t i) { return pattern.value(rank, i); });
}

void fill_expected(std::byte* dst, Op op, std::int64_t count, const std::vector<int>& members,
                   int position, const Pattern& pattern, ElementType type) {
  const int n = static_cast<int>(members.size());
  const auto es = static_cast<std::size_t>(element_bytes(type));
  const std::int64_t chunk = count / n;
  const int period = pattern.period();
  auto sum_at = [&](std::int64_t i) {
    int s = 0;
    for (int r : members) s += pattern.value(r, i);
    return s;
  };
  switch (op) {
    case Op::kAllReduce:
      fill_periodic(dst, count, period, type, sum_at);
      return;
    case Op::kReduceScatter:
      fill_periodic(dst, chunk, period, type,
                    [&](std::int64_t i) { return sum_at(position * chunk + i); });
      return;
    case Op::kAllGather:
    case Op::kAllToAll:
      for (int k = 0; k < n; ++k) {
        const int r = members[static_cast<std::size_t>(k)];
        const std::int64_t offset = op == Op::kAllToAll ? position * chunk : 0;
        fill_periodic(dst + static_cast<std::size_t>(k * chunk) * es, chunk, period, type,
                      [&](std::int64_t i) { return pattern.value(r, offset + i); });
      }
      return;
    case Op::kSendRecv: {
      const int from = members[static_cast<std::size_t>((position + n - 1) % n)];
      fill_input(dst, count, from, pattern, type);
      return;
    }
  }
}

void encode(std::byte* element, int v, ElementType type) { encode_value(element, v, type); }

double decode(const std::byte* element, ElementType type) {
  switch (type) {
    case ElementType::kBf16: {
      std::uint16_t bits;
      std::memcpy(&bits, element, 2);
      return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
    }
    case ElementType::kFp16: {
      std::uint16_t bits;
      std::memcpy(&bits, element, 2);
      return half_value(bits);
    }
    case ElementType::kFp32: {
      float f;
      std::memcpy(&f, element, 4);
      return f;
    }
    case ElementType::kInt16: {
      std::int16_t s;
      std::memcpy(&s, element, 2);
      return s;
    }
    case ElementType::kInt32: {
      std::int32_t s;
      std::memcpy(&s, element, 4);
      return s;
    }
  }
  return 0;
}

Mismatch compare(const std::byte* got, const std::byte* expected, std::int64_t count,
                 ElementType type) {
  Mismatch out;
  const auto es = static_cast<std::size_t>(element_bytes(type));
  if (std::memcmp(got, expected, static_cast<std::size_t>(count) * es) == 0) return out;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::byte* g = got + static_cast<std::size_t>(i) * es;
    const std::byte* e = expected + static_cast<std::size_t>(i) * es;
    if (std::memcmp(g, e, es) == 0) continue;
    if (out.wrong++ == 0) {
      out.first = i;
      out.got = decode(g, type);
      out.expected = decode(e, type);
    }
  }
  return out;
}

}  // namespace layerplan::smoke
