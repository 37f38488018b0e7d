// GPU test of the NCCL backend in one process: good plans pass, a manifest with two ranks swapped
// fails with exit 3 naming the group, and a hung collective is aborted by the watchdog (exit 4).
// Exits 77 (CTest SKIP_RETURN_CODE) with the reason where no GPU or no libcudart/libnccl is found;
// it never passes by doing nothing.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "smoke/gpu_backend.h"
#include "smoke/smoke.h"

namespace {

using layerplan::smoke::SmokeOptions;

nlohmann::ordered_json load(const std::string& name) {
  std::ifstream f(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/manifests/" + name + ".json");
  return nlohmann::ordered_json::parse(f);
}

struct Case {
  std::string name;
  nlohmann::ordered_json manifest;
  int expect;
  std::string must_print;
  std::string inject_hang;
};

}  // namespace

int main() {
  if (!layerplan::smoke::nccl_backend_built()) {
    std::cout << "SKIP: this build has no NCCL backend (no CUDA/NCCL headers)\n";
    return 77;
  }
  const auto gpus = layerplan::smoke::visible_gpus();
  if (const auto* why = std::get_if<std::string>(&gpus)) {
    std::cout << "SKIP: no GPU for the NCCL backend: " << *why << "\n";
    return 77;
  }
  const int count = std::get<int>(gpus);
  if (count < 2) {
    std::cout << "SKIP: the NCCL test needs 2 GPUs, found " << count << "\n";
    return 77;
  }
  std::vector<Case> cases;
  cases.push_back({"good_llama8b_tp2", load("good_llama8b_tp2"), 0, "layerplan smoke: PASS", ""});
  cases.push_back({"good_llama8b_pp2", load("good_llama8b_pp2"), 0, "layerplan smoke: PASS", ""});
  // Compiled: dcp, pcp, pp and dp of one rank per group, proved by derivation only.
  cases.push_back({"good_compiled_llama8b_tp2", load("good_compiled_llama8b_tp2"), 0,
                   "membership proved by derivation only", ""});
  auto swapped2 = load("good_llama8b_tp2");
  swapped2["groups"]["tp"][0] = {1, 0};
  cases.push_back({"tp2 with ranks swapped", swapped2, 3,
                   "group set \"tp\" group 0: expected [0, 1], the manifest lists [1, 0]", ""});
  cases.push_back({"tp2, rank 0 skips the tp all-gather", load("good_llama8b_tp2"), 4,
                   "watchdog: all_gather of global ranks on group set \"tp\"", "tp"});
  if (count >= 4) {
    for (const char* name : {"good_llama8b_tp4_attn2_dcp2", "good_deepseek_v3_tp4_attn1_dcp4_ep4",
                             "good_llama8b_tp2_pp2"}) {
      cases.push_back({name, load(name), 0, "layerplan smoke: PASS", ""});
    }
    cases.push_back({"bad_dcp_swapped", load("bad_dcp_swapped"), 3,
                     "group set \"dcp\" group 0: expected [0, 1], the manifest lists [1, 0]", ""});
    // tp 2, pcp 2, dcp 2: vLLM's DCP groups span PCP first (parallel_state.py, PR #46570).
    cases.push_back({"good_compiled_deepseek_v3_tp2_pcp2_dcp2",
                     load("good_compiled_deepseek_v3_tp2_pcp2_dcp2"), 0, "layerplan smoke: PASS",
                     ""});
    cases.push_back({"bad_dcp_consecutive_with_pcp", load("bad_dcp_consecutive_with_pcp"), 3,
                     "group set \"dcp\" group 0: expected [0, 2], the manifest lists [0, 1]", ""});
  }
  int failed = 0;
  for (const Case& c : cases) {
    SmokeOptions o;
    o.manifest_label = c.name;
    o.sweep_bytes = 8 << 20;
    o.warmup = 2;
    o.iters = 5;
    o.timeout_s = c.inject_hang.empty() ? 60 : 5;
    o.inject_hang = c.inject_hang;
    std::ostringstream out, err;
    const int code = layerplan::smoke::run_smoke(c.manifest, o, out, err);
    const bool ok = code == c.expect && out.str().find(c.must_print) != std::string::npos;
    std::cout << (ok ? "ok   " : "FAIL ") << c.name << ": exit " << code << " (want " << c.expect
              << ")\n";
    if (!ok) {
      ++failed;
      std::cout << out.str() << err.str();
    }
  }
  std::cout << (failed ? "FAILED: " : "passed: ") << cases.size() - failed << " of " << cases.size()
            << " cases on " << count << " GPU(s)\n";
  return failed ? 1 : 0;
}
