// What the smoke run times: each distinct (group set, op, elements per token) that the layers and
// the pipeline use, once, at tokens * elements_per_token elements, plus a standard sweep per set.
// Bandwidth follows nccl-tests (doc/PERFORMANCE.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smoke/manifest_view.h"

namespace layerplan::smoke {

struct TimedEntry {
  std::string set;
  Op op = Op::kAllReduce;
  int group_size = 0;
  std::int64_t elements_per_token = 0;  // 0 for a sweep entry
  bool sweep = false;
  std::int64_t count = 0;  // elements, nccl-tests "count" (rounded down to a multiple of the
                           // group size for all_gather, reduce_scatter and all_to_all)
  std::int64_t bytes = 0;  // count * element bytes, nccl-tests "size"
  std::vector<std::string> users;  // layer prefixes (or "pipeline") issuing it
  std::string used_by;             // short summary, e.g. "attention 0-31, mlp 0-31"
};

// busbw = algbw * bus_factor: 2(n-1)/n for all_reduce; (n-1)/n for all_gather, reduce_scatter and
// all_to_all; 1 for send_recv.
[[nodiscard]] double bus_factor(Op op, int group_size);

// Entries in set order, each set's layer entries first (in order of first use), then its sweep
// (all_reduce and all_gather of `sweep_bytes`). Sets whose groups have one rank, or unequal sizes,
// have no entries.
[[nodiscard]] std::vector<TimedEntry> plan_timings(const ManifestView& view, std::int64_t tokens,
                                                   int element_bytes, std::int64_t sweep_bytes);

// "attention 0-31, mlp 0-2, moe 3-60, pipeline" from the comm uses of one entry.
[[nodiscard]] std::string summarize_users(const std::vector<const CommUse*>& uses);

}  // namespace layerplan::smoke
