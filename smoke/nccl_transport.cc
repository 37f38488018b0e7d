// NCCL on GPUs: one process drives every slot (single-process mode) or one slot (under MPI).
//
// Each group set gets two communicators. The first is nonblocking (ncclConfig_t.blocking = 0):
// bring-up (init, split, the first connections) and the membership checks run on it, so every
// wait is a poll with a deadline, and a peer that never arrives ends in ncclCommAbort, not a
// hang. A nonblocking group launch returns ncclInProgress and runs on a helper thread, which
// adds about 0.1-0.2 ms to every call. The timed collectives therefore run on a blocking twin,
// made once every rank has proved it is alive. Its kernels are still polled against the
// deadline, and a collective that hangs on the GPU aborts every communicator.
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "smoke/cuda_api.h"
#include "smoke/gpu_backend.h"

namespace layerplan::smoke {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

ncclDataType_t nccl_type(ElementType type) {
  switch (type) {
    case ElementType::kBf16:
      return ncclBfloat16;
    case ElementType::kFp16:
      return ncclFloat16;
    case ElementType::kFp32:
      return ncclFloat32;
    case ElementType::kInt32:
    case ElementType::kInt16:  // never used on GPUs
      return ncclInt32;
  }
  return ncclInt32;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

class NcclTransport final : public Transport {
 public:
  NcclTransport(GpuLibraries libs, std::vector<int> ranks, std::vector<int> devices, int world,
                double timeout_s)
      : libs_(std::move(libs)), ranks_(std::move(ranks)), world_(world), timeout_s_(timeout_s) {
    for (std::size_t k = 0; k < ranks_.size(); ++k) slots_.push_back({ranks_[k], devices[k]});
    config_ = NCCL_CONFIG_INITIALIZER;
    config_.blocking = 0;
    blocking_config_ = NCCL_CONFIG_INITIALIZER;
    blocking_config_.blocking = 1;
  }

  ~NcclTransport() override {
    abort();  // communicators are torn down with ncclCommAbort: local, and never waits on peers
    for (Slot& s : slots_) {
      cu().cudaSetDevice(s.device);
      if (s.in) cu().cudaFree(s.in);
      if (s.out) cu().cudaFree(s.out);
      if (s.start) cu().cudaEventDestroy(s.start);
      if (s.stop) cu().cudaEventDestroy(s.stop);
      if (s.stream) cu().cudaStreamDestroy(s.stream);
    }
  }

  std::optional<Failure> init(Coordinator& coordinator) {
    std::vector<cudaError_t> errors(slots_.size(), cudaSuccess);
    {  // CUDA contexts come up in parallel: the slowest part of bring-up
      std::vector<std::thread> threads;
      for (std::size_t k = 0; k < slots_.size(); ++k) {
        threads.emplace_back([this, k, &errors] {
          errors[k] = cu().cudaSetDevice(slots_[k].device);
          if (errors[k] == cudaSuccess) errors[k] = cu().cudaFree(nullptr);
        });
      }
      for (auto& t : threads) t.join();
    }
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      Slot& s = slots_[k];
      if (errors[k] != cudaSuccess) return cuda_failure(errors[k], "creating a context", s);
      cudaError_t e = cu().cudaSetDevice(s.device);
      if (e == cudaSuccess) e = cu().cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking);
      if (e == cudaSuccess) e = cu().cudaEventCreate(&s.start);
      if (e == cudaSuccess) e = cu().cudaEventCreate(&s.stop);
      if (e != cudaSuccess) return cuda_failure(e, "creating a stream and events", s);
    }
    // Process 0 makes the unique ids (nonblocking and blocking world); byte 0 says it could.
    std::vector<char> bytes(2 * sizeof(ncclUniqueId) + 1, 0);
    ncclUniqueId id{}, timed_id{};
    if (coordinator.process_rank() == 0) {
      ncclResult_t r = nc().ncclGetUniqueId(&id);
      if (r == ncclSuccess) r = nc().ncclGetUniqueId(&timed_id);
      if (r == ncclSuccess) {
        bytes[0] = 1;
        std::memcpy(bytes.data() + 1, &id, sizeof id);
        std::memcpy(bytes.data() + 1 + sizeof id, &timed_id, sizeof timed_id);
      } else {
        pending_ = nccl_failure(r, nullptr, "ncclGetUniqueId");
      }
    }
    if (!coordinator.broadcast(bytes, timeout_s_)) {
      return Failure{4, "no NCCL unique id from process 0 within " + seconds() + " s", true};
    }
    if (pending_) return std::exchange(pending_, std::nullopt);
    if (bytes[0] != 1) return Failure{4, "process 0 could not create an NCCL unique id", false};
    std::memcpy(&id, bytes.data() + 1, sizeof id);
    std::memcpy(&timed_id, bytes.data() + 1 + sizeof id, sizeof timed_id);

    Comm& world = comms_[0];
    world.per_slot.assign(slots_.size(), nullptr);
    world.positions = ranks_;
    if (auto f = grouped("ncclCommInitRankConfig", [&](std::size_t k) {
          check(nc().ncclCommInitRankConfig(&world.per_slot[k], world_, id, ranks_[k], &config_),
                nullptr, "ncclCommInitRankConfig");
        })) {
      return f;
    }
    if (auto f = wait_comms(world.per_slot, deadline_after(timeout_s_),
                            "creating the world communicator")) {
      return f;
    }
    // Every rank is up: the blocking twin of the world cannot wait on a missing peer.
    world.timed.assign(slots_.size(), nullptr);
    return grouped("ncclCommInitRankConfig (blocking)", [&](std::size_t k) {
      check(nc().ncclCommInitRankConfig(&world.timed[k], world_, timed_id, ranks_[k],
                                        &blocking_config_),
            nullptr, "ncclCommInitRankConfig (blocking world)");
    });
  }

  const std::vector<int>& slots() const override { return ranks_; }
  bool on_cpu() const override { return false; }

  std::string versions() const override {
    int nccl = 0, runtime = 0, driver = 0;
    nc().ncclGetVersion(&nccl);
    cu().cudaRuntimeGetVersion(&runtime);
    cu().cudaDriverGetVersion(&driver);
    auto cuda = [](int v) {
      return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
    };
    return "NCCL " + nccl_version_text(nccl) + " (" + libs_.nccl_path + "), CUDA runtime " +
           cuda(runtime) + ", driver " + cuda(driver);
  }

  std::vector<RankInfo> describe() override {
    std::vector<RankInfo> out;
    const std::string host = host_name();
    for (const Slot& s : slots_) {
      RankInfo info{s.rank, host, static_cast<int>(getpid()), s.device, "?", "?"};
      // Only the name (the first member in every CUDA version) is read; the buffer is larger
      // than cudaDeviceProp of any runtime the loader may have picked.
      alignas(std::max_align_t) static thread_local char props[16384];
      if (cu().cudaGetDeviceProperties(reinterpret_cast<cudaDeviceProp*>(props), s.device) ==
          cudaSuccess) {
        info.device_name.assign(props, strnlen(props, 256));
      }
      char bus[64] = {};
      if (cu().cudaDeviceGetPCIBusId(bus, sizeof bus - 1, s.device) == cudaSuccess) {
        info.pci_bus_id = bus;
      }
      out.push_back(std::move(info));
    }
    return out;
  }

  std::optional<Failure> split(int comm, const std::vector<int>& colors,
                               const std::vector<int>& keys, const std::string& what) override {
    Comm& parent = comms_.at(0);
    Comm& made = comms_[comm];
    made.per_slot.assign(slots_.size(), nullptr);
    made.positions = keys;
    if (auto f = grouped("ncclCommSplit for " + what, [&](std::size_t k) {
          check(nc().ncclCommSplit(parent.per_slot[k], colors[k], keys[k], &made.per_slot[k],
                                   &config_),
                parent.per_slot[k], "ncclCommSplit for " + what);
        })) {
      return f;
    }
    // The parents are busy while their children come up: wait for both.
    std::vector<ncclComm_t> all = made.per_slot;
    all.insert(all.end(), parent.per_slot.begin(), parent.per_slot.end());
    if (auto f = wait_comms(all, deadline_after(timeout_s_), "ncclCommSplit for " + what)) {
      return f;
    }
    made.timed.assign(slots_.size(), nullptr);
    return grouped("ncclCommSplit (blocking) for " + what, [&](std::size_t k) {
      check(nc().ncclCommSplit(parent.timed[k], colors[k], keys[k], &made.timed[k],
                               &blocking_config_),
            parent.timed[k], "ncclCommSplit (blocking) for " + what);
    });
  }

  std::optional<Failure> reserve(std::size_t bytes) override {
    if (bytes <= capacity_) return std::nullopt;
    for (Slot& s : slots_) {
      cu().cudaSetDevice(s.device);
      if (s.in) cu().cudaFree(s.in);
      if (s.out) cu().cudaFree(s.out);
      s.in = s.out = nullptr;
      cudaError_t e = cu().cudaMalloc(&s.in, bytes);
      if (e == cudaSuccess) e = cu().cudaMalloc(&s.out, bytes);
      if (e != cudaSuccess) {
        return cuda_failure(e, "allocating 2 x " + std::to_string(bytes) + " bytes", s);
      }
    }
    capacity_ = bytes;
    return std::nullopt;
  }

  std::optional<Failure> upload(const Buffers& inputs) override {
    return copy(
        [&](std::size_t k, Slot& s) {
          return cu().cudaMemcpyAsync(s.in, inputs[k].data(), inputs[k].size(),
                                      cudaMemcpyHostToDevice, s.stream);
        },
        "copying inputs to the devices");
  }

  std::optional<Failure> download(std::size_t bytes, Buffers& outputs) override {
    outputs.resize(slots_.size());
    return copy(
        [&](std::size_t k, Slot& s) {
          outputs[k].resize(bytes);
          return cu().cudaMemcpyAsync(outputs[k].data(), s.out, bytes, cudaMemcpyDeviceToHost,
                                      s.stream);
        },
        "copying outputs from the devices");
  }

  std::variant<std::vector<double>, Failure> run(const CollectiveCall& call) override {
    const Comm& comm = comms_.at(call.comm);
    const std::vector<ncclComm_t>& handles = call.timed ? comm.timed : comm.per_slot;
    const auto deadline = deadline_after(timeout_s_);
    auto launch = [&]() -> std::optional<Failure> {
      nc().ncclGroupStart();
      for (std::size_t k = 0; k < slots_.size() && !pending_; ++k) {
        if (k < call.skip.size() && call.skip[k]) continue;
        issue(handles[k], comm.positions[k], call, k);
      }
      check(nc().ncclGroupEnd(), nullptr, "ncclGroupEnd for " + call.what);
      if (pending_) return std::exchange(pending_, std::nullopt);
      if (in_progress_) {
        in_progress_ = false;
        return wait_comms(handles, deadline, call.what);
      }
      return std::nullopt;
    };
    for (int i = 0; i < call.warmup; ++i) {
      if (auto f = launch()) return *f;
    }
    if (call.warmup > 0) {
      if (auto f = wait_streams(&handles, deadline, call.what)) return *f;
    }
    for (Slot& s : slots_) cu().cudaEventRecord(s.start, s.stream);
    for (int i = 0; i < call.iters; ++i) {
      if (auto f = launch()) return *f;
    }
    for (Slot& s : slots_) cu().cudaEventRecord(s.stop, s.stream);
    if (auto f = wait_streams(&handles, deadline, call.what)) return *f;
    std::vector<double> us;
    for (Slot& s : slots_) {
      float ms = 0;
      const cudaError_t e = cu().cudaEventElapsedTime(&ms, s.start, s.stop);
      if (e != cudaSuccess) return cuda_failure(e, "reading the timing events", s);
      us.push_back(static_cast<double>(ms) * 1000.0 / call.iters);
    }
    return us;
  }

  // Children first, one thread per communicator: an abort is slow (it stops NCCL's proxy
  // threads), and the last abort of a communicator's local ranks reclaims them all.
  void abort() override {
    auto abort_all = [this](bool worlds) {
      std::vector<std::thread> threads;
      for (auto& [id, comm] : comms_) {
        if ((id == 0) != worlds) continue;
        for (auto* handles : {&comm.per_slot, &comm.timed}) {
          threads.emplace_back([this, handles] {
            for (ncclComm_t& c : *handles) {
              if (c != nullptr) nc().ncclCommAbort(c);
              c = nullptr;
            }
          });
        }
      }
      for (auto& t : threads) t.join();
    };
    abort_all(false);
    abort_all(true);
  }

 private:
  struct Slot {
    int rank = -1, device = -1;
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
    void* in = nullptr;
    void* out = nullptr;
  };
  struct Comm {
    std::vector<ncclComm_t> per_slot;  // nonblocking: bring-up and membership checks
    std::vector<ncclComm_t> timed;     // blocking twin: timed collectives
    std::vector<int> positions;        // each slot's rank in this communicator
  };

  const CudaApi& cu() const { return libs_.cuda; }
  const NcclApi& nc() const { return libs_.nccl; }
  std::string seconds() const { return std::to_string(static_cast<int>(timeout_s_)); }

  // Pageable copies block the calling thread, so each slot copies on its own thread.
  template <typename F>
  std::optional<Failure> copy(F&& start, const std::string& what) {
    std::vector<cudaError_t> errors(slots_.size(), cudaSuccess);
    auto one = [&](std::size_t k) {
      errors[k] = cu().cudaSetDevice(slots_[k].device);
      if (errors[k] == cudaSuccess) errors[k] = start(k, slots_[k]);
    };
    if (slots_.size() == 1) {
      one(0);
    } else {
      std::vector<std::thread> threads;
      for (std::size_t k = 0; k < slots_.size(); ++k) threads.emplace_back(one, k);
      for (auto& t : threads) t.join();
    }
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      if (errors[k] != cudaSuccess) return cuda_failure(errors[k], what, slots_[k]);
    }
    return wait_streams(nullptr, deadline_after(timeout_s_), what);
  }

  Failure cuda_failure(cudaError_t e, const std::string& what, const Slot& s) const {
    return {4,
            "CUDA error on rank " + std::to_string(s.rank) + " (device " +
                std::to_string(s.device) + ") while " + what + ": " + cu().cudaGetErrorString(e),
            false};
  }

  Failure nccl_failure(ncclResult_t r, ncclComm_t comm, const std::string& what) const {
    std::string last = nc().ncclGetLastError(comm) ? nc().ncclGetLastError(comm) : "";
    return {4,
            "NCCL error in " + what + ": " + nc().ncclGetErrorString(r) +
                (last.empty() ? "" : " (" + last + ")"),
            false};
  }

  // Records the first failure of a call made inside a group; ncclInProgress is expected.
  void check(ncclResult_t r, ncclComm_t comm, const std::string& what) {
    if (r == ncclInProgress) {
      in_progress_ = true;
    } else if (r != ncclSuccess && !pending_) {
      pending_ = nccl_failure(r, comm, what);
    }
  }

  // Calls make(k) for every slot, with that slot's device current, inside one NCCL group, and
  // returns the first failure of make or of ncclGroupEnd (named "ncclGroupEnd after WHAT").
  template <typename F>
  std::optional<Failure> grouped(const std::string& what, F make) {
    nc().ncclGroupStart();
    for (std::size_t k = 0; k < slots_.size() && !pending_; ++k) {
      cu().cudaSetDevice(slots_[k].device);
      make(k);
    }
    check(nc().ncclGroupEnd(), nullptr, "ncclGroupEnd after " + what);
    in_progress_ = false;
    if (pending_) return std::exchange(pending_, std::nullopt);
    return std::nullopt;
  }

  void issue(ncclComm_t c, int pos, const CollectiveCall& call, std::size_t k) {
    const Slot& s = slots_[k];
    const ncclDataType_t dt = nccl_type(call.type);
    const int n = call.group_size;
    const auto count = static_cast<std::size_t>(call.count);
    const std::size_t chunk = count / static_cast<std::size_t>(n);
    const std::size_t es = static_cast<std::size_t>(element_bytes(call.type));
    auto* in = static_cast<char*>(s.in);
    auto* out = static_cast<char*>(s.out);
    switch (call.op) {
      case Op::kAllReduce:
        check(nc().ncclAllReduce(in, out, count, dt, ncclSum, c, s.stream), c, call.what);
        return;
      case Op::kAllGather:
        check(nc().ncclAllGather(in, out, chunk, dt, c, s.stream), c, call.what);
        return;
      case Op::kReduceScatter:
        check(nc().ncclReduceScatter(in, out, chunk, dt, ncclSum, c, s.stream), c, call.what);
        return;
      case Op::kAllToAll:
        for (int p = 0; p < n; ++p) {
          const std::size_t off = static_cast<std::size_t>(p) * chunk * es;
          check(nc().ncclSend(in + off, chunk, dt, p, c, s.stream), c, call.what);
          check(nc().ncclRecv(out + off, chunk, dt, p, c, s.stream), c, call.what);
        }
        return;
      case Op::kSendRecv: {
        check(nc().ncclSend(in, count, dt, (pos + 1) % n, c, s.stream), c, call.what);
        check(nc().ncclRecv(out, count, dt, (pos + n - 1) % n, c, s.stream), c, call.what);
        return;
      }
    }
  }

  std::optional<Failure> comm_errors(const std::vector<ncclComm_t>& comms, bool& pending,
                                     const std::string& what) const {
    for (ncclComm_t c : comms) {
      if (c == nullptr) continue;
      ncclResult_t state = ncclSuccess;
      const ncclResult_t r = nc().ncclCommGetAsyncError(c, &state);
      if (r != ncclSuccess) return nccl_failure(r, c, what);
      if (state == ncclInProgress) {
        pending = true;
      } else if (state != ncclSuccess) {
        return nccl_failure(state, c, what);
      }
    }
    return std::nullopt;
  }

  Failure timeout(const std::string& what) const {
    return {4,
            "watchdog: " + what + " did not finish within " + seconds() +
                " s (--timeout); every communicator was aborted (ncclCommAbort)",
            true};
  }

  static void pause(int spins) {
    if (spins < 1000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  std::optional<Failure> wait_comms(const std::vector<ncclComm_t>& comms,
                                    Clock::time_point deadline, const std::string& what) {
    for (int spins = 0;; ++spins) {
      bool pending = false;
      if (auto f = comm_errors(comms, pending, what)) return f;
      if (!pending) return std::nullopt;
      if (Clock::now() > deadline) return timeout(what);
      pause(spins);
    }
  }

  std::optional<Failure> wait_streams(const std::vector<ncclComm_t>* comms,
                                      Clock::time_point deadline, const std::string& what) {
    for (int spins = 0;; ++spins) {
      bool busy = false;
      for (const Slot& s : slots_) {
        const cudaError_t e = cu().cudaStreamQuery(s.stream);
        if (e == cudaErrorNotReady) {
          busy = true;
        } else if (e != cudaSuccess) {
          return cuda_failure(e, what, s);
        }
      }
      if (!busy) return std::nullopt;
      bool pending = false;
      if (comms != nullptr) {
        if (auto f = comm_errors(*comms, pending, what)) return f;
      }
      if (Clock::now() > deadline) return timeout(what);
      pause(spins);
    }
  }

  GpuLibraries libs_;
  std::vector<int> ranks_;
  std::vector<Slot> slots_;
  std::map<int, Comm> comms_;
  ncclConfig_t config_{};
  ncclConfig_t blocking_config_{};
  int world_ = 0;
  double timeout_s_ = 60;
  std::size_t capacity_ = 0;
  std::optional<Failure> pending_;
  bool in_progress_ = false;
};

}  // namespace

bool nccl_backend_built() { return true; }

std::variant<int, std::string> visible_gpus() {
  auto libs = load_gpu_libraries();
  if (auto* why = std::get_if<std::string>(&libs)) return *why;
  const auto& cuda = std::get<GpuLibraries>(libs).cuda;
  int count = 0;
  const cudaError_t e = cuda.cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    return std::string("no usable CUDA device: cudaGetDeviceCount failed: ") +
           cuda.cudaGetErrorString(e);
  }
  if (count == 0) return std::string("no CUDA device is visible (CUDA_VISIBLE_DEVICES?)");
  return count;
}

std::variant<std::unique_ptr<Transport>, Failure> make_nccl_transport(
    const std::vector<int>& ranks, const std::vector<int>& devices, int world_size,
    Coordinator& coordinator, double timeout_s) {
  auto libs = load_gpu_libraries();
  if (auto* why = std::get_if<std::string>(&libs)) return Failure{4, *why, false};
  auto transport = std::make_unique<NcclTransport>(std::get<GpuLibraries>(std::move(libs)), ranks,
                                                   devices, world_size, timeout_s);
  if (auto f = transport->init(coordinator)) return *f;
  return std::unique_ptr<Transport>(std::move(transport));
}

}  // namespace layerplan::smoke
