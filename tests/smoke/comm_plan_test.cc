#include "smoke/comm_plan.h"

#include "catch.h"

namespace layerplan::smoke {
namespace {

TEST_CASE("bus factors follow nccl-tests", "[smoke]") {
  CHECK(bus_factor(Op::kAllReduce, 4) == 1.5);
  CHECK(bus_factor(Op::kAllReduce, 2) == 1.0);
  CHECK(bus_factor(Op::kAllGather, 4) == 0.75);
  CHECK(bus_factor(Op::kReduceScatter, 8) == 0.875);
  CHECK(bus_factor(Op::kAllToAll, 2) == 0.5);
  CHECK(bus_factor(Op::kSendRecv, 2) == 1.0);
  CHECK(bus_factor(Op::kAllReduce, 1) == 0.0);
}

ManifestView view() {
  ManifestView v;
  v.world_size = 4;
  v.sets = {{"world", {{0, 1, 2, 3}}},
            {"tp", {{0, 1, 2, 3}}},
            {"dcp", {{0, 1}, {2, 3}}},
            {"pp", {{0}, {1}, {2}, {3}}}};
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    v.comms.push_back(
        {"model.layers." + n + ".self_attn", "attention", i, Op::kAllToAll, "dcp", 1023});
    v.comms.push_back(
        {"model.layers." + n + ".self_attn", "attention", i, Op::kAllReduce, "tp", 4096});
    v.comms.push_back({"model.layers." + n + ".mlp", "mlp", i, Op::kAllReduce, "tp", 4096});
  }
  v.comms.push_back({"model.layers.5.mlp", "mlp", 5, Op::kAllReduce, "tp", 4096});
  v.comms.push_back({"pipeline", "pipeline", -1, Op::kSendRecv, "pp", 4096});
  return v;
}

TEST_CASE("plan_timings deduplicates (set, op, elements) and adds a sweep per set", "[smoke]") {
  const auto entries = plan_timings(view(), 256, 2, 1 << 20);
  // world: sweep x2; tp: all_reduce + sweep x2; dcp: all_to_all + sweep x2; pp has groups of 1.
  REQUIRE(entries.size() == 8);
  CHECK(entries[0].set == "world");
  CHECK(entries[0].sweep);
  const TimedEntry& tp = entries[2];
  CHECK(tp.set == "tp");
  CHECK(tp.op == Op::kAllReduce);
  CHECK_FALSE(tp.sweep);
  CHECK(tp.count == 256 * 4096);
  CHECK(tp.bytes == 256 * 4096 * 2);
  CHECK(tp.users.size() == 7);
  CHECK(tp.used_by == "attention 0-2, mlp 0-2,5");
  const TimedEntry& dcp = entries[5];
  CHECK(dcp.set == "dcp");
  CHECK(dcp.op == Op::kAllToAll);
  CHECK(dcp.count == 256 * 1023);  // already a multiple of the group size 2
  const TimedEntry& sweep = entries[3];
  CHECK(sweep.sweep);
  CHECK(sweep.op == Op::kAllReduce);
  CHECK(sweep.bytes == 1 << 20);
  CHECK(entries[4].op == Op::kAllGather);
  for (const auto& e : entries) CHECK(e.set != "pp");
}

TEST_CASE("plan_timings rounds gather, scatter and all-to-all counts to the group size",
          "[smoke]") {
  ManifestView v;
  v.world_size = 3;
  v.sets = {{"tp", {{0, 1, 2}}}};
  v.comms.push_back({"a", "attention", 0, Op::kAllGather, "tp", 1000});
  v.comms.push_back({"a", "attention", 0, Op::kAllReduce, "tp", 1000});
  const auto entries = plan_timings(v, 1, 4, 100);
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].count == 999);
  CHECK(entries[0].bytes == 999 * 4);
  CHECK(entries[1].count == 1000);
  CHECK(entries[2].count == 25);  // sweep all_reduce: 100 B of 4-byte elements
  CHECK(entries[3].count == 24);  // sweep all_gather rounded to 3
}

TEST_CASE("summarize_users folds layer indices into ranges per kind", "[smoke]") {
  std::vector<CommUse> uses{{"x", "moe", 3, Op::kAllToAll, "ep", 1},
                            {"x", "moe", 4, Op::kAllToAll, "ep", 1},
                            {"x", "moe", 6, Op::kAllToAll, "ep", 1},
                            {"pipeline", "pipeline", -1, Op::kAllToAll, "ep", 1}};
  std::vector<const CommUse*> ptrs;
  for (const auto& u : uses) ptrs.push_back(&u);
  CHECK(summarize_users(ptrs) == "moe 3-4,6, pipeline");
}

}  // namespace
}  // namespace layerplan::smoke
