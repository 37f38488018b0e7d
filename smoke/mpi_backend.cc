// MPI coordinator and CPU transport. Every wait is MPI_Test in a loop against an MPI_Wtime
// deadline, so a missing peer turns into a reported timeout instead of a hang.
#include "smoke/mpi_backend.h"

// The C API only: Open MPI and MPICH otherwise pull in their deprecated C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

namespace layerplan::smoke {
namespace {

// Whether the other processes are still there. A process killed mid-run (SIGKILL, the OOM
// killer, a crashed driver) leaves its peers inside a collective that never completes; under a
// launcher that lets the survivors run on (`mpirun --mca orte_enable_recovery 1`, Slurm's
// default) the watchdog ends the wait, and this finds out who is gone. It keeps a communicator
// of its own on which every wait below answers pings and takes notices naming processes that
// are gone, so that one process finding a dead peer stops all the others at once. Errors on it
// are returned, not fatal: sending to a dead process must not end the sender.
class Liveness {
 public:
  void start(MPI_Comm world) {
    MPI_Comm_dup(world, &ctrl_);
    MPI_Comm_set_errhandler(ctrl_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(ctrl_, &rank_);
    MPI_Comm_size(ctrl_, &size_);
    MPI_Irecv(nullptr, 0, MPI_CHAR, MPI_ANY_SOURCE, kPing, ctrl_, &ping_);
    MPI_Irecv(notice_in_, kNoticeInts, MPI_INT, MPI_ANY_SOURCE, kNotice, ctrl_, &notice_);
  }

  // Before MPI_Finalize, when every process is known to be there.
  void stop() {
    if (ctrl_ == MPI_COMM_NULL) return;
    for (MPI_Request* r : {&ping_, &notice_}) {
      if (*r == MPI_REQUEST_NULL) continue;
      MPI_Cancel(r);
      MPI_Wait(r, MPI_STATUS_IGNORE);
    }
    MPI_Comm_free(&ctrl_);
  }

  // Answers pings and takes notices; called from every wait loop.
  void serve() {
    if (ctrl_ == MPI_COMM_NULL) return;
    int flag = 0;
    MPI_Status status;
    while (ping_ != MPI_REQUEST_NULL && MPI_Test(&ping_, &flag, &status) == MPI_SUCCESS && flag) {
      MPI_Request pong;
      MPI_Isend(nullptr, 0, MPI_CHAR, status.MPI_SOURCE, kPong, ctrl_, &pong);
      MPI_Request_free(&pong);
      MPI_Irecv(nullptr, 0, MPI_CHAR, MPI_ANY_SOURCE, kPing, ctrl_, &ping_);
    }
    if (notice_ != MPI_REQUEST_NULL && MPI_Test(&notice_, &flag, &status) == MPI_SUCCESS && flag) {
      const int n = std::clamp(notice_in_[0], 0, kNoticeInts - 1);
      for (int i = 1; i <= n; ++i) note_lost(notice_in_[i]);
      MPI_Irecv(notice_in_, kNoticeInts, MPI_INT, MPI_ANY_SOURCE, kNotice, ctrl_, &notice_);
    }
  }

  [[nodiscard]] const std::vector<int>& lost() const { return lost_; }

  // Pings every other process and returns those that did not answer within `window_s`; names
  // them to the others. Once per process: a second probe could take a late answer to the
  // first for a live peer.
  std::vector<int> probe(double window_s) {
    if (ctrl_ == MPI_COMM_NULL || probed_ || !lost_.empty()) return lost_;
    probed_ = true;
    std::vector<MPI_Request> answers(static_cast<std::size_t>(size_), MPI_REQUEST_NULL);
    for (int p = 0; p < size_; ++p) {
      if (p == rank_) continue;
      MPI_Irecv(nullptr, 0, MPI_CHAR, p, kPong, ctrl_, &answers[static_cast<std::size_t>(p)]);
      MPI_Request ping;
      MPI_Isend(nullptr, 0, MPI_CHAR, p, kPing, ctrl_, &ping);
      MPI_Request_free(&ping);
    }
    const double deadline = MPI_Wtime() + window_s;
    for (;;) {
      serve();
      if (!lost_.empty()) break;  // another process named them first
      int done = 0;
      MPI_Testall(size_, answers.data(), &done, MPI_STATUSES_IGNORE);
      if (done || MPI_Wtime() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const bool told = !lost_.empty();  // by another process, during the window
    for (int p = 0; p < size_; ++p) {
      MPI_Request& r = answers[static_cast<std::size_t>(p)];
      if (r == MPI_REQUEST_NULL) continue;
      int flag = 0;
      MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
      if (flag) continue;
      MPI_Cancel(&r);
      MPI_Request_free(&r);
      if (!told) note_lost(p);
    }
    if (!told && !lost_.empty()) announce();
    return lost_;
  }

 private:
  static constexpr int kPing = 7101, kPong = 7102, kNotice = 7103;
  static constexpr int kNoticeInts = 9;  // count, then up to 8 processes

  void note_lost(int p) {
    if (p < 0 || p >= size_ || p == rank_) return;
    if (std::find(lost_.begin(), lost_.end(), p) == lost_.end()) lost_.push_back(p);
    std::sort(lost_.begin(), lost_.end());
  }

  // Tells every live process which are gone; waits at most a second for the sends (they are
  // small, so they leave at once unless the peer is gone too).
  void announce() {
    notice_out_[0] = static_cast<int>(std::min<std::size_t>(lost_.size(), kNoticeInts - 1));
    for (int i = 0; i < notice_out_[0]; ++i)
      notice_out_[i + 1] = lost_[static_cast<std::size_t>(i)];
    std::vector<MPI_Request> sends;
    for (int p = 0; p < size_; ++p) {
      if (p == rank_ || std::binary_search(lost_.begin(), lost_.end(), p)) continue;
      sends.emplace_back();
      MPI_Isend(notice_out_, kNoticeInts, MPI_INT, p, kNotice, ctrl_, &sends.back());
    }
    const double deadline = MPI_Wtime() + 1.0;
    int done = 0;
    while (!sends.empty() && MPI_Wtime() < deadline) {
      serve();
      MPI_Testall(static_cast<int>(sends.size()), sends.data(), &done, MPI_STATUSES_IGNORE);
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  MPI_Comm ctrl_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  MPI_Request ping_ = MPI_REQUEST_NULL, notice_ = MPI_REQUEST_NULL;
  int notice_in_[kNoticeInts] = {};
  int notice_out_[kNoticeInts] = {};
  std::vector<int> lost_;
  bool probed_ = false;
};

Liveness& liveness() {
  static Liveness one;
  return one;
}

enum class Waited { kDone, kTimedOut, kPeerGone };

// Waits for `requests` until `timeout_s` has passed or another process names one that is gone.
Waited wait_all(int count, MPI_Request* requests, double timeout_s) {
  const double deadline = MPI_Wtime() + timeout_s;
  for (int spins = 0;; ++spins) {
    int done = 0;
    MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE);
    if (done) return Waited::kDone;
    liveness().serve();
    if (!liveness().lost().empty()) return Waited::kPeerGone;
    if (MPI_Wtime() > deadline) return Waited::kTimedOut;
    if (spins < 200) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

class MpiCoordinator final : public Coordinator {
 public:
  explicit MpiCoordinator(bool owns) : owns_(owns) {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    liveness().start(comm_);
  }
  ~MpiCoordinator() override {
    liveness().stop();
    MPI_Comm_free(&comm_);
    if (owns_) MPI_Finalize();
  }
  int process_rank() const override { return rank_; }
  int process_count() const override { return size_; }
  MPI_Comm comm() const { return comm_; }

  std::optional<int> agree_max(int value, double timeout_s) override {
    int out = 0;
    MPI_Request req;
    MPI_Iallreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_, &req);
    if (wait_all(1, &req, timeout_s) != Waited::kDone) return std::nullopt;
    return out;
  }

  bool broadcast(std::vector<char>& bytes, double timeout_s) override {
    MPI_Request req;
    MPI_Ibcast(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, 0, comm_, &req);
    return wait_all(1, &req, timeout_s) == Waited::kDone;
  }

  std::optional<std::vector<std::string>> gather(const std::string& mine,
                                                 double timeout_s) override {
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_), 0);
    MPI_Request req;
    MPI_Igather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm_, &req);
    if (wait_all(1, &req, timeout_s) != Waited::kDone) return std::nullopt;
    std::vector<int> offsets(lengths.size(), 0);
    for (std::size_t i = 1; i < lengths.size(); ++i) offsets[i] = offsets[i - 1] + lengths[i - 1];
    std::string all(rank_ == 0 ? static_cast<std::size_t>(offsets.back() + lengths.back()) : 0,
                    '\0');
    MPI_Igatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                 MPI_CHAR, 0, comm_, &req);
    if (wait_all(1, &req, timeout_s) != Waited::kDone) return std::nullopt;
    std::vector<std::string> out;
    if (rank_ == 0) {
      for (std::size_t i = 0; i < lengths.size(); ++i) {
        out.push_back(
            all.substr(static_cast<std::size_t>(offsets[i]), static_cast<std::size_t>(lengths[i])));
      }
    }
    return out;
  }

  void abort_job(int code) override { MPI_Abort(MPI_COMM_WORLD, code); }

  std::vector<int> lost_processes(double window_s) override { return liveness().probe(window_s); }

  void leave(int code) override {
    std::fflush(nullptr);
    std::_Exit(code);
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  bool owns_ = false;
};

MPI_Datatype mpi_type(ElementType type) {
  switch (type) {
    case ElementType::kInt16:
      return MPI_INT16_T;
    case ElementType::kInt32:
      return MPI_INT32_T;
    default:
      return MPI_FLOAT;  // kFp32; 2-byte floats use kInt16 on the CPU
  }
}

class MpiTransport final : public Transport {
 public:
  MpiTransport(MPI_Comm parent, double timeout_s) : timeout_s_(timeout_s) {
    MPI_Comm world;
    MPI_Comm_dup(parent, &world);
    int rank = 0;
    MPI_Comm_rank(world, &rank);
    ranks_ = {rank};
    comms_[0] = {world, rank};
  }
  ~MpiTransport() override {
    if (hung_) return;  // a request is still pending; the job is being aborted
    for (auto& [id, c] : comms_) MPI_Comm_free(&c.comm);
  }

  const std::vector<int>& slots() const override { return ranks_; }
  bool on_cpu() const override { return true; }

  std::string versions() const override {
    char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    MPI_Get_library_version(text, &length);
    std::string v(text, static_cast<std::size_t>(length));
    return v.substr(0, v.find_first_of(",\n"));
  }

  std::vector<RankInfo> describe() override {
    char host[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(host, &length);
    return {RankInfo{ranks_[0], std::string(host, static_cast<std::size_t>(length)),
                     static_cast<int>(getpid()), -1, "CPU (MPI backend)", "-"}};
  }

  std::optional<Failure> split(int comm, const std::vector<int>& colors,
                               const std::vector<int>& keys, const std::string& what) override {
    MPI_Comm made = MPI_COMM_NULL;
    if (MPI_Comm_split(comms_.at(0).comm, colors[0], keys[0], &made) != MPI_SUCCESS) {
      return Failure{4, "MPI_Comm_split failed for " + what, false};
    }
    int position = 0;
    MPI_Comm_rank(made, &position);
    comms_[comm] = {made, position};
    return std::nullopt;
  }

  std::optional<Failure> reserve(std::size_t bytes) override {
    if (in_.size() < bytes) {
      in_.resize(bytes);
      out_.resize(bytes);
    }
    return std::nullopt;
  }

  std::optional<Failure> upload(const Buffers& inputs) override {
    std::memcpy(in_.data(), inputs[0].data(), inputs[0].size());
    return std::nullopt;
  }

  std::optional<Failure> download(std::size_t bytes, Buffers& outputs) override {
    outputs.resize(1);
    outputs[0].assign(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(bytes));
    return std::nullopt;
  }

  std::variant<std::vector<double>, Failure> run(const CollectiveCall& call) override {
    if (call.count > INT_MAX) {
      return Failure{
          4, call.what + ": " + std::to_string(call.count) + " elements exceed MPI's int count",
          false};
    }
    const Comm& c = comms_.at(call.comm);
    const bool skip = !call.skip.empty() && call.skip[0];
    double start = 0;
    for (int i = 0; i < call.warmup + call.iters; ++i) {
      if (i == call.warmup) start = MPI_Wtime();
      if (skip) continue;
      MPI_Request req[2];
      const int count = start_call(c, call, req);
      const Waited waited = wait_all(count, req, timeout_s_);
      if (waited != Waited::kDone) {
        hung_ = true;
        return Failure{4,
                       waited == Waited::kPeerGone
                           ? call.what + " was stopped: another process found a peer gone"
                           : "watchdog: " + call.what + " did not finish within " +
                                 std::to_string(static_cast<int>(timeout_s_)) + " s (--timeout)",
                       true};
      }
    }
    return std::vector<double>{(MPI_Wtime() - start) * 1e6 / call.iters};
  }

  void abort() override {}

 private:
  struct Comm {
    MPI_Comm comm = MPI_COMM_NULL;
    int position = 0;
  };

  int start_call(const Comm& c, const CollectiveCall& call, MPI_Request* req) {
    const MPI_Datatype t = mpi_type(call.type);
    const int n = call.group_size;
    const int count = static_cast<int>(call.count);
    const int chunk = count / n;
    void* in = in_.data();
    void* out = out_.data();
    switch (call.op) {
      case Op::kAllReduce:
        MPI_Iallreduce(in, out, count, t, MPI_SUM, c.comm, req);
        return 1;
      case Op::kAllGather:
        MPI_Iallgather(in, chunk, t, out, chunk, t, c.comm, req);
        return 1;
      case Op::kReduceScatter:
        MPI_Ireduce_scatter_block(in, out, chunk, t, MPI_SUM, c.comm, req);
        return 1;
      case Op::kAllToAll:
        MPI_Ialltoall(in, chunk, t, out, chunk, t, c.comm, req);
        return 1;
      case Op::kSendRecv:
        MPI_Irecv(out, count, t, (c.position + n - 1) % n, 7, c.comm, &req[0]);
        MPI_Isend(in, count, t, (c.position + 1) % n, 7, c.comm, &req[1]);
        return 2;
    }
    return 0;
  }

  std::vector<int> ranks_;
  std::map<int, Comm> comms_;
  std::vector<std::byte> in_, out_;
  double timeout_s_;
  bool hung_ = false;
};

}  // namespace

bool mpi_built() { return true; }

std::string mpi_library_name() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string v(text, static_cast<std::size_t>(length));
  return v.substr(0, v.find_first_of(",\n"));
}

std::variant<std::unique_ptr<Coordinator>, std::string> start_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) {
    return std::string("MPI_Init failed");
  }
  return std::unique_ptr<Coordinator>(std::make_unique<MpiCoordinator>(!initialized));
}

int mpi_node_rank(Coordinator& coordinator) {
  auto* mpi = dynamic_cast<MpiCoordinator*>(&coordinator);
  if (mpi == nullptr) return 0;
  MPI_Comm node;
  MPI_Comm_split_type(mpi->comm(), MPI_COMM_TYPE_SHARED, mpi->process_rank(), MPI_INFO_NULL, &node);
  int rank = 0;
  MPI_Comm_rank(node, &rank);
  MPI_Comm_free(&node);
  return rank;
}

std::variant<std::unique_ptr<Transport>, Failure> make_mpi_transport(Coordinator& coordinator,
                                                                     double timeout_s) {
  auto* mpi = dynamic_cast<MpiCoordinator*>(&coordinator);
  if (mpi == nullptr) return Failure{2, "the mpi backend needs MPI to be started", false};
  return std::unique_ptr<Transport>(std::make_unique<MpiTransport>(mpi->comm(), timeout_s));
}

}  // namespace layerplan::smoke
