#include "smoke/expected_groups.h"

#include "catch.h"

namespace layerplan::smoke {
namespace {

using Groups = std::vector<std::vector<int>>;

ManifestView view_of(Axes a) {
  ManifestView v;
  v.axes = a;
  v.world_size = a.dp * a.pp * a.pcp * a.tp;
  return v;
}

Groups derive(const ManifestView& v, const std::string& name) {
  auto d = derive_vllm_groups(v, name);
  REQUIRE(d.derivable);
  return d.groups;
}

// vllm-semantics.md §2.3, worked examples.
TEST_CASE("derivation: A. tp=16 attn_tp=4 dcp=4", "[smoke]") {
  const auto v = view_of({16, 4, 4, 1, 1, 1, 0});
  CHECK(derive(v, "dcp") == Groups{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}});
  CHECK(derive(v, "attn_tp") ==
        Groups{{0, 4, 8, 12}, {1, 5, 9, 13}, {2, 6, 10, 14}, {3, 7, 11, 15}});
  CHECK(derive(v, "ep") == Groups{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}});
}

TEST_CASE("derivation: B. tp=8 attn_tp=4 dcp=2", "[smoke]") {
  const auto v = view_of({8, 4, 2, 1, 1, 1, 0});
  CHECK(derive(v, "dcp") == Groups{{0, 1}, {2, 3}, {4, 5}, {6, 7}});
  CHECK(derive(v, "attn_tp") == Groups{{0, 2, 4, 6}, {1, 3, 5, 7}});
  CHECK(derive(v, "tp_sub2") == Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}});
}

TEST_CASE("derivation: C. dp=2 pp=2 tp=4 dcp=2 attn_tp=2", "[smoke]") {
  const auto v = view_of({4, 2, 2, 1, 2, 2, 0});
  CHECK(derive(v, "tp") == Groups{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}});
  CHECK(derive(v, "pp") ==
        Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}, {8, 12}, {9, 13}, {10, 14}, {11, 15}});
  // Same groups as vLLM's DP list, in (p, c, t) order rather than (t, p, c).
  CHECK(derive(v, "dp") ==
        Groups{{0, 8}, {1, 9}, {2, 10}, {3, 11}, {4, 12}, {5, 13}, {6, 14}, {7, 15}});
  CHECK(derive(v, "ep") == Groups{{0, 1, 2, 3, 8, 9, 10, 11}, {4, 5, 6, 7, 12, 13, 14, 15}});
}

TEST_CASE("derivation: D. pcp=2 tp=4", "[smoke]") {
  const auto v = view_of({4, 4, 1, 2, 1, 1, 0});
  CHECK(derive(v, "tp") == Groups{{0, 1, 2, 3}, {4, 5, 6, 7}});
  CHECK(derive(v, "pcp") == Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}});
  CHECK(derive(v, "world") == Groups{{0, 1, 2, 3, 4, 5, 6, 7}});
}

TEST_CASE("derivation: ep is vLLM's EP group over dp*pcp*tp whatever axes.ep says; ep<k> by name",
          "[smoke]") {
  // parallel_state.py::initialize_model_parallel: all_ranks.transpose(1, 2).reshape(-1,
  // dp*pcp*tp), built for every MoE model.
  auto v = view_of({8, 8, 1, 1, 1, 1, 4});
  CHECK(derive(v, "ep") == Groups{{0, 1, 2, 3, 4, 5, 6, 7}});
  CHECK(derive(v, "etp") == Groups{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}});
  CHECK(derive(v, "ep4") == Groups{{0, 1, 2, 3}, {4, 5, 6, 7}});
  CHECK(derive(v, "etp4") == Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}});
  CHECK(derive(v, "ep2") == Groups{{0, 1}, {2, 3}, {4, 5}, {6, 7}});
  CHECK(derive(v, "etp2") == Groups{{0, 2, 4, 6}, {1, 3, 5, 7}});
  CHECK_FALSE(derive_vllm_groups(v, "ep3").derivable);
}

// parallel_state.py::initialize_model_parallel since PR #46570: dcp_ranks =
// all_ranks.transpose(-1, -2).reshape(-1, dcp), "DCP spans PCP first, then TP".
TEST_CASE("derivation: DCP with pcp > 1 walks pcp fastest, then tp", "[smoke]") {
  // tp, attn_tp, dcp, pcp, pp, dp, ep
  CHECK(derive(view_of({4, 4, 2, 2, 1, 1, 0}), "dcp") == Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}});
  CHECK(derive(view_of({4, 4, 8, 2, 1, 1, 0}), "dcp") == Groups{{0, 4, 1, 5, 2, 6, 3, 7}});
  CHECK(derive(view_of({2, 2, 2, 2, 1, 1, 0}), "dcp") == Groups{{0, 2}, {1, 3}});
  // pcp = 1: consecutive chunks, as before; dcp = 1: one rank per group, in rank order.
  CHECK(derive(view_of({4, 4, 2, 1, 1, 1, 0}), "dcp") == Groups{{0, 1}, {2, 3}});
  CHECK(derive(view_of({2, 2, 1, 2, 1, 1, 0}), "dcp") == Groups{{0}, {1}, {2}, {3}});
}

TEST_CASE("sets of one rank per group are derived too: pcp, pp, dp, dcp at 1", "[smoke]") {
  const auto v = view_of({2, 2, 1, 1, 1, 1, 0});
  CHECK(derive(v, "pcp") == Groups{{0}, {1}});
  CHECK(derive(v, "pp") == Groups{{0}, {1}});
  CHECK(derive(v, "dp") == Groups{{0}, {1}});
  CHECK(derive(v, "dcp") == Groups{{0}, {1}});
  CHECK(derive(v, "ep") == Groups{{0, 1}});
  // A set of singletons that partitions the world always matches; a wrong size does not.
  CHECK(compare_with_derivation(GroupSet{"pcp", {{1}, {0}}}, derive_vllm_groups(v, "pcp")).empty());
  CHECK(compare_with_derivation(GroupSet{"pcp", {{0, 1}}}, derive_vllm_groups(v, "pcp")).size() ==
        1);
  // A rank outside the derivation (read_manifest refuses it first) is a finding, not a crash.
  CHECK(compare_with_derivation(GroupSet{"pcp", {{0}, {5}}}, derive_vllm_groups(v, "pcp")).size() ==
        1);
}

TEST_CASE("check_set_sizes: a MoE layer without EP (ep_size 1) may name vLLM's ep group",
          "[smoke]") {
  auto v = view_of({2, 2, 1, 1, 1, 1, 0});
  v.plan_sizes.push_back({"model.layers.3.mlp", "ep_size", "ep", 1});
  GroupSet ep{"ep", {{0, 1}}};
  CHECK(check_set_sizes(v, ep).empty());
  v.plan_sizes.push_back({"model.layers.4.mlp", "ep_size", "ep", 4});
  CHECK(check_set_sizes(v, ep).size() == 1);
}

TEST_CASE("unknown group sets are not derivable and raise no finding", "[smoke]") {
  const auto v = view_of({4, 4, 1, 1, 1, 1, 0});
  const auto d = derive_vllm_groups(v, "kvp");
  CHECK_FALSE(d.derivable);
  CHECK(d.rule.find("no vLLM derivation") != std::string::npos);
  CHECK(compare_with_derivation({"kvp", {{1, 0, 2, 3}}}, d).empty());
}

TEST_CASE("compare_with_derivation names the set, the group, expected and listed order",
          "[smoke]") {
  const auto v = view_of({4, 2, 2, 1, 1, 1, 0});
  const auto d = derive_vllm_groups(v, "dcp");
  CHECK(compare_with_derivation({"dcp", {{0, 1}, {2, 3}}}, d).empty());
  CHECK(compare_with_derivation({"dcp", {{2, 3}, {0, 1}}}, d).empty());  // group order is free

  auto swapped = compare_with_derivation({"dcp", {{1, 0}, {2, 3}}}, d);
  REQUIRE(swapped.size() == 1);
  CHECK(swapped[0].group_index == 0);
  CHECK(swapped[0].expected == std::vector<int>{0, 1});
  CHECK(swapped[0].listed == std::vector<int>{1, 0});
  CHECK(swapped[0].message.rfind(
            "group set \"dcp\" group 0: expected [0, 1], the manifest lists [1, 0] (same ranks "
            "in another order",
            0) == 0);

  auto strided = compare_with_derivation({"dcp", {{0, 2}, {1, 3}}}, d);
  REQUIRE(strided.size() == 2);
  CHECK(strided[1].message.find("group 1: expected [0, 1], the manifest lists [1, 3] "
                                "(different ranks") != std::string::npos);

  auto shape = compare_with_derivation({"dcp", {{0, 1, 2, 3}}}, d);
  REQUIRE(shape.size() == 1);
  CHECK(shape[0].group_index == -1);
  CHECK(shape[0].message.find("lists 1 group(s) of 4, expected 2 group(s) of 2") !=
        std::string::npos);
}

TEST_CASE("check_set_sizes: unequal groups and plan sizes that disagree", "[smoke]") {
  auto v = view_of({4, 2, 2, 1, 1, 1, 0});
  auto unequal = check_set_sizes(v, {"dcp", {{0, 1, 2}, {3}}});
  REQUIRE(unequal.size() == 1);
  CHECK(unequal[0].message ==
        "group set \"dcp\": groups of unequal sizes (3, 1); every group of "
        "a set must have the same size");
  v.plan_sizes.push_back({"model.layers.0.self_attn", "dcp_size", "dcp", 4});
  v.plan_sizes.push_back({"model.layers.1.self_attn", "dcp_size", "dcp", 4});
  auto plan = check_set_sizes(v, {"dcp", {{0, 1}, {2, 3}}});
  REQUIRE(plan.size() == 1);  // reported once
  CHECK(plan[0].message.find("model.layers.0.self_attn plans dcp_size = 4") != std::string::npos);
}

}  // namespace
}  // namespace layerplan::smoke
