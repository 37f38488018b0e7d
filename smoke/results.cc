#include "smoke/results.h"

namespace layerplan::smoke {

void to_json(nlohmann::json& j, const RankInfo& v) {
  j = {{"rank", v.rank},
       {"host", v.host},
       {"pid", v.pid},
       {"device", v.device},
       {"device_name", v.device_name},
       {"pci_bus_id", v.pci_bus_id}};
}

void from_json(const nlohmann::json& j, RankInfo& v) {
  v.rank = j.at("rank").get<int>();
  v.host = j.at("host").get<std::string>();
  v.pid = j.at("pid").get<int>();
  v.device = j.at("device").get<int>();
  v.device_name = j.at("device_name").get<std::string>();
  v.pci_bus_id = j.at("pci_bus_id").get<std::string>();
}

void to_json(nlohmann::json& j, const ProcessResult& v) {
  j = nlohmann::json::object();
  j["versions"] = v.versions;
  j["failure"] = v.failure ? nlohmann::json{{"exit_code", v.failure->exit_code},
                                            {"message", v.failure->message},
                                            {"hung", v.failure->hung}}
                           : nlohmann::json(nullptr);
  auto& ranks = j["ranks"] = nlohmann::json::array();
  for (const RankResult& r : v.ranks) {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : r.groups) {
      groups.push_back({{"set", g.set},
                        {"group", g.group_index},
                        {"position", g.position},
                        {"observed", g.observed},
                        {"allreduce_wrong", g.allreduce_wrong},
                        {"allreduce_count", g.allreduce_count},
                        {"first_wrong", g.first_wrong}});
    }
    nlohmann::json timings = nlohmann::json::array();
    for (const auto& t : r.timings) {
      timings.push_back({{"entry", t.entry},
                         {"time_us", t.time_us},
                         {"wrong", t.wrong},
                         {"first_wrong", t.first_wrong}});
    }
    ranks.push_back({{"info", r.info}, {"groups", groups}, {"timings", timings}});
  }
}

void from_json(const nlohmann::json& j, ProcessResult& v) {
  v.versions = j.at("versions").get<std::string>();
  if (const auto& f = j.at("failure"); !f.is_null()) {
    v.failure = Failure{f.at("exit_code").get<int>(), f.at("message").get<std::string>(),
                        f.at("hung").get<bool>()};
  }
  for (const auto& r : j.at("ranks")) {
    RankResult out;
    out.info = r.at("info").get<RankInfo>();
    for (const auto& g : r.at("groups")) {
      out.groups.push_back(
          {g.at("set").get<std::string>(), g.at("group").get<int>(), g.at("position").get<int>(),
           g.at("observed").get<std::vector<int>>(), g.at("allreduce_wrong").get<std::int64_t>(),
           g.at("allreduce_count").get<std::int64_t>(), g.at("first_wrong").get<std::string>()});
    }
    for (const auto& t : r.at("timings")) {
      out.timings.push_back({t.at("entry").get<int>(), t.at("time_us").get<double>(),
                             t.at("wrong").get<std::int64_t>(),
                             t.at("first_wrong").get<std::string>()});
    }
    v.ranks.push_back(std::move(out));
  }
}

}  // namespace layerplan::smoke
