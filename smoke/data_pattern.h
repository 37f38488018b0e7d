// Seeded inputs whose collective results are exactly predictable (nccl-tests "verifiable" style):
// rank r's element i is the small integer value(r, i) = ((i + 31 r + seed) mod (2m+1)) - m, with m
// small enough that every partial sum of a group is exact in the element type. Inputs depend on the
// global rank, so an all_gather or all_to_all also proves the order of the members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smoke/manifest_view.h"

namespace layerplan::smoke {

// kInt16 stands in for 2-byte floats on the MPI (CPU) backend, which has no bf16/fp16 reductions.
enum class ElementType { kBf16, kFp16, kFp32, kInt16, kInt32 };

[[nodiscard]] int element_bytes(ElementType type);
[[nodiscard]] std::string_view element_name(ElementType type);
// The manifest dtype names: "bfloat16", "float16", "float32".
[[nodiscard]] std::optional<ElementType> parse_dtype(std::string_view dtype);
// The type the MPI backend uses for a dtype of the same width.
[[nodiscard]] ElementType cpu_stand_in(ElementType type);

struct Pattern {
  int seed = 0;
  int magnitude = 1;  // m
  [[nodiscard]] int period() const { return 2 * magnitude + 1; }
  [[nodiscard]] int value(int rank, std::int64_t i) const;
};

// The pattern for a set whose groups have `group_size` ranks: sums of group_size values stay exact.
[[nodiscard]] Pattern pattern_for(int group_size, ElementType type, int seed);

// Elements each rank sends and receives for an op of nccl-tests count `count`.
[[nodiscard]] std::int64_t input_count(Op op, std::int64_t count, int group_size);
[[nodiscard]] std::int64_t output_count(Op op, std::int64_t count, int group_size);

// Fills `count` elements of rank `rank`'s input: value(rank, i).
void fill_input(std::byte* dst, std::int64_t count, int rank, const Pattern& pattern,
                ElementType type);

// Fills the output that the member at `position` of `members` must receive.
void fill_expected(std::byte* dst, Op op, std::int64_t count, const std::vector<int>& members,
                   int position, const Pattern& pattern, ElementType type);

struct Mismatch {
  std::int64_t wrong = 0;
  std::int64_t first = -1;  // index of the first wrong element
  double got = 0, expected = 0;
};

[[nodiscard]] Mismatch compare(const std::byte* got, const std::byte* expected, std::int64_t count,
                               ElementType type);

[[nodiscard]] double decode(const std::byte* element, ElementType type);
// Writes the small integer v (exact in every type for |v| <= 256).
void encode(std::byte* element, int v, ElementType type);

}  // namespace layerplan::smoke
