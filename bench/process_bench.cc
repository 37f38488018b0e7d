// Whole-process figures of the built `layerplan` binary, the way a user meets them: wall time
// and CPU time (user + system; medians) and peak RSS (getrusage of the child, the largest over
// the runs) of `compile` with the manifest written at worlds of 65,536 and 1,048,576 ranks,
// `check` of every config in a folder (default ../shared/hf-configs), `layers` of all of them in
// one run, and `--version`; first the floor: programs that do nothing but start (a static one,
// a dynamic one, a C++ one printing a line with and without the shared libstdc++). Each run is
// its own process (fork + exec). On a shared machine the CPU time is the steadier figure: wall
// time also counts the waits for a core (the fastest run, "min", comes closest to an idle
// machine). Columns: median wall, fastest wall, median CPU (ms), peak RSS, manifest size, exit.
// Usage: layerplan-process-bench [repetitions] [hf-configs folder] [layerplan binary]
// (the binary defaults to the one built beside this bench; name another to compare builds)
//    or: layerplan-process-bench --run REPETITIONS LABEL PROGRAM [ARGS...]
// (one row for any command, found on PATH like a shell would: bench/peers/compare.sh times
// layerplan and a peer's script this way, side by side, with nothing else around either)
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Run {
  double ms = 0;
  double cpu_ms = 0;
  double rss_mb = 0;
  int status = -1;
};

Run run_once(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);  // or the child would write this process's buffer again
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  Run r;
  r.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  r.rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  auto ms_of = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  r.cpu_ms = ms_of(usage.ru_utime) + ms_of(usage.ru_stime);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

struct Figures {
  double median_ms = 0, min_ms = 0, median_cpu_ms = 0, rss_mb = 0;
  int status = 0;
};

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

Figures measure(const std::vector<std::string>& args, int reps) {
  std::vector<double> times, cpu;
  Figures f;
  for (int i = 0; i < reps; ++i) {
    Run r = run_once(args);
    times.push_back(r.ms);
    cpu.push_back(r.cpu_ms);
    f.rss_mb = std::max(f.rss_mb, r.rss_mb);
    f.status = std::max(f.status, r.status);
  }
  f.median_ms = median_of(times);
  f.min_ms = times.empty() ? 0 : *std::min_element(times.begin(), times.end());
  f.median_cpu_ms = median_of(cpu);
  return f;
}

void print_row(const std::string& what, const Figures& f, const std::string& manifest_mb) {
  std::printf("%-72s %8.2f %8.2f %8.2f %8.1f %12s %d\n", what.c_str(), f.median_ms, f.min_ms,
              f.median_cpu_ms, f.rss_mb, manifest_mb.c_str(), f.status);
  std::fflush(stdout);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

double file_mb(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / 1e6 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--run") {
    if (argc < 5) {
      std::fprintf(stderr,
                   "usage: layerplan-process-bench --run REPETITIONS LABEL PROGRAM [ARGS...]\n");
      return 2;
    }
    const int reps = std::max(1, std::atoi(argv[2]));
    const std::vector<std::string> args(argv + 4, argv + argc);
    const Figures f = measure(args, reps);
    print_row(argv[3], f, "-");
    return f.status == 0 ? 0 : 1;
  }
  int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  std::string configs =
      argc > 2 ? argv[2] : std::string(LAYERPLAN_SOURCE_DIR) + "/../shared/hf-configs";
  const std::string bin = argc > 3 ? argv[3] : LAYERPLAN_BINARY;
  char tmpl[] = "/tmp/layerplan-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  const std::string models = std::string(LAYERPLAN_SOURCE_DIR) + "/fixtures/models/";
  const std::string llama405 = configs + "/llama3/Meta-Llama-3.1-405B.json";

  struct Plan {
    std::string name, config, axes, rules;
  };
  const std::string llama_rules =
      "    - match: {kind: attention}\n      plan: {tp_size: attn_tp, dcp_size: dcp}\n"
      "    - match: {kind: mlp}\n      plan: {tp_size: tp}\n";
  const std::string deepseek_rules =
      "    - match: {kind: attention, attention_flavor: mla}\n      plan: {tp_size: tp, dcp_size: "
      "dcp}\n"
      "    - match: {kind: moe}\n      plan: {tp_size: tp, ep_size: ep}\n"
      "    - match: {kind: mlp}\n      plan: {tp_size: tp}\n";
  std::vector<Plan> plans = {
      {"Llama-3.1-405B tp 8 attn_tp 4 dcp 2 pp 2 dp 4096 (world 65,536)", llama405,
       "{tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 4096}", llama_rules},
      {"DeepSeek-V3 tp 8 dcp 8 pp 2 dp 4096 ep 256 (world 65,536)", models + "deepseek_v3.json",
       "{tp: 8, attn_tp: 1, dcp: 8, pp: 2, dp: 4096, ep: 256}", deepseek_rules},
      {"Llama-3.1-405B tp 8 attn_tp 4 dcp 2 pp 2 dp 65536 (world 1,048,576)", llama405,
       "{tp: 8, attn_tp: 4, dcp: 2, pp: 2, dp: 65536}", llama_rules},
  };
  std::printf("whole process, median of %d runs; peak RSS is the largest ru_maxrss of the child\n",
              reps);
  std::printf("%-72s %8s %8s %8s %8s %12s %s\n", "command", "wall ms", "min ms", "cpu ms", "RSS MB",
              "manifest MB", "exit");
  const std::string floor_dir = LAYERPLAN_FLOOR_DIR;
  for (const char* floor : {"layerplan-floor-static", "layerplan-floor-dynamic",
                            "layerplan-floor-iostream", "layerplan-floor-iostream-static"}) {
    print_row(fmt::format("floor: {}", floor), measure({floor_dir + "/" + floor}, reps), "-");
  }
  print_row("floor: /bin/true", measure({"/bin/true"}, reps), "-");
  int n = 0;
  for (const auto& p : plans) {
    std::string rules = fmt::format("{}/rules{}.yaml", dir, n);
    write(rules, "parallelism_rules:\n  axes: " + p.axes + "\n  rules:\n" + p.rules);
    // The manifest as compile writes it by default (its text made on up to 8 threads where the
    // machine has 4 or more), then on one thread, then without the group lists.
    for (const char* variant : {"all", "all, 1 thread", "none"}) {
      std::string out = fmt::format("{}/manifest{}.json", dir, n);
      std::vector<std::string> args = {bin,       "compile", "--config", p.config,
                                       "--rules", rules,     "-o",       out};
      const std::string v = variant;
      if (v == "none") {
        args.push_back("--group-lists");
        args.push_back("none");
      } else if (v != "all") {
        args.push_back("--threads");
        args.push_back("1");
      }
      Figures f = measure(args, reps);
      print_row(fmt::format("compile {} lists {}", p.name, variant), f,
                fmt::format("{:.1f}", file_mb(out)));
    }
    ++n;
  }
  std::string tp1 = dir + "/tp1.yaml";
  write(
      tp1,
      "parallelism_rules:\n  axes: {tp: 1}\n  rules:\n    - match: {}\n      plan: {tp_size: 1}\n");
  std::vector<double> check_ms, check_min, check_cpu;
  double check_rss = 0;
  int failed = 0;
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(configs, ec)) {
    if (e.path().extension() == ".json") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    Figures f =
        measure({bin, "check", "--config", path, "--rules", tp1, "--allow-unverified"}, reps);
    check_ms.push_back(f.median_ms);
    check_min.push_back(f.min_ms);
    check_cpu.push_back(f.median_cpu_ms);
    check_rss = std::max(check_rss, f.rss_mb);
    failed += f.status > 2 ? 1 : 0;
  }
  if (!check_ms.empty()) {
    Figures all;
    all.median_ms = median_of(check_ms);
    all.min_ms = median_of(check_min);
    all.median_cpu_ms = median_of(check_cpu);
    all.rss_mb = check_rss;
    all.status = failed;
    print_row(fmt::format("check of {} configs (median of medians; slowest {:.1f}); exit: crashes",
                          check_ms.size(), *std::max_element(check_ms.begin(), check_ms.end())),
              all, "-");
    print_row(fmt::format("layers of the {} configs in one run", paths.size()),
              measure({bin, "layers", configs}, reps), "-");
    print_row(fmt::format("layers --emit json of the {} configs in one run", paths.size()),
              measure({bin, "layers", "--emit", "json", configs}, reps), "-");
  }
  print_row("--version", measure({bin, "--version"}, reps), "-");
  fs::remove_all(dir, ec);
  return 0;
}
