// `layerplan suggest` time: DeepSeek-V3 (fixture) on 8 to 256 GPUs of an H200 (141 GiB), the
// whole enumeration checked, sized and ranked. Goal (issue 14): 64 GPUs in under 1 s.
// Usage: layerplan-suggest-bench [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "lib/suggest.h"

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  std::printf("DeepSeek-V3 (fixture), --gpu-memory 141GiB, 8 GPUs per node; best of %d\n", reps);
  std::printf("%6s %12s %8s %10s %10s\n", "gpus", "candidates", "valid", "suggested", "ms");
  for (std::int64_t gpus : {8, 16, 32, 64, 128, 256}) {
    layerplan::SuggestRequest r;
    r.config_path = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/deepseek_v3.json";
    r.gpus = gpus;
    r.fit = layerplan::FitRequest{};
    r.fit->gpu_memory = std::int64_t{141} << 30;
    double best = 1e300;
    layerplan::SuggestResult result;
    for (int i = 0; i < reps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      result = layerplan::suggest(r);
      auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::printf("%6lld %12lld %8lld %10zu %10.1f\n", static_cast<long long>(gpus),
                static_cast<long long>(result.candidates), static_cast<long long>(result.valid),
                result.suggestions.size(), best);
  }
  return 0;
}
