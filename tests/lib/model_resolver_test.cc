// HuggingFace model ids resolved offline, against a fake cache tree made here: refs -> snapshots,
// revisions, the three environment variables in their order, the repo folder named as a path,
// and the error that lists the places tried.
#include "lib/model_resolver.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catch.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

struct FakeCache {
  fs::path root;
  FakeCache() {
    char tmpl[] = "/tmp/layerplan_hf_XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~FakeCache() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  static void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // A repo folder with refs/<ref> -> snapshots/<commit>/config.json for each pair.
  fs::path repo(const fs::path& hub, const std::string& id,
                const std::vector<std::pair<std::string, std::string>>& refs) {
    std::string folder =
        "models--" + id.substr(0, id.find('/')) + "--" + id.substr(id.find('/') + 1);
    fs::path r = hub / folder;
    for (const auto& [ref, commit] : refs) {
      write(r / "refs" / ref, commit + "\n");
      write(r / "snapshots" / commit / "config.json", "{\"commit\": \"" + commit + "\"}");
    }
    return r;
  }
};

TEST_CASE("resolve_model: an id is found through refs/main, an @revision through its ref") {
  FakeCache cache;
  fs::path hub = cache.root / "hub";
  fs::path repo =
      cache.repo(hub, "deepseek-ai/DeepSeek-V3", {{"main", "aaa111"}, {"v2", "bbb222"}});
  HfCacheEnv env{hub.string(), "", ""};
  ModelResolveError error;
  auto main = resolve_model("deepseek-ai/DeepSeek-V3", "", env, error);
  REQUIRE(main);
  CHECK(*main == (repo / "snapshots" / "aaa111" / "config.json").string());
  auto tagged = resolve_model("deepseek-ai/DeepSeek-V3@v2", "", env, error);
  REQUIRE(tagged);
  CHECK(*tagged == (repo / "snapshots" / "bbb222" / "config.json").string());
  auto commit = resolve_model("deepseek-ai/DeepSeek-V3@bbb222", "", env, error);  // a commit itself
  REQUIRE(commit);
  CHECK(*commit == *tagged);
}

TEST_CASE("resolve_model: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub") {
  FakeCache cache;
  cache.repo(cache.root / "hubcache", "org/a", {{"main", "c1"}});
  cache.repo(cache.root / "hfhome" / "hub", "org/a", {{"main", "c2"}});
  cache.repo(cache.root / "home" / ".cache" / "huggingface" / "hub", "org/a", {{"main", "c3"}});
  std::string hubcache = (cache.root / "hubcache").string(),
              hfhome = (cache.root / "hfhome").string(), home = (cache.root / "home").string();
  ModelResolveError error;
  auto via = [&](HfCacheEnv env) {
    auto p = resolve_model("org/a", "", env, error);
    return p ? fs::path(*p).parent_path().filename().string() : std::string("none");
  };
  CHECK(via({hubcache, hfhome, home}) == "c1");
  CHECK(via({"", hfhome, home}) == "c2");
  CHECK(via({"", "", home}) == "c3");
  CHECK(hf_cache_dir({"", "", home}) ==
        (cache.root / "home" / ".cache" / "huggingface" / "hub").string());
}

TEST_CASE("resolve_model: an existing path wins; the cache's repo folder works as a path") {
  FakeCache cache;
  fs::path repo = cache.repo(cache.root / "hub", "org/m", {{"main", "c9"}});
  FakeCache::write(cache.root / "local" / "org" / "m" / "config.json", "{}");
  HfCacheEnv env{(cache.root / "hub").string(), "", ""};
  ModelResolveError error;
  auto local = resolve_model("org/m", (cache.root / "local").string(), env, error);
  REQUIRE(local);
  CHECK(*local == (cache.root / "local" / "org" / "m").string());
  auto folder = resolve_model(repo.string(), "", env, error);
  REQUIRE(folder);
  CHECK(*folder == (repo / "snapshots" / "c9" / "config.json").string());
}

TEST_CASE("resolve_model: a missing id lists the places tried and the download command") {
  FakeCache cache;
  fs::path hub = cache.root / "hub";
  cache.repo(hub, "org/m", {{"main", "c1"}});
  HfCacheEnv env{hub.string(), "", ""};
  ModelResolveError error;
  CHECK_FALSE(resolve_model("org/other", "", env, error));
  CHECK(error.message.find("cannot find model 'org/other'") != std::string::npos);
  CHECK(error.message.find(hub.string()) != std::string::npos);
  bool tried_ref = false, hint = false;
  for (const auto& n : error.notes) {
    tried_ref |= n == "tried " + (hub / "models--org--other" / "refs" / "main").string();
    hint |= n.find("huggingface-cli download org/other config.json") != std::string::npos;
  }
  CHECK(tried_ref);
  CHECK(hint);
  ModelResolveError rev_error;
  CHECK_FALSE(resolve_model("org/m@nope", "", env, rev_error));
  CHECK(rev_error.message.find("revision 'nope' of 'org/m'") != std::string::npos);
  bool rev_hint = false;
  for (const auto& n : rev_error.notes) rev_hint |= n.find("--revision nope") != std::string::npos;
  CHECK(rev_hint);
  ModelResolveError no_cache;
  CHECK_FALSE(resolve_model("org/m", "", HfCacheEnv{}, no_cache));
  CHECK(no_cache.message.find("HF_HUB_CACHE, HF_HOME and HOME are all unset") != std::string::npos);
}

TEST_CASE(
    "resolve_model: what is not an id goes to the reader as a path; hostile refs stay inside") {
  FakeCache cache;
  fs::path hub = cache.root / "hub";
  HfCacheEnv env{hub.string(), "", ""};
  ModelResolveError error;
  auto plain = resolve_model("models/nope.json", "", env, error);
  REQUIRE(plain);
  CHECK(*plain == "models/nope.json");
  for (const char* spec : {"../x/y", "org/../m", "org/m@../../etc", "org/m@/abs", "a/b/c"}) {
    auto p = resolve_model(spec, "", env, error);
    INFO(spec);
    REQUIRE(p);  // a path for the reader, never a lookup outside the cache
    CHECK(p->find("models--") == std::string::npos);
  }
  // refs/main holding a path instead of a commit is not followed.
  FakeCache::write(hub / "models--org--evil" / "refs" / "main", "../../../etc\n");
  CHECK_FALSE(resolve_model("org/evil", "", env, error));
}

TEST_CASE("resolve_model: a snapshot linking out of the cache, or in a loop, is not followed") {
  FakeCache cache;
  fs::path hub = cache.root / "hub";
  HfCacheEnv env{hub.string(), "", ""};
  FakeCache::write(cache.root / "outside" / "config.json", "{}");
  fs::path repo = hub / "models--org--m";
  FakeCache::write(repo / "refs" / "main", "out\n");
  FakeCache::write(repo / "refs" / "loop", "loop\n");
  fs::create_directories(repo / "snapshots");
  fs::create_directory_symlink("../../../outside", repo / "snapshots" / "out");
  fs::create_directory_symlink("loop", repo / "snapshots" / "loop");
  ModelResolveError error;
  CHECK_FALSE(resolve_model("org/m", "", env, error));
  bool said = false;
  for (const auto& note : error.notes)
    said = said || note.find("links out of the cache folder") != std::string::npos;
  CHECK(said);
  ModelResolveError loop_error;
  CHECK_FALSE(resolve_model("org/m@loop", "", env, loop_error));
  // huggingface_hub's own layout, a snapshot file linking into blobs/, is followed.
  FakeCache::write(repo / "blobs" / "0123abcd", "{}");
  fs::create_directories(repo / "snapshots" / "abc");
  fs::create_symlink("../../blobs/0123abcd", repo / "snapshots" / "abc" / "config.json");
  FakeCache::write(repo / "refs" / "main", "abc\n");
  ModelResolveError ok_error;
  auto found = resolve_model("org/m", "", env, ok_error);
  REQUIRE(found);
  CHECK(*found == (repo / "snapshots" / "abc" / "config.json").string());
}

}  // namespace
}  // namespace layerplan
