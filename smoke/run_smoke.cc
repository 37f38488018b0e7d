// run_smoke: validate options and manifest, check the manifest's lists against vLLM's layout,
// launch (one process for every local GPU, or one rank per MPI process), run the device session,
// gather every rank's observations at rank 0, report, and agree on the exit code.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <thread>

#include "base/atomic_write.h"
#include "smoke/comm_plan.h"
#include "smoke/expected_groups.h"
#include "smoke/gpu_backend.h"
#include "smoke/launch.h"
#include "smoke/mpi_backend.h"
#include "smoke/report.h"
#include "smoke/session.h"
#include "smoke/smoke.h"

namespace layerplan::smoke {
namespace {

std::vector<std::string> option_errors(const SmokeOptions& o) {
  std::vector<std::string> out;
  if (o.backend != "nccl" && o.backend != "mpi") {
    out.push_back("--backend must be nccl or mpi, got \"" + o.backend + "\"");
  }
  if (o.tokens < 1) out.push_back("--tokens must be at least 1");
  if (o.warmup < 0) out.push_back("--warmup must not be negative");
  if (o.iters < 1) out.push_back("--iters must be at least 1");
  if (!(o.timeout_s > 0)) out.push_back("--timeout must be positive");
  if (o.sweep_bytes < 4) out.push_back("the sweep size must be at least 4 bytes");
  if (o.min_busbw_gbps && !(*o.min_busbw_gbps >= 0)) out.push_back("--min-busbw must be >= 0");
  if (!o.dtype.empty() && !parse_dtype(o.dtype)) {
    out.push_back("--dtype must be bfloat16, float16 or float32, got \"" + o.dtype + "\"");
  }
  return out;
}

struct Launched {
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<Transport> transport;
  std::optional<Failure> failure;  // exit 2 (launch) or 4 (runtime)
  std::string text;                // how the ranks were launched, for the header
  bool mpi = false;
  bool own = true;  // the failure is this process's own, not an echo of a peer's
};

// FNV-1a of the manifest as this process parsed it: every rank of an MPI job must run the same
// plan, and a rank started with another file (a stale copy on one node) is found before any
// collective of the plan.
std::uint64_t manifest_hash(const nlohmann::ordered_json& manifest) {
  std::uint64_t h = 14695981039346656037ull;
  for (char ch : manifest.dump()) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return out;
}

Launched launch(const ManifestView& view, const SmokeOptions& o, const LauncherEnv& env,
                std::uint64_t hash) {
  Launched l;
  const int world = view.world_size;
  const bool want_mpi = env.present || o.backend == "mpi";
  if (want_mpi && !mpi_built()) {
    l.failure = Failure{2,
                        env.present ? "launched by an MPI launcher (" + env.source + "=" +
                                          std::to_string(env.size) + "), but " + mpi_library_name()
                                    : mpi_library_name(),
                        false};
    return l;
  }
  if (o.backend == "mpi" && !env.present && world > 1) {
    l.failure = Failure{2,
                        "the mpi backend runs one rank per process and the manifest has "
                        "world_size " +
                            std::to_string(world) + "; launch " + std::to_string(world) +
                            " ranks: " + launch_hint(world, "mpi"),
                        false};
    return l;
  }
  if (env.present && env.size != world) {
    l.failure =
        Failure{2,
                "the manifest needs " + std::to_string(world) +
                    " ranks (world_size) but the launcher started " + std::to_string(env.size) +
                    " (" + env.source + "); launch with: " + launch_hint(world, o.backend),
                false};
    return l;
  }
  if (!want_mpi) {  // one process drives every GPU
    auto gpus = visible_gpus();
    if (auto* why = std::get_if<std::string>(&gpus)) {
      l.failure = Failure{4, "the nccl backend cannot run here: " + *why, false};
      return l;
    }
    const int count = std::get<int>(gpus);
    if (count < world) {
      l.failure = Failure{
          2,
          "the manifest needs " + std::to_string(world) + " GPUs (world_size) but this node has " +
              std::to_string(count) + " visible; run it on a node with " + std::to_string(world) +
              " GPUs, or one rank per GPU across nodes: " + launch_hint(world, "nccl"),
          false};
      return l;
    }
    std::vector<int> ranks(static_cast<std::size_t>(world));
    for (int r = 0; r < world; ++r) ranks[static_cast<std::size_t>(r)] = r;
    l.coordinator = std::make_unique<LocalCoordinator>();
    l.text = "single process driving " + std::to_string(world) + " GPU(s)";
    auto t = make_nccl_transport(ranks, ranks, world, *l.coordinator, o.timeout_s);
    if (auto* f = std::get_if<Failure>(&t)) {
      l.failure = *f;
    } else {
      l.transport = std::move(std::get<std::unique_ptr<Transport>>(t));
    }
    return l;
  }
  auto started = start_mpi();
  if (auto* why = std::get_if<std::string>(&started)) {
    l.failure = Failure{4, *why, false};
    return l;
  }
  l.mpi = true;
  l.coordinator = std::move(std::get<std::unique_ptr<Coordinator>>(started));
  Coordinator& c = *l.coordinator;
  if (c.process_count() != world) {
    l.failure = Failure{2,
                        "the manifest needs " + std::to_string(world) +
                            " ranks (world_size) but MPI has " + std::to_string(c.process_count()) +
                            "; launch with: " + launch_hint(world, o.backend),
                        false};
    return l;
  }
  const std::string job = "MPI job of " + std::to_string(world) + " processes, one rank each";
  std::optional<Failure> mine;
  std::vector<char> first(sizeof hash);
  std::memcpy(first.data(), &hash, sizeof hash);
  if (!c.broadcast(first, 2 * o.timeout_s + 10)) {
    l.failure = Failure{4, "rank 0 did not send its manifest's hash in time", true};
    return l;
  }
  std::uint64_t hash0 = 0;
  std::memcpy(&hash0, first.data(), sizeof hash0);
  if (hash0 != hash) {
    mine = Failure{2,
                   "rank " + std::to_string(c.process_rank()) +
                       " read another manifest than rank 0 (hash " + hex(hash) + ", rank 0's " +
                       hex(hash0) + "): every rank must be started with the same file",
                   false};
  }
  int device = 0;
  if (!mine && o.backend == "nccl") {
    device = env.local_rank >= 0 ? env.local_rank : mpi_node_rank(c);
    auto gpus = visible_gpus();
    if (auto* why = std::get_if<std::string>(&gpus)) {
      mine = Failure{4, "rank " + std::to_string(c.process_rank()) + ": " + *why, false};
    } else if (device >= std::get<int>(gpus)) {
      mine = Failure{2,
                     "rank " + std::to_string(c.process_rank()) + " is local rank " +
                         std::to_string(device) + " of its node, which has " +
                         std::to_string(std::get<int>(gpus)) +
                         " visible GPU(s): start at most that many ranks per node "
                         "(mpirun --map-by ppr:N:node)",
                     false};
    }
  }
  auto agreed = c.agree_max(mine ? mine->exit_code : 0, 2 * o.timeout_s + 10);
  if (!agreed || *agreed != 0) {
    l.own = mine.has_value();
    l.failure = mine ? *mine
                     : Failure{agreed ? *agreed : 4,
                               "another rank could not start (see its "
                               "message)",
                               !agreed};
    return l;
  }
  if (o.backend == "nccl") {
    l.text = job + " (GPU = local rank, from " +
             (env.local_rank >= 0 ? env.source.substr(0, env.source.find('_')) + " env"
                                  : std::string("MPI_COMM_TYPE_SHARED")) +
             ")";
    auto t = make_nccl_transport({c.process_rank()}, {device}, world, c, o.timeout_s);
    if (auto* f = std::get_if<Failure>(&t)) {
      l.failure = *f;
    } else {
      l.transport = std::move(std::get<std::unique_ptr<Transport>>(t));
    }
  } else {
    l.text = job + " (CPU)";
    auto t = make_mpi_transport(c, o.timeout_s);
    if (auto* f = std::get_if<Failure>(&t)) {
      l.failure = *f;
    } else {
      l.transport = std::move(std::get<std::unique_ptr<Transport>>(t));
    }
  }
  return l;
}

}  // namespace

int run_smoke(const nlohmann::ordered_json& manifest, const SmokeOptions& options,
              std::ostream& out, std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  const LauncherEnv env = detect_launcher(process_env());
  const bool speaker = !env.present || env.rank == 0;
  auto usage = [&](const std::vector<std::string>& lines) {
    if (speaker) {
      for (const auto& l : lines) err << "layerplan smoke: error: " << l << "\n";
      err.flush();
    }
    return kExitUsage;
  };

  // 1. Options and the manifest's shape: exit 2 before anything is launched.
  std::vector<std::string> errors = option_errors(options);
  std::vector<Problem> problems;
  auto view = read_manifest(manifest, problems);
  for (const Problem& p : problems) errors.push_back(render_problem(p));
  std::optional<ElementType> type;
  if (view) {
    const std::string dtype = options.dtype.empty() ? view->dtype : options.dtype;
    type = parse_dtype(dtype);
    if (dtype.empty()) {
      errors.push_back("manifest: /model/dtype is missing; pass --dtype");
    } else if (!type) {
      errors.push_back("dtype \"" + dtype + "\" is not bfloat16, float16 or float32");
    }
  }
  if (!errors.empty() || !view) return usage(errors);
  const std::string dtype(element_name(*type));
  if (options.backend == "mpi") type = cpu_stand_in(*type);

  // 2. The manifest's lists against vLLM's layout, and what to time.
  ReportInput in;
  in.view = &*view;
  in.options = &options;
  in.type = *type;
  in.dtype = dtype;
  for (const GroupSet& set : view->sets) {
    in.derived.push_back(derive_vllm_groups(*view, set.name));
    auto findings = check_set_sizes(*view, set);
    for (auto& f : compare_with_derivation(set, in.derived.back())) findings.push_back(f);
    in.findings.push_back(std::move(findings));
    in.runnable.push_back(set.uniform_size() > 1);
  }
  const auto entries =
      plan_timings(*view, options.tokens, element_bytes(*type), options.sweep_bytes);
  in.entries = &entries;
  in.shared_with.assign(view->sets.size(), "");

  // 3. Launch and run on the devices.
  Launched l = launch(*view, options, env, manifest_hash(manifest));
  if (l.failure && l.failure->exit_code == kExitUsage) {
    if (!speaker && l.own && l.mpi) err << "layerplan smoke: error: " << l.failure->message << "\n";
    if (!speaker && env.present && !l.mpi) {
      // Every rank found the same launch error on its own, and only rank 0 prints it. The
      // launcher ends the job at the first non-zero exit: give rank 0 the time to print first,
      // or a loaded machine loses the message (seen in CI under the sanitizers).
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    return usage({l.failure->message});
  }
  in.launch = l.text;
  in.on_cpu = options.backend == "mpi";
  ProcessResult mine;
  std::vector<int> lost;
  if (l.transport) {
    SessionPlan plan{&*view,
                     &entries,
                     in.runnable,
                     *type,
                     options.warmup,
                     options.iters,
                     options.timeout_s,
                     options.inject_hang,
                     options.inject_kill};
    SessionOutcome outcome = run_session(*l.transport, *l.coordinator, plan);
    lost = std::move(outcome.lost);
    mine.ranks = std::move(outcome.ranks);
    mine.failure = std::move(outcome.failure);
    mine.versions = l.transport->versions();
    in.shared_with = std::move(outcome.shared_with);
  } else {
    mine.failure = l.failure;
  }
  LocalCoordinator alone;
  Coordinator& coord = l.coordinator ? *l.coordinator : alone;

  // A process is gone: no report can be gathered and MPI cannot end cleanly, so every
  // survivor says what it saw and leaves with exit 4 on its own.
  if (mine.failure && !lost.empty()) {
    out.flush();
    const std::string who = "layerplan smoke: rank " + std::to_string(coord.process_rank());
    // One write, so that the lines of several processes do not interleave.
    err << who + ": error: " + mine.failure->message + "\n" + who +
               ": FAIL without a report (exit 4): the job lost a process\n";
    err.flush();
    coord.leave(kExitSmokeError);
    return kExitSmokeError;
  }

  // 4. Everything to rank 0, the report there, and one exit code for all.
  bool unclean = mine.failure && mine.failure->hung && l.mpi && in.on_cpu;
  const double patience = 2 * options.timeout_s + 10;
  auto gathered = coord.gather(nlohmann::json(mine).dump(), patience);
  int code = kExitSmokeError;
  if (coord.process_rank() == 0) {
    if (gathered) {
      for (const std::string& text : *gathered) {
        in.processes.push_back(nlohmann::json::parse(text).get<ProcessResult>());
      }
    } else {
      unclean = true;
      in.processes.push_back(mine);
      in.processes.push_back({{},
                              Failure{4,
                                      "some ranks did not report within " +
                                          std::to_string(static_cast<int>(patience)) + " s",
                                      true},
                              ""});
    }
    in.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const Report report = build_report(in);
    code = report.exit_code;
    unclean = unclean || (report.hung && in.on_cpu);
    render_text(report, in, out);
    out.flush();
    if (!options.json_path.empty()) {
      if (auto why =
              write_file_atomically(options.json_path, render_json(report, in).dump(2) + "\n")) {
        err << "layerplan smoke: error: " << *why << "\n";
        if (code == kExitOk) code = kExitUsage;
      }
    }
  }
  if (!gathered) unclean = true;
  // One decision for all: the exit code (rank 0's) and whether any process still has an MPI
  // request that will never complete, in which case every process ends with MPI_Abort together
  // (mixing MPI_Abort with MPI_Finalize across ranks upsets some launchers).
  auto agreed =
      coord.agree_max((coord.process_rank() == 0 ? code : 0) | (unclean ? 256 : 0), patience);
  if (agreed) {
    code = *agreed & 255;
    unclean = (*agreed & 256) != 0;
  }
  if (unclean || !agreed) {
    err.flush();
    coord.abort_job(code);  // MPI_Abort; a no-op in a single process
  }
  l.transport.reset();
  return code;
}

int run_smoke(const nlohmann::json& manifest, const SmokeOptions& options, std::ostream& out,
              std::ostream& err) {
  auto ordered = nlohmann::ordered_json::parse(manifest.dump());
  if (ordered.is_object() && ordered.contains("groups") && ordered["groups"].is_object()) {
    std::vector<std::pair<std::string, nlohmann::ordered_json>> sets;
    for (auto& [name, value] : ordered["groups"].items()) sets.emplace_back(name, value);
    std::stable_sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) {
      const int ra = canonical_set_rank(a.first), rb = canonical_set_rank(b.first);
      if (ra != rb) return ra < rb;
      if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();  // tp_sub2<10
      return a.first < b.first;
    });
    nlohmann::ordered_json groups = nlohmann::ordered_json::object();
    for (auto& [name, value] : sets) groups[name] = std::move(value);
    ordered["groups"] = std::move(groups);
  }
  return run_smoke(ordered, options, out, err);
}

std::string smoke_features() {
  std::string out = "backends: nccl ";
  out += nccl_backend_built() ? "(built; loads libcudart and libnccl.so.2 at run time)"
                              : "(not built: CUDA/NCCL headers not found)";
  out += ", mpi ";
  out += mpi_built() ? "(built: " + mpi_library_name() + ")" : "(not built: MPI not found)";
  return out;
}

}  // namespace layerplan::smoke
