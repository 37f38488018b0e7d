// `layerplan smoke`: the GPU smoke run of a plan (smoke/). Takes a manifest as it is, or compiles
// one from --config and --rules first.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "base/rank.h"
#include "cli/common.h"

#ifdef LAYERPLAN_HAVE_SMOKE
#include "smoke/memory_probe.h"
#include "smoke/smoke.h"
#endif

namespace layerplan::cli {
namespace {

// The same in a build with the smoke run and in one without.
CommandHelp smoke_command_help() {
  return {
      "0  every group proven, bandwidth above --min-busbw\n"
      "1  the plan is invalid\n"
      "2  a usage error or an input that cannot be read\n"
      "3  a group's membership or data was wrong, or bandwidth below --min-busbw\n"
      "4  CUDA/NCCL error or timeout",
      "layerplan smoke --config fixtures/models/llama3_8b.json --rules "
      "fixtures/rules/good_llama8b_tpa.yaml"};
}

}  // namespace

#ifdef LAYERPLAN_HAVE_SMOKE
namespace {

struct SmokeFlags {
  InputFlags inputs;
  std::string manifest;
  smoke::SmokeOptions options;
  double min_busbw = 0;
  bool memory = false;  // allocate one rank's weights and KV blocks instead (smoke/memory_probe.h)
  int rank = 0;
  int device = 0;
};

}  // namespace

void register_smoke(CLI::App& app) {
  auto flags = std::make_shared<SmokeFlags>();
  CLI::App* sub = app.add_subcommand(
      "smoke", "prove a plan's rank groups with NCCL (or MPI) collectives and time them");
  set_command_help(*sub, smoke_command_help());
  sub->add_option("--manifest", flags->manifest, "an existing manifest, checked as it is");
  // Instead of --manifest: the plan, compiled first (the same flags as `compile`).
  add_input_flags(*sub, flags->inputs, /*with_rules=*/true);
  sub->get_option("--gpus-per-node")
      ->description("GPUs a node: the processes' hosts must match the nodes the ranks land on");
  sub->get_option("--format")->description("diagnostics format of the compile step");
  sub->add_option("--backend", flags->options.backend, "nccl (GPUs) or mpi (CPU ranks, no GPU)")
      ->check(CLI::IsMember({"nccl", "mpi"}));
  sub->add_option("--tokens", flags->options.tokens,
                  "tokens per step: message bytes = tokens x "
                  "elements per token x element size")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  sub->add_option("--dtype", flags->options.dtype, "element type (default: the model's)")
      ->check(CLI::IsMember({"bfloat16", "float16", "float32"}));
  sub->add_option("--timeout", flags->options.timeout_s,
                  "seconds before a hung collective is aborted")
      ->check(CLI::Range(0.1, 86400.0));
  sub->add_option("--min-busbw", flags->min_busbw, "fail (exit 3) below this bus bandwidth, GB/s")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--json", flags->options.json_path, "write the full report as JSON (atomically)");
  sub->add_option("--warmup", flags->options.warmup, "warm-up iterations per timing")
      ->check(CLI::Range(0, 10000));
  sub->add_option("--iters", flags->options.iters, "timed iterations per timing")
      ->check(CLI::Range(1, 100000));
  sub->add_option("--sweep-bytes", flags->options.sweep_bytes,
                  "size of the standard all_reduce/all_gather timed on every group set")
      ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 34));
  sub->add_flag("--memory", flags->memory,
                "allocate one rank's weights and KV-cache blocks as the manifest sizes them and "
                "report predicted against allocated bytes (docs/memory.md)");
  sub->add_option("--rank", flags->rank, "--memory: the global rank whose share is allocated")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_option("--device", flags->device, "--memory: the CUDA device to allocate on")
      ->check(CLI::Range(0, 1023));
  sub->callback([flags, sub] {
    bool has_manifest = !flags->manifest.empty();
    const InputFlags& in = flags->inputs;
    bool has_inputs = !in.config.empty() || !in.rules.empty() || !in.vllm_args.empty();
    bool complete =
        !in.vllm_args.empty() ? in.rules.empty() : !in.config.empty() && !in.rules.empty();
    if (has_manifest == has_inputs || (has_inputs && !complete)) {
      std::cerr << "layerplan smoke: error: give either --manifest FILE, or --config and --rules, "
                   "or --vllm-args\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (sub->count("--min-busbw") > 0) flags->options.min_busbw_gbps = flags->min_busbw;
    nlohmann::ordered_json manifest;
    if (has_manifest) {
      ReadError error;
      auto source = read_source(flags->manifest, error);
      if (!source) {
        std::cerr << "layerplan smoke: error: " << error.message << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      try {
        manifest = nlohmann::ordered_json::parse((*source)->text);
      } catch (const nlohmann::json::exception& e) {
        std::cerr << "layerplan smoke: error: " << flags->manifest
                  << " is not valid JSON: " << e.what() << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      flags->options.manifest_label = flags->manifest;
    } else {
      auto c = compile(make_request(flags->inputs));
      int code = exit_code_of(*c, in.werror);
      // Under a launcher only the first rank speaks for the compile step.
      if (is_first_rank(process_env()) || code != kExitOk) {
        std::ostringstream diags;
        report_diagnostics(*c, flags->inputs, diags, false);
        if (code != kExitOk || c->diags.count(Severity::kWarning) > 0) std::cerr << diags.str();
      }
      if (code != kExitOk || !c->layout)
        throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
      // The compact group_layout alone: the smoke run computes each set's groups from it, so no
      // JSON value of every group is built (issue 13).
      ManifestInputs inputs = manifest_inputs(flags->inputs);
      inputs.group_lists = false;
      manifest = c->manifest(inputs);
      flags->options.manifest_label = in.vllm_args.empty() ? in.rules : "--vllm-args";
    }
    if (flags->memory) {
      auto plan = smoke::memory_probe_plan(manifest, flags->rank);
      if (auto* why = std::get_if<std::string>(&plan)) {
        std::cerr << "layerplan smoke --memory: error: " << *why << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      throw CLI::RuntimeError(smoke::run_memory_probe(std::get<smoke::MemoryProbePlan>(plan),
                                                      flags->device, std::cout, std::cerr));
    }
    throw CLI::RuntimeError(smoke::run_smoke(manifest, flags->options, std::cout, std::cerr));
  });
}

#else

void register_smoke(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("smoke", "prove the plan's rank groups on GPUs (not in this build)");
  set_command_help(*sub, smoke_command_help());
  sub->allow_extras();
  sub->callback([] {
    std::cerr << "layerplan smoke: error: this build has no smoke run (the smoke/ library was not "
                 "built)\n";
    throw CLI::RuntimeError(kExitUsage);
  });
}

#endif

}  // namespace layerplan::cli
