// The rank groups vLLM would build for a manifest's axes (docs/manifest.md, "Groups";
// vllm-semantics.md §2.1-2.2), derived independently of the manifest's own lists, and the
// comparison of the two. A list that disagrees with the derivation is a membership failure.
#pragma once

#include <string>
#include <vector>

#include "smoke/manifest_view.h"

namespace layerplan::smoke {

struct DerivedSet {
  bool derivable = false;
  std::string rule;  // how the groups were derived, or why they cannot be
  std::vector<std::vector<int>> groups;
};

// vLLM's groups for the set named `name`, from view.axes (and, for ep/etp, the EP size).
[[nodiscard]] DerivedSet derive_vllm_groups(const ManifestView& view, const std::string& name);

// One disagreement. group_index is the manifest's group, or -1 for the set as a whole.
struct MembershipFinding {
  std::string set;
  int group_index = -1;
  std::vector<int> expected;  // vLLM's group (empty when the finding is about the whole set)
  std::vector<int> listed;    // the manifest's group
  std::string message;        // complete sentence, naming the set and the group
};

// Compares every group of `set` with `derived`: each manifest group must be one of vLLM's groups,
// members in the same order, and the set must have as many groups of the same size.
[[nodiscard]] std::vector<MembershipFinding> compare_with_derivation(const GroupSet& set,
                                                                     const DerivedSet& derived);

// Checks that don't need a derivation: groups of equal size, and the sizes that layer plans
// state for a set (plan.tp_size on its tp_group, ...) equal the set's group size.
[[nodiscard]] std::vector<MembershipFinding> check_set_sizes(const ManifestView& view,
                                                             const GroupSet& set);

[[nodiscard]] std::string format_ranks(const std::vector<int>& ranks);

}  // namespace layerplan::smoke
