#include "lib/manifest_diff.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "lib/index_ranges.h"
#include "lib/manifest_file.h"

namespace layerplan {
namespace {

using ojson = nlohmann::ordered_json;

// Top-level keys that say where a manifest came from, not what it plans.
bool is_context(std::string_view key) {
  return key == "schema_version" || key == "generator" || key == "inputs";
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : key.empty() ? path : path + "." + key;
}

// Arrays compared element by element when of equal length: those of objects (stages, comms)
// and those of strings (argv). Others (rank groups) are one value.
bool walked(const ojson& array) {
  return std::any_of(array.begin(), array.end(),
                     [](const ojson& e) { return e.is_object() || e.is_string(); });
}

std::optional<ojson> value_of(const ojson* v) {
  return v != nullptr ? std::optional<ojson>(*v) : std::nullopt;
}

// Appends a change for every leaf that differs. Objects are walked key by key (A's order, then
// B's new keys); arrays of objects or strings of equal length element by element; any other
// value (rank groups) is one leaf.
void diff_values(const std::string& path, const ojson* a, const ojson* b,
                 std::vector<FieldChange>& out) {
  if (a != nullptr && b != nullptr) {
    if (a->is_object() && b->is_object()) {
      for (const auto& [key, value] : a->items()) {
        auto it = b->find(key);
        diff_values(join_path(path, key), &value, it == b->end() ? nullptr : &*it, out);
      }
      for (const auto& [key, value] : b->items()) {
        if (!a->contains(key)) diff_values(join_path(path, key), nullptr, &value, out);
      }
      return;
    }
    if (a->is_array() && b->is_array() && a->size() == b->size() && (walked(*a) || walked(*b))) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        diff_values(path + "[" + std::to_string(i) + "]", &(*a)[i], &(*b)[i], out);
      }
      return;
    }
    if (*a == *b) return;
  }
  out.push_back(FieldChange{path, value_of(a), value_of(b)});
}

const ojson* member(const ojson& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const ojson* layer, const char* key) {
  const ojson* v = layer != nullptr ? member(*layer, key) : nullptr;
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// A layer as compared: without its prefix (the key it is matched by) and its rule's line.
ojson comparable(const ojson* layer) {
  ojson copy = layer != nullptr && layer->is_object() ? *layer : ojson::object();
  copy.erase("prefix");
  if (auto it = copy.find("rule"); it != copy.end() && it->is_object()) it->erase("line");
  return copy;
}

// The prefix with the layer's index cut out ("model.layers.\x01.mlp"), and the index; a layer
// without one is its own template.
std::pair<std::string, std::optional<int>> layer_template(const std::string& prefix,
                                                          const ojson* layer) {
  const ojson* index = layer != nullptr ? member(*layer, "index") : nullptr;
  if (index == nullptr || !index->is_number_integer()) return {prefix, std::nullopt};
  auto i = index->get<std::int64_t>();
  if (i < 0 || i > (std::int64_t{1} << 30)) return {prefix, std::nullopt};
  std::string needle = std::to_string(i);
  std::size_t start = 0;
  while (start <= prefix.size()) {
    std::size_t end = prefix.find('.', start);
    if (end == std::string::npos) end = prefix.size();
    if (prefix.compare(start, end - start, needle) == 0 && end - start == needle.size()) {
      return {prefix.substr(0, start) + "\x01" + prefix.substr(end), static_cast<int>(i)};
    }
    start = end + 1;
  }
  return {prefix, std::nullopt};
}

struct LayerEntry {
  std::string prefix;
  const ojson* a = nullptr;
  const ojson* b = nullptr;
};

// The layers of both manifests matched by prefix: B's order, then the layers only A has.
std::vector<LayerEntry> match_layers(const ojson* a, const ojson* b) {
  std::vector<LayerEntry> entries;
  std::map<std::string, std::size_t> at;
  auto add = [&](const ojson* layers, bool is_a) {
    if (layers == nullptr || !layers->is_array()) return;
    for (std::size_t i = 0; i < layers->size(); ++i) {
      const ojson& layer = (*layers)[i];
      std::string prefix = string_member(&layer, "prefix");
      if (prefix.empty()) prefix = "#" + std::to_string(i);
      auto [it, fresh] = at.try_emplace(prefix, entries.size());
      if (fresh) entries.push_back(LayerEntry{prefix});
      LayerEntry& e = entries[it->second];
      (is_a ? e.a : e.b) = &layer;
    }
  };
  add(b, false);
  add(a, true);
  return entries;
}

std::string fold_key(const std::string& tmpl, const LayerRangeDiff& d) {
  std::string key =
      tmpl + '\0' + d.kind + '\0' + d.flavor + '\0' + std::to_string(static_cast<int>(d.presence));
  for (const auto& c : d.changes) {
    key += '\0' + c.field + '\0' + (c.a ? c.a->dump() : "-") + '\0' + (c.b ? c.b->dump() : "-");
  }
  return key;
}

void diff_layers(const ojson& a, const ojson& b, ManifestDiff& diff) {
  const ojson* la = member(a, "layers");
  const ojson* lb = member(b, "layers");
  diff.layers_a = la != nullptr && la->is_array() ? la->size() : 0;
  diff.layers_b = lb != nullptr && lb->is_array() ? lb->size() : 0;
  std::map<std::string, std::size_t> folded;  // fold key -> position in diff.layers
  std::vector<std::string> templates;
  std::vector<std::vector<int>> indices;
  for (const LayerEntry& e : match_layers(la, lb)) {
    LayerRangeDiff d;
    const ojson* either = e.b != nullptr ? e.b : e.a;
    d.kind = string_member(either, "kind");
    d.flavor = string_member(either, "flavor");
    if (e.a == nullptr)
      d.presence = LayerPresence::kOnlyB;
    else if (e.b == nullptr)
      d.presence = LayerPresence::kOnlyA;
    if (d.presence == LayerPresence::kBoth) {
      ojson ca = comparable(e.a), cb = comparable(e.b);
      diff_values("", &ca, &cb, d.changes);
      if (d.changes.empty()) continue;
    }
    auto [tmpl, index] = layer_template(e.prefix, either);
    auto [it, fresh] = folded.try_emplace(fold_key(tmpl, d), diff.layers.size());
    if (fresh) {
      diff.layers.push_back(std::move(d));
      templates.push_back(tmpl);
      indices.emplace_back();
    }
    diff.layers[it->second].prefixes.push_back(e.prefix);
    if (index) indices[it->second].push_back(*index);
    ++diff.layers_changed;
  }
  for (std::size_t i = 0; i < diff.layers.size(); ++i) {
    LayerRangeDiff& d = diff.layers[i];
    std::vector<int>& v = indices[i];
    if (d.prefixes.size() == 1 || v.size() != d.prefixes.size()) {
      d.label = d.prefixes.size() == 1 ? d.prefixes.front() : templates[i];
      continue;
    }
    std::sort(v.begin(), v.end());
    std::size_t hole = templates[i].find('\x01');
    d.label =
        templates[i].substr(0, hole) + "{" + index_ranges(v) + "}" + templates[i].substr(hole + 1);
  }
}

// Top-level keys of both manifests: B's order, then those only A has.
std::vector<std::string> top_keys(const ojson& a, const ojson& b) {
  std::vector<std::string> keys;
  for (const ojson* m : {&b, &a}) {
    if (!m->is_object()) continue;
    for (const auto& [key, value] : m->items()) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  return keys;
}

}  // namespace

std::vector<std::string> ManifestDiff::differing() const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i <= sections.size(); ++i) {
    if (i == layers_at && !layers.empty()) names.push_back("layers");
    if (i < sections.size()) names.push_back(sections[i].name);
  }
  return names;
}

ManifestDiff diff_manifests(const ojson& a, const ojson& b) {
  ManifestDiff diff;
  bool layers_seen = false;
  for (const std::string& key : top_keys(a, b)) {
    if (key == "layers") {
      diff.layers_at = diff.sections.size();
      layers_seen = true;
      continue;
    }
    const ojson* va = member(a, key);
    const ojson* vb = member(b, key);
    if (is_context(key)) {
      std::vector<FieldChange> changes;
      diff_values("", va, vb, changes);
      for (auto& c : changes) {
        c.field = join_path(key, c.field);
        diff.context.push_back(std::move(c));
      }
      continue;
    }
    SectionDiff section{key, {}};
    diff_values("", va, vb, section.changes);
    if (!section.changes.empty()) diff.sections.push_back(std::move(section));
  }
  if (!layers_seen) diff.layers_at = diff.sections.size();
  diff_layers(a, b, diff);
  return diff;
}

namespace {

DiffResult diff_read(const std::string* paths[2], const std::optional<SourcePtr> given[2]) {
  DiffResult result;
  std::optional<ojson> values[2];
  for (int i = 0; i < 2; ++i) {
    bool unreadable = false;
    auto read = read_manifest_file(*paths[i], given[i], result.diags, unreadable);
    if (!read) continue;
    std::vector<ManifestProblem> problems;
    if (!read_report_model(read->value, problems)) {
      report_manifest_problems(problems, read->file, result.diags);
      continue;
    }
    values[i] = std::move(read->value);
  }
  if (values[0] && values[1]) result.diff = diff_manifests(*values[0], *values[1]);
  return result;
}

}  // namespace

DiffResult diff_manifest_files(const DiffRequest& request) {
  const std::string* paths[2] = {&request.a_path, &request.b_path};
  const std::optional<SourcePtr> none[2];
  return diff_read(paths, none);
}

DiffResult diff_manifest_texts(const SourcePtr& a, const SourcePtr& b) {
  const std::string* paths[2] = {&a->path, &b->path};
  const std::optional<SourcePtr> given[2] = {a, b};
  return diff_read(paths, given);
}

}  // namespace layerplan
