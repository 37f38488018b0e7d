// The two seams of a smoke run: a Coordinator that keeps the processes of an MPI job in step
// (trivial in one process), and a Transport that builds communicators and runs collectives on
// the ranks this process drives (NCCL on GPUs, or MPI on CPUs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "smoke/data_pattern.h"
#include "smoke/manifest_view.h"
#include "smoke/results.h"

namespace layerplan::smoke {

class Coordinator {
 public:
  virtual ~Coordinator() = default;
  [[nodiscard]] virtual int process_rank() const = 0;
  [[nodiscard]] virtual int process_count() const = 0;
  // The largest `value` over all processes; nothing if a peer did not answer in time.
  [[nodiscard]] virtual std::optional<int> agree_max(int value, double timeout_s) = 0;
  // Process 0's `bytes` (same size everywhere) to every process; false on timeout.
  [[nodiscard]] virtual bool broadcast(std::vector<char>& bytes, double timeout_s) = 0;
  // Every process's string at process 0 (others get an empty list); nothing on timeout.
  [[nodiscard]] virtual std::optional<std::vector<std::string>> gather(const std::string& mine,
                                                                       double timeout_s) = 0;
  // Ends every process of the job with `code`; for a collective that hung and cannot be
  // cancelled (MPI). A no-op in a single process.
  virtual void abort_job(int code) = 0;
  // The processes that are gone (killed, crashed, exited early), asked after a wait ran out:
  // the ones another process already named, else those that do not answer a ping within
  // `window_s`, which are then named to every other process so that they stop too. Empty when
  // every process answered, and in a single process.
  [[nodiscard]] virtual std::vector<int> lost_processes(double /*window_s*/) { return {}; }
  // Ends this process at once with `code`, without MPI_Finalize or MPI_Abort (with a process
  // gone, the one can hang and the other ends the survivors before they report). A no-op in a
  // single process.
  virtual void leave(int /*code*/) {}
};

class LocalCoordinator final : public Coordinator {
 public:
  [[nodiscard]] int process_rank() const override { return 0; }
  [[nodiscard]] int process_count() const override { return 1; }
  [[nodiscard]] std::optional<int> agree_max(int value, double) override { return value; }
  [[nodiscard]] bool broadcast(std::vector<char>&, double) override { return true; }
  [[nodiscard]] std::optional<std::vector<std::string>> gather(const std::string& mine,
                                                               double) override {
    return std::vector<std::string>{mine};
  }
  void abort_job(int) override {}
};

struct CollectiveCall {
  int comm = 0;  // 0 is the world communicator
  Op op = Op::kAllReduce;
  ElementType type = ElementType::kFp32;
  std::int64_t count = 0;  // nccl-tests count
  int group_size = 1;
  int warmup = 0, iters = 1;
  bool timed = false;      // a timed measurement (NCCL: on the blocking twin communicators)
  std::vector<char> skip;  // per slot; 1 = this slot does not issue the call (fault injection)
  std::string what;        // names the set and the collective in errors
};

using Buffers = std::vector<std::vector<std::byte>>;  // one host buffer per slot

class Transport {
 public:
  virtual ~Transport() = default;
  // The global rank of each slot (rank) this process drives.
  [[nodiscard]] virtual const std::vector<int>& slots() const = 0;
  [[nodiscard]] virtual std::vector<RankInfo> describe() = 0;
  [[nodiscard]] virtual std::string versions() const = 0;
  [[nodiscard]] virtual bool on_cpu() const = 0;
  // Makes communicator `comm` from the world one: per slot a colour (the index of its group) and
  // a key (its position in the group).
  [[nodiscard]] virtual std::optional<Failure> split(int comm, const std::vector<int>& colors,
                                                     const std::vector<int>& keys,
                                                     const std::string& what) = 0;
  // Device input and output buffers of at least `bytes` per slot.
  [[nodiscard]] virtual std::optional<Failure> reserve(std::size_t bytes) = 0;
  [[nodiscard]] virtual std::optional<Failure> upload(const Buffers& inputs) = 0;
  [[nodiscard]] virtual std::optional<Failure> download(std::size_t bytes, Buffers& outputs) = 0;
  // Runs `warmup` untimed then `iters` timed calls; microseconds per call for each slot.
  [[nodiscard]] virtual std::variant<std::vector<double>, Failure> run(
      const CollectiveCall& call) = 0;
  // Aborts every communicator (after a failure or timeout).
  virtual void abort() = 0;
};

}  // namespace layerplan::smoke
