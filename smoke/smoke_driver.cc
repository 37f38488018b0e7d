// layerplan-smoke-driver: runs the smoke test of a manifest file with the flags of
// `layerplan smoke`, without the rest of the CLI. Used by the tests and for GPU runs.
//   layerplan-smoke-driver --manifest FILE [--backend nccl|mpi] [--tokens N] [--dtype T]
//       [--timeout S] [--min-busbw GBPS] [--json FILE] [--warmup N] [--iters N]
//       [--sweep-bytes N] [--inject-hang SET] [--inject-kill SET:PROCESS]
//   layerplan-smoke-driver --features          what this build supports
//   layerplan-smoke-driver --probe-gpus N      exit 0 if N GPUs are usable here, else 77 and why
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include "smoke/gpu_backend.h"
#include "smoke/smoke.h"

namespace {

using layerplan::smoke::SmokeOptions;

int usage(const std::string& message) {
  std::cerr << "layerplan-smoke-driver: error: " << message << "\n"
            << "usage: layerplan-smoke-driver --manifest FILE [--backend nccl|mpi] [--tokens N]\n"
               "         [--dtype bfloat16|float16|float32] [--timeout S] [--min-busbw GBPS]\n"
               "         [--json FILE] [--warmup N] [--iters N] [--sweep-bytes N]\n"
               "         [--inject-hang SET] [--inject-kill SET:PROCESS]\n";
  return 2;
}

template <typename T>
bool parse_number(const std::string& text, T& into) {
  try {
    std::size_t used = 0;
    if constexpr (std::is_same_v<T, double>) {
      into = std::stod(text, &used);
    } else {
      into = static_cast<T>(std::stoll(text, &used));
    }
    return used == text.size();
  } catch (...) {
    return false;
  }
}

// A flag whose value is stored as it is.
std::function<bool(const std::string&)> store_in(std::string& into) {
  return [&into](const std::string& v) {
    into = v;
    return true;
  };
}

// A flag whose value is a number.
template <typename T>
std::function<bool(const std::string&)> number_in(T& into) {
  return [&into](const std::string& v) { return parse_number(v, into); };
}

}  // namespace

int main(int argc, char** argv) {
  SmokeOptions options;
  std::string manifest_path;
  double busbw = 0;
  const std::map<std::string, std::function<bool(const std::string&)>> flags{
      {"--manifest", store_in(manifest_path)},
      {"--backend", store_in(options.backend)},
      {"--dtype", store_in(options.dtype)},
      {"--json", store_in(options.json_path)},
      {"--inject-hang", store_in(options.inject_hang)},
      {"--inject-kill",
       [&](const std::string& v) {
         options.inject_kill = v;
         return v.find(':') != std::string::npos;
       }},
      {"--tokens", number_in(options.tokens)},
      {"--timeout", number_in(options.timeout_s)},
      {"--warmup", number_in(options.warmup)},
      {"--iters", number_in(options.iters)},
      {"--sweep-bytes", number_in(options.sweep_bytes)},
      {"--min-busbw",
       [&](const std::string& v) {
         if (!parse_number(v, busbw)) return false;
         options.min_busbw_gbps = busbw;
         return true;
       }},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--features") {
      std::cout << layerplan::smoke::smoke_features() << "\n";
      return 0;
    }
    if (arg == "--probe-gpus" && i + 1 < argc) {
      int want = 0;
      if (!parse_number(std::string(argv[i + 1]), want)) return usage("bad value for --probe-gpus");
      const auto gpus = layerplan::smoke::visible_gpus();
      if (const auto* why = std::get_if<std::string>(&gpus)) {
        std::cout << "SKIP: no GPU: " << *why << "\n";
        return 77;
      }
      const int have = std::get<int>(gpus);
      std::cout << (have >= want ? "" : "SKIP: ") << have << " GPU(s) visible, " << want
                << " wanted\n";
      return have >= want ? 0 : 77;
    }
    std::string name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto flag = flags.find(name);
    if (flag == flags.end()) return usage("unknown flag " + arg);
    if (!inline_value) {
      if (i + 1 >= argc) return usage(name + " needs a value");
      value = argv[++i];
    }
    if (!flag->second(value)) return usage("bad value for " + name + ": " + value);
  }
  if (manifest_path.empty()) return usage("--manifest FILE is required");
  std::ifstream file(manifest_path);
  if (!file) return usage("cannot read " + manifest_path);
  nlohmann::ordered_json manifest;
  try {
    manifest = nlohmann::ordered_json::parse(file);
  } catch (const nlohmann::json::parse_error& e) {
    return usage(manifest_path + ": not JSON: " + e.what());
  }
  options.manifest_label = manifest_path;
  const int code = layerplan::smoke::run_smoke(manifest, options, std::cout, std::cerr);
  std::cout.flush();
  std::cerr.flush();
  return code;
}
