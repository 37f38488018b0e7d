#include "smoke/data_pattern.h"

#include <cmath>

#include "catch.h"

namespace layerplan::smoke {
namespace {

constexpr ElementType kTypes[] = {ElementType::kBf16, ElementType::kFp16, ElementType::kFp32,
                                  ElementType::kInt16, ElementType::kInt32};

TEST_CASE("small integers encode and decode exactly in every element type", "[smoke]") {
  for (ElementType t : kTypes) {
    for (int v : {0, 1, -1, 7, -100, 255, 256, -256}) {
      std::byte buf[4] = {};
      encode(buf, v, t);
      CHECK(decode(buf, t) == v);
    }
  }
  std::byte buf[2];
  encode(buf, 2048, ElementType::kFp16);
  CHECK(decode(buf, ElementType::kFp16) == 2048);
}

TEST_CASE("dtype names and CPU stand-ins", "[smoke]") {
  CHECK(parse_dtype("bfloat16") == ElementType::kBf16);
  CHECK(parse_dtype("float16") == ElementType::kFp16);
  CHECK(parse_dtype("float32") == ElementType::kFp32);
  CHECK_FALSE(parse_dtype("bf16"));
  CHECK(cpu_stand_in(ElementType::kBf16) == ElementType::kInt16);
  CHECK(cpu_stand_in(ElementType::kFp32) == ElementType::kFp32);
  CHECK(element_bytes(ElementType::kBf16) == 2);
  CHECK(element_name(ElementType::kInt16) == "int16");
}

TEST_CASE("patterns keep every partial sum exact", "[smoke]") {
  CHECK(pattern_for(2, ElementType::kBf16, 0).magnitude == 100);
  CHECK(pattern_for(8, ElementType::kBf16, 0).magnitude == 32);
  CHECK(pattern_for(512, ElementType::kBf16, 0).magnitude == 1);
  for (int n : {2, 3, 4, 8, 16, 64}) {
    const Pattern p = pattern_for(n, ElementType::kBf16, 5);
    CHECK(n * p.magnitude <= 256);
  }
  const Pattern p{3, 4};
  CHECK(p.period() == 9);
  CHECK(p.value(0, 0) == -1);  // (0 + 0 + 3) % 9 - 4
  CHECK(p.value(1, 0) == 3);   // (0 + 31 + 3) % 9 - 4
}

// The outputs a collective must produce, computed the slow way from every member's input.
std::vector<int> simulate(Op op, std::int64_t count, const std::vector<int>& members, int position,
                          const Pattern& p) {
  const int n = static_cast<int>(members.size());
  const std::int64_t chunk = count / n;
  std::vector<int> out;
  auto in = [&](int member, std::int64_t i) { return p.value(members[member], i); };
  switch (op) {
    case Op::kAllReduce:
      for (std::int64_t i = 0; i < count; ++i) {
        int s = 0;
        for (int m = 0; m < n; ++m) s += in(m, i);
        out.push_back(s);
      }
      break;
    case Op::kReduceScatter:
      for (std::int64_t i = 0; i < chunk; ++i) {
        int s = 0;
        for (int m = 0; m < n; ++m) s += in(m, position * chunk + i);
        out.push_back(s);
      }
      break;
    case Op::kAllGather:
      for (int m = 0; m < n; ++m)
        for (std::int64_t i = 0; i < chunk; ++i) out.push_back(in(m, i));
      break;
    case Op::kAllToAll:
      for (int m = 0; m < n; ++m)
        for (std::int64_t i = 0; i < chunk; ++i) out.push_back(in(m, position * chunk + i));
      break;
    case Op::kSendRecv:
      for (std::int64_t i = 0; i < count; ++i) out.push_back(in((position + n - 1) % n, i));
      break;
  }
  return out;
}

TEST_CASE("fill_expected matches a direct simulation of every collective", "[smoke]") {
  const std::vector<int> members{5, 2, 7};
  const Pattern p = pattern_for(3, ElementType::kBf16, 13);
  for (Op op : {Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kAllToAll, Op::kSendRecv}) {
    const std::int64_t count = 3 * 1001;  // several periods, not a multiple of one
    for (int position = 0; position < 3; ++position) {
      const auto want = simulate(op, count, members, position, p);
      REQUIRE(static_cast<std::int64_t>(want.size()) == output_count(op, count, 3));
      std::vector<std::byte> got(want.size() * 2);
      fill_expected(got.data(), op, count, members, position, p, ElementType::kBf16);
      int wrong = 0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        wrong += decode(got.data() + 2 * i, ElementType::kBf16) != want[i];
      }
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("fill_input is value(rank, i); compare counts and locates wrong elements", "[smoke]") {
  const Pattern p = pattern_for(4, ElementType::kFp32, 1);
  std::vector<std::byte> a(4 * 1000), b(4 * 1000);
  fill_input(a.data(), 1000, 3, p, ElementType::kFp32);
  for (int i : {0, 1, 63, 64, 999})
    CHECK(decode(a.data() + 4 * i, ElementType::kFp32) == p.value(3, i));
  b = a;
  CHECK(compare(a.data(), b.data(), 1000, ElementType::kFp32).wrong == 0);
  encode(b.data() + 4 * 17, 99, ElementType::kFp32);
  encode(b.data() + 4 * 500, 98, ElementType::kFp32);
  const Mismatch m = compare(b.data(), a.data(), 1000, ElementType::kFp32);
  CHECK(m.wrong == 2);
  CHECK(m.first == 17);
  CHECK(m.got == 99);
  CHECK(m.expected == p.value(3, 17));
  CHECK(input_count(Op::kAllGather, 12, 4) == 3);
  CHECK(output_count(Op::kReduceScatter, 12, 4) == 3);
  CHECK(output_count(Op::kAllToAll, 12, 4) == 12);
}

}  // namespace
}  // namespace layerplan::smoke
