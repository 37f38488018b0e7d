// Reads back what an HTML report draws (the page as written, or the DOM a browser dumped) and
// compares it with the manifest's groups: every rank of every group must be drawn in its group's
// view with its group index and its position in the group. Shared by the library test and the
// browser test.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace layerplan::test {

struct DrawnView {
  std::string view;                       // data-view
  std::string set;                        // data-set; empty for the nodes view
  std::optional<std::int64_t> singleton;  // data-singleton: groups of one rank, not drawn
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> cells;  // rank -> (group, position)
  std::size_t rects = 0;
};

inline std::string attribute(const std::string& tag, const std::string& name) {
  std::smatch m;
  std::regex re("\\s" + name + "=\"([^\"]*)\"");
  return std::regex_search(tag, m, re) ? m[1].str() : std::string();
}

inline std::vector<DrawnView> drawn_views(const std::string& html) {
  std::vector<DrawnView> views;
  static const std::regex rect_re("<rect\\b[^>]*>");
  for (std::size_t at = html.find("<section class=\"view"); at != std::string::npos;
       at = html.find("<section class=\"view", at + 1)) {
    std::size_t open_end = html.find('>', at);
    std::size_t end = html.find("</section>", at);
    if (open_end == std::string::npos || end == std::string::npos) break;
    std::string open = html.substr(at, open_end - at + 1);
    DrawnView v;
    v.view = attribute(open, "data-view");
    v.set = attribute(open, "data-set");
    std::string single = attribute(open, "data-singleton");
    if (!single.empty()) v.singleton = std::stoll(single);
    std::string body = html.substr(open_end, end - open_end);
    for (auto it = std::sregex_iterator(body.begin(), body.end(), rect_re);
         it != std::sregex_iterator(); ++it) {
      std::string tag = it->str();
      std::string rank = attribute(tag, "data-rank");
      if (rank.empty()) continue;
      ++v.rects;
      v.cells[std::stoll(rank)] = {std::stoll(attribute(tag, "data-group")),
                                   std::stoll(attribute(tag, "data-pos"))};
    }
    views.push_back(std::move(v));
  }
  return views;
}

// What differs between the drawn views and the manifest's groups (empty: all drawn, and right).
// Every rank must be drawn (a small plan).
inline std::vector<std::string> group_mismatches(const std::vector<DrawnView>& views,
                                                 const nlohmann::json& manifest) {
  std::vector<std::string> out;
  for (const auto& [name, groups] : manifest.at("groups").items()) {
    const DrawnView* view = nullptr;
    for (const auto& v : views) {
      if (v.set == name) view = &v;
    }
    if (!view) {
      out.push_back("set " + name + " has no view");
      continue;
    }
    std::size_t largest = 0, members = 0;
    for (const auto& g : groups) {
      largest = std::max(largest, g.size());
      members += g.size();
    }
    if (largest <= 1) {
      if (!view->singleton || *view->singleton != static_cast<std::int64_t>(groups.size())) {
        out.push_back("set " + name + ": groups of one rank not stated as such");
      }
      continue;
    }
    if (view->rects != members || view->cells.size() != members) {
      out.push_back("set " + name + ": " + std::to_string(view->rects) + " cells drawn for " +
                    std::to_string(members) + " members");
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t k = 0; k < groups[g].size(); ++k) {
        std::int64_t rank = groups[g][k].get<std::int64_t>();
        auto it = view->cells.find(rank);
        std::pair<std::int64_t, std::int64_t> want{static_cast<std::int64_t>(g),
                                                   static_cast<std::int64_t>(k)};
        if (it == view->cells.end()) {
          out.push_back("set " + name + ": rank " + std::to_string(rank) + " not drawn");
        } else if (it->second != want) {
          out.push_back("set " + name + ": rank " + std::to_string(rank) + " drawn in group " +
                        std::to_string(it->second.first) + " at " +
                        std::to_string(it->second.second) + ", not group " + std::to_string(g) +
                        " at " + std::to_string(k));
        }
      }
    }
  }
  return out;
}

}  // namespace layerplan::test
