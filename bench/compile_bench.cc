// `check` and `compile` time and peak memory for DeepSeek-V3 at world sizes 8 to 65,536, so
// growth with the world size is visible. The manifest is written as `compile -o` writes it
// (groups streamed from their formulas) into a sink that counts its bytes. Each size runs in a
// child process (fork) so its peak RSS is its own.
// Usage: layerplan-bench [repetitions]   (run from anywhere)
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/manifest.h"
#include "lib/pipeline.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// DeepSeek-V3 on `world` ranks: tp 8 with MLA under DCP 8, dp = world / 8 replicas, and the
// 256 experts spread over up to 256 ranks (ep = min(world, 256)).
std::string rules_for(std::int64_t world) {
  std::int64_t dp = world / 8;
  return fmt::format(
      "parallelism_rules:\n  axes: {{tp: 8, attn_tp: 1, dcp: 8, dp: {}, ep: {}}}\n  rules:\n"
      "    - match: {{kind: attention, attention_flavor: mla}}\n      plan: {{tp_size: tp, "
      "dcp_size: dcp}}\n"
      "    - match: {{kind: moe}}\n      plan: {{tp_size: tp, ep_size: ep}}\n"
      "    - match: {{kind: mlp}}\n      plan: {{tp_size: tp}}\n",
      dp, std::min<std::int64_t>(world, 256));
}

struct Figures {
  double check_ms = 0, compile_ms = 0;
  std::size_t manifest_bytes = 0;
  bool ok = false;
};

Figures measure(const std::string& config, std::int64_t world, int reps) {
  Figures f;
  f.check_ms = 1e300;
  f.compile_ms = 1e300;
  for (int r = 0; r < reps; ++r) {
    layerplan::CompileRequest request;
    request.config_path = "deepseek_v3.json";
    request.config = layerplan::make_source("deepseek_v3.json", config);
    request.rules_path = "rules.yaml";
    request.rules = layerplan::make_source("rules.yaml", rules_for(world));
    auto t0 = Clock::now();
    auto c = layerplan::compile(request);  // check: parse, expand, resolve, check, lay out ranks
    auto t1 = Clock::now();
    if (!c->layout) return f;
    // The manifest as `compile -o` writes it: the group lists streamed from the layout's
    // formulas and the layers built one at a time into the sink (here: counted), never held
    // whole as a JSON value.
    const layerplan::ManifestInputs inputs{"deepseek_v3.json", "rules.yaml"};
    std::size_t bytes = 0;
    bool written = c->write_manifest(inputs, [&](std::string_view piece) {
      bytes += piece.size();
      return true;
    });
    auto t2 = Clock::now();
    if (!written) return f;
    f.check_ms = std::min(f.check_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
    f.compile_ms =
        std::min(f.compile_ms, std::chrono::duration<double, std::milli>(t2 - t0).count());
    f.manifest_bytes = bytes;
  }
  f.ok = true;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  std::string config =
      read(std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/deepseek_v3.json");
  std::vector<std::int64_t> worlds = {8, 64, 512, 4096, 16384, 65536};
  std::printf(
      "DeepSeek-V3 (61 layers + 1 MTP): tp 8, dcp 8, attn_tp 1, dp = world/8, ep = min(world, "
      "256); best of %d\n",
      reps);
  std::printf("%8s %10s %12s %14s %12s %10s\n", "world", "check ms", "compile ms", "manifest MB",
              "peak RSS MB", "x world 8");
  double base = 0;
  for (auto world : worlds) {
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      Figures f = measure(config, world, reps);
      if (::write(fds[1], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) _exit(2);
      _exit(0);
    }
    ::close(fds[1]);
    Figures f;
    ssize_t got = ::read(fds[0], &f, sizeof f);
    ::close(fds[0]);
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    if (got != static_cast<ssize_t>(sizeof f) || !f.ok) {
      std::printf("%8lld  failed\n", static_cast<long long>(world));
      continue;
    }
    if (base == 0) base = f.compile_ms;
    std::printf("%8lld %10.2f %12.2f %14.2f %12.1f %10.1f\n", static_cast<long long>(world),
                f.check_ms, f.compile_ms, static_cast<double>(f.manifest_bytes) / 1e6,
                static_cast<double>(usage.ru_maxrss) / 1024.0, f.compile_ms / base);
  }
  return 0;
}
