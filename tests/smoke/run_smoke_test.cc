#include <cstdio>
#include <fstream>
#include <sstream>

#include "catch.h"
#include "smoke/gpu_backend.h"
#include "smoke/smoke.h"

namespace layerplan::smoke {
namespace {

const char* kOneRank = R"({
  "world_size": 1,
  "model": {"architecture": "LlamaForCausalLM", "dtype": "bfloat16"},
  "axes": {"tp": 1, "attn_tp": 1, "dcp": 1, "pcp": 1, "pp": 1, "dp": 1},
  "groups": {"dp": [[0]], "tp": [[0]], "world": [[0]], "pp": [[0]]},
  "layers": [],
  "pipeline": {"stages": [], "comms": []}
})";

struct Output {
  int code;
  std::string out, err;
};

template <typename J>
Output smoke(const J& manifest, const SmokeOptions& options) {
  std::ostringstream out, err;
  const int code = run_smoke(manifest, options, out, err);
  return {code, out.str(), err.str()};
}

TEST_CASE("run_smoke: bad options are usage errors, all reported", "[smoke]") {
  SmokeOptions o;
  o.backend = "gloo";
  o.iters = 0;
  o.timeout_s = 0;
  o.dtype = "fp8";
  const auto r = smoke(nlohmann::json::parse(kOneRank), o);
  CHECK(r.code == kExitUsage);
  CHECK(r.err.find("--backend must be nccl or mpi, got \"gloo\"") != std::string::npos);
  CHECK(r.err.find("--iters must be at least 1") != std::string::npos);
  CHECK(r.err.find("--timeout must be positive") != std::string::npos);
  CHECK(r.err.find("--dtype must be bfloat16, float16 or float32, got \"fp8\"") !=
        std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("run_smoke: a malformed manifest is exit 2, never a crash", "[smoke]") {
  for (const char* text : {"[]", "{}", R"({"world_size": "four"})", "null",
                           R"({"world_size": 2, "groups": {"tp": [[0, 0]]}})"}) {
    INFO(text);
    const auto r = smoke(nlohmann::ordered_json::parse(text), SmokeOptions{});
    CHECK(r.code == kExitUsage);
    CHECK(r.err.find("layerplan smoke: error: manifest") != std::string::npos);
  }
  auto j = nlohmann::ordered_json::parse(kOneRank);
  j["model"].erase("dtype");
  const auto r = smoke(j, SmokeOptions{});
  CHECK(r.code == kExitUsage);
  CHECK(r.err.find("/model/dtype is missing; pass --dtype") != std::string::npos);
}

TEST_CASE("run_smoke: the mpi backend without a launcher needs world_size 1", "[smoke]") {
  auto j = nlohmann::ordered_json::parse(kOneRank);
  j["world_size"] = 2;
  j["axes"]["dp"] = 2;
  j["groups"] = nlohmann::ordered_json::parse(R"({"world": [[0, 1]], "dp": [[0, 1]]})");
  SmokeOptions o;
  o.backend = "mpi";
  const auto r = smoke(j, o);
  CHECK(r.code == kExitUsage);
  CHECK(r.err.find("mpirun -np 2") != std::string::npos);
}

TEST_CASE("run_smoke: nlohmann::json input is visited in vLLM's set order; JSON report",
          "[smoke]") {
  const std::string path = "run_smoke_test_report.json";
  SmokeOptions o;
  o.json_path = path;
  o.sweep_bytes = 1 << 16;
  const auto r = smoke(nlohmann::json::parse(kOneRank), o);  // keys now dp, pp, tp, world
  const auto world = r.out.find("group set \"world\"");
  const auto tp = r.out.find("group set \"tp\"");
  const auto pp = r.out.find("group set \"pp\"");
  const auto dp = r.out.find("group set \"dp\"");
  CHECK(world < tp);
  CHECK(tp < pp);
  CHECK(pp < dp);
  CHECK(dp != std::string::npos);
  std::ifstream f(path);
  REQUIRE(f);
  const auto report = nlohmann::json::parse(f);
  std::remove(path.c_str());
  CHECK(report["exit_code"] == r.code);
  CHECK(report["group_sets"].size() == 4);
  if (std::holds_alternative<std::string>(visible_gpus())) {
    // No GPU here: the NCCL backend fails cleanly with exit 4 and says why.
    CHECK(r.code == kExitSmokeError);
    CHECK(r.out.find("the nccl backend cannot run here") != std::string::npos);
    CHECK(r.out.find("layerplan smoke: FAIL (runtime error)") != std::string::npos);
  } else {
    CHECK(r.code == kExitOk);
    CHECK(r.out.find("layerplan smoke: PASS") != std::string::npos);
  }
}

TEST_CASE("smoke_features names both backends", "[smoke]") {
  const std::string f = smoke_features();
  CHECK(f.find("nccl") != std::string::npos);
  CHECK(f.find("mpi") != std::string::npos);
}

}  // namespace
}  // namespace layerplan::smoke
