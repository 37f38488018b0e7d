// The device session against an in-process simulated transport: it proves that the session
// catches a communicator whose order differs from the manifest, wrong data, and a hang, without
// GPUs or MPI.
#include "smoke/session.h"

#include <algorithm>
#include <map>

#include "catch.h"

namespace layerplan::smoke {
namespace {

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(int world) {
    for (int r = 0; r < world; ++r) ranks_.push_back(r);
    comms_[0] = std::vector<int>(static_cast<std::size_t>(world), 0);
    keys_[0] = ranks_;
  }
  // Faults to inject.
  bool reverse_keys = false;  // a broken split: members ordered backwards
  bool corrupt = false;       // rank 1 receives one wrong element of every op
  std::string hang_on;        // collectives whose description contains this time out

  const std::vector<int>& slots() const override { return ranks_; }
  std::vector<RankInfo> describe() override {
    std::vector<RankInfo> out;
    for (int r : ranks_) out.push_back({r, "fake", 1, r, "Fake GPU", "0000:00:00.0"});
    return out;
  }
  std::string versions() const override { return "fake"; }
  bool on_cpu() const override { return false; }

  std::optional<Failure> split(int comm, const std::vector<int>& colors,
                               const std::vector<int>& keys, const std::string&) override {
    comms_[comm] = colors;
    keys_[comm] = keys;
    if (reverse_keys) {
      for (int& k : keys_[comm]) k = -k;
    }
    ++splits;
    return std::nullopt;
  }
  std::optional<Failure> reserve(std::size_t bytes) override {
    in_.assign(ranks_.size(), std::vector<std::byte>(bytes));
    out_.assign(ranks_.size(), std::vector<std::byte>(bytes));
    return std::nullopt;
  }
  std::optional<Failure> upload(const Buffers& inputs) override {
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      std::copy(inputs[k].begin(), inputs[k].end(), in_[k].begin());
    }
    return std::nullopt;
  }
  std::optional<Failure> download(std::size_t bytes, Buffers& outputs) override {
    outputs.resize(ranks_.size());
    for (std::size_t k = 0; k < ranks_.size(); ++k) {
      outputs[k].assign(out_[k].begin(), out_[k].begin() + static_cast<std::ptrdiff_t>(bytes));
    }
    return std::nullopt;
  }

  std::variant<std::vector<double>, Failure> run(const CollectiveCall& c) override {
    if (!hang_on.empty() && c.what.find(hang_on) != std::string::npos) {
      return Failure{4, "watchdog: " + c.what + " did not finish", true};
    }
    ++calls;
    const auto& colors = comms_.at(c.comm);
    const auto& keys = keys_.at(c.comm);
    const auto es = static_cast<std::size_t>(element_bytes(c.type));
    std::map<int, std::vector<std::pair<int, int>>> groups;  // color -> (key, slot)
    for (std::size_t k = 0; k < ranks_.size(); ++k) groups[colors[k]].push_back({keys[k], int(k)});
    for (auto& [color, members] : groups) {
      std::sort(members.begin(), members.end());
      const int n = static_cast<int>(members.size());
      const std::int64_t chunk = c.count / n;
      auto val = [&](int slot, std::int64_t i) {
        return decode(in_[static_cast<std::size_t>(slot)].data() + static_cast<std::size_t>(i) * es,
                      c.type);
      };
      for (int pos = 0; pos < n; ++pos) {
        auto& out = out_[static_cast<std::size_t>(members[static_cast<std::size_t>(pos)].second)];
        auto put = [&](std::int64_t i, double v) {
          encode(out.data() + static_cast<std::size_t>(i) * es, static_cast<int>(v), c.type);
        };
        for (std::int64_t i = 0; i < output_count(c.op, c.count, n); ++i) {
          double v = 0;
          switch (c.op) {
            case Op::kAllReduce:
              for (auto& m : members) v += val(m.second, i);
              break;
            case Op::kReduceScatter:
              for (auto& m : members) v += val(m.second, pos * chunk + i);
              break;
            case Op::kAllGather:
              v = val(members[static_cast<std::size_t>(i / chunk)].second, i % chunk);
              break;
            case Op::kAllToAll:
              v = val(members[static_cast<std::size_t>(i / chunk)].second, pos * chunk + i % chunk);
              break;
            case Op::kSendRecv:
              v = val(members[static_cast<std::size_t>((pos + n - 1) % n)].second, i);
              break;
          }
          put(i, v);
        }
        if (corrupt && members[static_cast<std::size_t>(pos)].second == 1 &&
            c.type != ElementType::kInt32) {
          put(0, val(1, 0) + 1000);
        }
      }
    }
    return std::vector<double>(ranks_.size(), 10.0);
  }
  void abort() override { ++aborts; }

  int splits = 0, calls = 0, aborts = 0;

 private:
  std::vector<int> ranks_;
  std::map<int, std::vector<int>> comms_, keys_;
  Buffers in_, out_;
};

ManifestView tpa_view() {
  ManifestView v;
  v.world_size = 4;
  v.axes = {4, 2, 2, 1, 1, 1, 0};
  v.sets = {{"world", {{0, 1, 2, 3}}},
            {"tp", {{0, 1, 2, 3}}},
            {"dcp", {{0, 1}, {2, 3}}},
            {"attn_tp", {{0, 2}, {1, 3}}},
            {"pp", {{0}, {1}, {2}, {3}}}};
  v.comms.push_back({"model.layers.0.self_attn", "attention", 0, Op::kAllToAll, "dcp", 64});
  v.comms.push_back({"model.layers.0.self_attn", "attention", 0, Op::kAllReduce, "tp", 128});
  v.comms.push_back({"model.layers.0.self_attn", "attention", 0, Op::kAllGather, "attn_tp", 64});
  v.comms.push_back(
      {"model.layers.0.self_attn", "attention", 0, Op::kReduceScatter, "attn_tp", 64});
  v.comms.push_back({"pipeline", "pipeline", -1, Op::kSendRecv, "dcp", 32});
  return v;
}

struct Run {
  ManifestView view = tpa_view();
  std::vector<TimedEntry> entries = plan_timings(view, 4, 2, 4096);
  SessionPlan plan;
  Run() {
    plan.view = &view;
    plan.entries = &entries;
    for (const auto& s : view.sets) plan.runnable.push_back(s.uniform_size() > 1);
    plan.type = ElementType::kBf16;
    plan.warmup = 1;
    plan.iters = 2;
  }
};

const GroupObservation* find(const RankResult& r, const std::string& set) {
  for (const auto& g : r.groups) {
    if (g.set == set) return &g;
  }
  return nullptr;
}

TEST_CASE("session: a healthy transport gives exact observations for every rank", "[smoke]") {
  Run run;
  FakeTransport t(4);
  LocalCoordinator c;
  const auto out = run_session(t, c, run.plan);
  REQUIRE_FALSE(out.failure);
  REQUIRE(out.ranks.size() == 4);
  CHECK(t.splits == 2);  // world and tp reuse the world communicator; dcp and attn_tp split
  CHECK(out.shared_with[1] == "the world communicator");
  for (const auto& r : out.ranks) {
    const auto* dcp = find(r, "dcp");
    REQUIRE(dcp);
    CHECK(dcp->observed == run.view.sets[2].groups[static_cast<std::size_t>(dcp->group_index)]);
    CHECK(dcp->allreduce_wrong == 0);
    CHECK(find(r, "pp") == nullptr);  // groups of one rank are not built
    CHECK(r.timings.size() == run.entries.size());
    for (const auto& t2 : r.timings) CHECK(t2.wrong == 0);
  }
}

TEST_CASE("session: a communicator ordered differently from the manifest is observed", "[smoke]") {
  Run run;
  FakeTransport t(4);
  t.reverse_keys = true;
  LocalCoordinator c;
  const auto out = run_session(t, c, run.plan);
  REQUIRE_FALSE(out.failure);
  const auto* dcp = find(out.ranks[0], "dcp");
  REQUIRE(dcp);
  CHECK(dcp->observed == std::vector<int>{1, 0});
  // Order-sensitive collectives then mismatch too; the all_reduce still sums right.
  CHECK(dcp->allreduce_wrong == 0);
  std::int64_t wrong = 0;
  for (const auto& r : out.ranks)
    for (const auto& s : r.timings) wrong += s.wrong;
  CHECK(wrong > 0);
}

TEST_CASE("session: corrupted data is counted per rank", "[smoke]") {
  Run run;
  FakeTransport t(4);
  t.corrupt = true;
  LocalCoordinator c;
  const auto out = run_session(t, c, run.plan);
  CHECK(find(out.ranks[1], "dcp")->allreduce_wrong == 1);
  CHECK(find(out.ranks[0], "dcp")->allreduce_wrong == 0);
  CHECK(find(out.ranks[1], "dcp")->first_wrong.find("element 0") == 0);
}

TEST_CASE("session: a hang stops the run, aborts, and names the collective", "[smoke]") {
  Run run;
  FakeTransport t(4);
  t.hang_on = "all_to_all";
  LocalCoordinator c;
  const auto out = run_session(t, c, run.plan);
  REQUIRE(out.failure);
  CHECK(out.failure->hung);
  CHECK(out.failure->message.find("all_to_all of") != std::string::npos);
  CHECK(out.failure->message.find("group set \"dcp\"") != std::string::npos);
  CHECK(t.aborts == 1);
  CHECK(find(out.ranks[0], "attn_tp") == nullptr);  // nothing after the hang
}

}  // namespace
}  // namespace layerplan::smoke
