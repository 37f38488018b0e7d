#include "smoke/session.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

namespace layerplan::smoke {
namespace {

using Groups = std::vector<std::vector<int>>;

std::string describe_mismatch(const Mismatch& m) {
  if (m.wrong == 0) return "";
  std::ostringstream s;
  s << "element " << m.first << ": got " << m.got << ", expected " << m.expected;
  return s.str();
}

// Runs fn(k) for every slot, one thread each when there are several: the host-side fills and
// checks of 64 MiB buffers are a large part of a run's wall time.
template <typename F>
void for_each_slot(std::size_t slots, F&& fn) {
  if (slots <= 1) {
    if (slots == 1) fn(std::size_t{0});
    return;
  }
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < slots; ++k) threads.emplace_back([&fn, k] { fn(k); });
  for (auto& t : threads) t.join();
}

CollectiveCall make_call(int comm, Op op, ElementType type, std::int64_t count, int n,
                         std::string what) {
  CollectiveCall c;
  c.comm = comm;
  c.op = op;
  c.type = type;
  c.count = count;
  c.group_size = n;
  c.what = std::move(what);
  return c;
}

class Runner {
 public:
  Runner(Transport& transport, Coordinator& coordinator, const SessionPlan& plan)
      : t_(transport), c_(coordinator), plan_(plan) {
    const auto infos = t_.describe();
    for (const RankInfo& info : infos) out_.ranks.push_back({info, {}, {}});
    out_.shared_with.assign(plan.view->sets.size(), "");
  }

  SessionOutcome run() {
    std::size_t capacity = kCheckCount * 4;
    for (const TimedEntry& e : *plan_.entries) {
      capacity = std::max(capacity, static_cast<std::size_t>(e.bytes));
    }
    capacity = std::max(capacity, static_cast<std::size_t>(plan_.view->world_size) * 4);
    fail(t_.reserve(capacity));
    // The world communicator is comm 0: a set listing exactly [0..W-1] reuses it.
    std::vector<int> all(static_cast<std::size_t>(plan_.view->world_size));
    for (std::size_t r = 0; r < all.size(); ++r) all[r] = static_cast<int>(r);
    comms_[Groups{all}] = {0, "the world communicator"};
    const auto& sets = plan_.view->sets;
    for (std::size_t si = 0; si < sets.size(); ++si) {
      if (!plan_.runnable[si]) continue;
      if (!in_step("before group set \"" + sets[si].name + "\"")) break;
      run_set(si);
    }
    in_step("at the end of the device checks");
    return std::move(out_);
  }

 private:
  void fail(std::optional<Failure> f) {
    if (f && !out_.failure) {
      if (f->hung) name_lost(*f);
      out_.failure = std::move(f);
      t_.abort();
    }
  }

  // A wait that ran out may mean a process is gone: ask which, so that the failure names it
  // (and every process stops now instead of waiting out its own watchdog).
  void name_lost(Failure& f) {
    const std::vector<int> lost = c_.lost_processes(std::clamp(plan_.timeout_s, 1.0, 5.0));
    if (lost.empty()) return;
    out_.lost = lost;
    std::string who;
    for (std::size_t i = 0; i < lost.size(); ++i) {
      who += (i == 0 ? "" : i + 1 == lost.size() ? " and " : ", ") + std::to_string(lost[i]);
    }
    f.message = (lost.size() == 1 ? "rank " + who + " is gone" : "ranks " + who + " are gone") +
                " (killed, crashed or exited early: no answer to a ping); here " + f.message;
  }

  // Every process reports whether it failed; all stop together if one did.
  bool in_step(const std::string& where) {
    const int mine = out_.failure ? out_.failure->exit_code : 0;
    // Longer than the watchdog: a peer may still be timing out a collective.
    auto agreed = c_.agree_max(mine, 2 * plan_.timeout_s + 10);
    if (!agreed) {
      fail(Failure{4, "a peer process did not answer " + where, true});
      return false;
    }
    if (*agreed != 0 && !out_.failure) {
      fail(Failure{*agreed, "stopped " + where + ": another process failed", false});
    }
    return *agreed == 0;
  }

  bool ok() const { return !out_.failure; }

  std::vector<char> skips(const std::string& set) {
    std::vector<char> skip(t_.slots().size(), 0);
    if (set == plan_.inject_hang && !injected_) {
      injected_ = true;
      for (std::size_t k = 0; k < skip.size(); ++k) skip[k] = t_.slots()[k] == 0;
    }
    return skip;
  }

  std::optional<std::vector<double>> call(CollectiveCall c) {
    auto r = t_.run(c);
    if (auto* f = std::get_if<Failure>(&r)) {
      fail(*f);
      return std::nullopt;
    }
    // Fault injection: a process whose every slot skipped the call has nothing left to check,
    // and its peers are waiting for it.
    if (!c.skip.empty() && std::all_of(c.skip.begin(), c.skip.end(), [](char s) { return s; })) {
      fail(Failure{4, "rank 0 skipped the " + c.what + " (--inject-hang)", true});
      return std::nullopt;
    }
    return std::get<std::vector<double>>(r);
  }

  void run_set(std::size_t si) {
    const GroupSet& set = plan_.view->sets[si];
    const int n = set.uniform_size();
    const auto& slots = t_.slots();
    // Communicator: reuse one built for the same groups, else split the world.
    Groups key = set.groups;
    std::sort(key.begin(), key.end());
    int comm = 0;
    if (auto it = comms_.find(key); it != comms_.end()) {
      comm = it->second.first;
      out_.shared_with[si] = it->second.second;
    } else {
      comm = static_cast<int>(comms_.size());
      std::vector<int> colors, keys;
      for (int r : slots) {
        auto [g, p] = set.locate(r);
        colors.push_back(g);
        keys.push_back(p);
      }
      fail(t_.split(comm, colors, keys, "group set \"" + set.name + "\""));
      if (!ok()) return;
      comms_[key] = {comm, "the communicator of group set \"" + set.name + "\""};
    }
    // Fault injection: this process dies here, as under the OOM killer, before its first
    // collective on the set; its peers must find out and name it.
    if (plan_.inject_kill == set.name + ":" + std::to_string(c_.process_rank())) {
      std::raise(SIGKILL);
    }
    // 1. All-gather of global ranks: the order NCCL/MPI assigned to each group.
    Buffers in(slots.size()), got;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      const std::int32_t r = slots[k];
      in[k].resize(4);
      std::memcpy(in[k].data(), &r, 4);
    }
    fail(t_.upload(in));
    if (!ok()) return;
    const std::string what = "group set \"" + set.name + "\"";
    CollectiveCall gather = make_call(comm, Op::kAllGather, ElementType::kInt32, n, n,
                                      "all_gather of global ranks on " + what);
    gather.skip = skips(set.name);
    if (!call(gather)) {
      return;
    }
    fail(t_.download(static_cast<std::size_t>(n) * 4, got));
    if (!ok()) return;
    std::vector<GroupObservation*> obs;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      auto [g, p] = set.locate(slots[k]);
      GroupObservation o{set.name, g, p, std::vector<int>(static_cast<std::size_t>(n)), 0, 0, ""};
      std::memcpy(o.observed.data(), got[k].data(), static_cast<std::size_t>(n) * 4);
      out_.ranks[k].groups.push_back(std::move(o));
      obs.push_back(&out_.ranks[k].groups.back());
    }
    // 2. One upload of seeded inputs serves the check and every timed entry of this set.
    const Pattern pattern = pattern_for(n, plan_.type, 11 + 7 * static_cast<int>(si));
    std::int64_t longest = kCheckCount;
    for (const TimedEntry& e : *plan_.entries) {
      if (e.set == set.name) longest = std::max(longest, input_count(e.op, e.count, n));
    }
    const auto es = static_cast<std::size_t>(element_bytes(plan_.type));
    for_each_slot(slots.size(), [&](std::size_t k) {
      in[k].resize(static_cast<std::size_t>(longest) * es);
      fill_input(in[k].data(), longest, slots[k], pattern, plan_.type);
    });
    fail(t_.upload(in));
    if (!ok()) return;
    auto checked = [&](Op op, std::int64_t count, Mismatch* each) {
      const std::int64_t outn = output_count(op, count, n);
      if (!ok()) return;
      fail(t_.download(static_cast<std::size_t>(outn) * es, got));
      if (!ok()) return;
      for_each_slot(slots.size(), [&](std::size_t k) {
        auto [g, p] = set.locate(slots[k]);
        std::vector<std::byte> expected(static_cast<std::size_t>(outn) * es);
        fill_expected(expected.data(), op, count, set.groups[static_cast<std::size_t>(g)], p,
                      pattern, plan_.type);
        each[k] = compare(got[k].data(), expected.data(), outn, plan_.type);
      });
    };
    std::vector<Mismatch> wrong(slots.size());
    if (!call(make_call(comm, Op::kAllReduce, plan_.type, kCheckCount, n,
                        "seeded all_reduce on " + what))) {
      return;
    }
    checked(Op::kAllReduce, kCheckCount, wrong.data());
    if (!ok()) return;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      obs[k]->allreduce_wrong = wrong[k].wrong;
      obs[k]->allreduce_count = kCheckCount;
      obs[k]->first_wrong = describe_mismatch(wrong[k]);
    }
    // 3. The planned collectives, timed, then their outputs checked.
    const auto& entries = *plan_.entries;
    for (std::size_t ei = 0; ei < entries.size(); ++ei) {
      const TimedEntry& e = entries[ei];
      if (e.set != set.name) continue;
      CollectiveCall timed = make_call(
          comm, e.op, plan_.type, e.count, n,
          std::string(op_name(e.op)) + " of " + std::to_string(e.bytes) + " bytes on " + what);
      timed.warmup = plan_.warmup;
      timed.iters = plan_.iters;
      timed.timed = true;
      auto us = call(timed);
      if (!us) return;
      checked(e.op, e.count, wrong.data());
      if (!ok()) return;
      for (std::size_t k = 0; k < slots.size(); ++k) {
        out_.ranks[k].timings.push_back(
            {static_cast<int>(ei), (*us)[k], wrong[k].wrong, describe_mismatch(wrong[k])});
      }
    }
  }

  Transport& t_;
  Coordinator& c_;
  const SessionPlan& plan_;
  SessionOutcome out_;
  std::map<Groups, std::pair<int, std::string>> comms_;
  bool injected_ = false;
};

}  // namespace

SessionOutcome run_session(Transport& transport, Coordinator& coordinator,
                           const SessionPlan& plan) {
  return Runner(transport, coordinator, plan).run();
}

}  // namespace layerplan::smoke
