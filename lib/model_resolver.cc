#include "lib/model_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "lib/source.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

struct HfId {
  std::string org, name, revision;  // revision empty: main
};

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// An organisation or repository name as the Hub spells them: letters, digits, '-', '_', '.',
// starting with a letter or a digit (so never '.' or '..').
bool id_part_ok(std::string_view s) {
  return !s.empty() && s.size() <= 96 && std::isalnum(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(), id_char);
}

// A branch, tag or commit: the same characters, plus '/' between parts (tags such as "v1/rc"),
// never '..'.
bool revision_ok(std::string_view s) {
  if (s.empty() || s.size() > 128 || s.front() == '/' || s.back() == '/') return false;
  if (s.find("..") != std::string_view::npos || s.find("//") != std::string_view::npos)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return id_char(c) || c == '/'; });
}

std::optional<HfId> parse_id(std::string_view spec) {
  HfId id;
  std::size_t at = spec.find('@');
  if (at != std::string_view::npos) {
    id.revision = std::string(spec.substr(at + 1));
    if (!revision_ok(id.revision)) return std::nullopt;
    spec = spec.substr(0, at);
  }
  std::size_t slash = spec.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  id.org = std::string(spec.substr(0, slash));
  id.name = std::string(spec.substr(slash + 1));
  if (!id_part_ok(id.org) || !id_part_ok(id.name)) return std::nullopt;
  // "models/config.json" names a file, not a repository.
  for (std::string_view ext : {".json", ".yaml", ".yml"}) {
    if (id.name.size() > ext.size() &&
        id.name.compare(id.name.size() - ext.size(), ext.size(), ext) == 0) {
      return std::nullopt;
    }
  }
  return id;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A commit hash as huggingface_hub writes it into refs/<name>.
bool commit_ok(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c));
  });
}

// Whether `file` lies in `dir` once every symbolic link is followed: huggingface_hub links a
// snapshot's files into the repo folder's blobs/, and nothing it writes points out of the folder.
// A link out of it (or a loop, which fails to resolve) is not taken.
bool inside(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::path real_file = fs::canonical(file, ec);
  if (ec) return false;
  fs::path real_dir = fs::canonical(dir, ec);
  if (ec) return false;
  auto rel = real_file.lexically_relative(real_dir);
  return !rel.empty() && *rel.begin() != "..";
}

// The config.json of `revision` (a ref name or a commit) in a cache repo folder
// (models--org--name), or nothing; every path looked at goes to `tried`.
std::optional<std::string> from_repo_folder(const fs::path& repo, const std::string& revision,
                                            std::vector<std::string>& tried) {
  std::string rev = revision.empty() ? "main" : revision;
  fs::path ref = repo / "refs" / rev;
  tried.push_back(ref.string());
  if (is_file(ref)) {
    ReadError read_error;
    auto source = read_source(ref.string(), read_error, 256);
    std::string commit = source ? (*source)->text : "";
    while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back())))
      commit.pop_back();
    if (commit_ok(commit)) {
      fs::path config = repo / "snapshots" / commit / "config.json";
      tried.push_back(config.string());
      if (is_file(config)) {
        if (inside(config, repo)) return config.string();
        tried.back() += " (it links out of the cache folder: not followed)";
      }
    }
  }
  if (commit_ok(rev)) {  // a commit named directly
    fs::path config = repo / "snapshots" / rev / "config.json";
    tried.push_back(config.string());
    if (is_file(config)) {
      if (inside(config, repo)) return config.string();
      tried.back() += " (it links out of the cache folder: not followed)";
    }
  }
  return std::nullopt;
}

std::string download_hint(const HfId& id) {
  return fmt::format(
      "to fetch only its config (the one network step, yours to run): "
      "huggingface-cli download {}/{} config.json{}",
      id.org, id.name, id.revision.empty() ? "" : " --revision " + id.revision);
}

}  // namespace

std::string hf_cache_dir(const HfCacheEnv& env) {
  if (!env.hf_hub_cache.empty()) return env.hf_hub_cache;
  if (!env.hf_home.empty()) return (fs::path(env.hf_home) / "hub").string();
  if (!env.home.empty()) return (fs::path(env.home) / ".cache" / "huggingface" / "hub").string();
  return "";
}

std::optional<std::string> resolve_model(std::string_view spec, const std::string& base_dir,
                                         const HfCacheEnv& env, ModelResolveError& error) {
  if (spec.empty()) {
    error.message = "the model is named by an empty string";
    return std::nullopt;
  }
  fs::path path{std::string(spec)};
  if (path.is_relative() && !base_dir.empty()) path = fs::path(base_dir) / path;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (is_dir(path) && is_dir(path / "snapshots") && !is_file(path / "config.json")) {
      // A repo folder of the cache (models--org--name): its main revision.
      std::vector<std::string> tried;
      if (auto found = from_repo_folder(path, "", tried)) return found;
      error.message = fmt::format(
          "'{}' looks like a HuggingFace cache folder, but its main revision has no config.json",
          path.string());
      for (const auto& t : tried) error.notes.push_back(fmt::format("tried {}", t));
      return std::nullopt;
    }
    return path.string();  // load_hf_config says what else may be wrong with it
  }
  std::optional<HfId> id = parse_id(spec);
  if (!id) return path.string();
  std::string cache = hf_cache_dir(env);
  std::vector<std::string> tried = {path.string()};
  if (!cache.empty()) {
    fs::path repo = fs::path(cache) / fmt::format("models--{}--{}", id->org, id->name);
    if (auto found = from_repo_folder(repo, id->revision, tried)) return found;
  }
  std::string what = id->revision.empty()
                         ? fmt::format("'{}/{}'", id->org, id->name)
                         : fmt::format("revision '{}' of '{}/{}'", id->revision, id->org, id->name);
  error.message =
      cache.empty() ? fmt::format(
                          "cannot find model {}: no such path, and no HuggingFace cache to look in "
                          "(HF_HUB_CACHE, HF_HOME and HOME are all unset)",
                          what)
                    : fmt::format(
                          "cannot find model {}: no such path, and not in the HuggingFace cache "
                          "'{}' (layerplan never downloads)",
                          what, cache);
  for (const auto& t : tried) error.notes.push_back(fmt::format("tried {}", t));
  error.notes.push_back(download_hint(*id));
  return std::nullopt;
}

}  // namespace layerplan
