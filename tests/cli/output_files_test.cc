// `compile -o FILE` onto a read-only file system and onto a full disk: exit 2 with the reason,
// the previous FILE as it was, no temporary behind. Both mount a small tmpfs, which needs root
// and CAP_SYS_ADMIN; where that is refused the test prints "SKIPPED: reason" and ctest reports it
// skipped. (A directory swapped for a symbolic link is in hostile_test.cc.)
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catch.h"
#include "run_binary.h"

namespace {

namespace fs = std::filesystem;

using layerplan::test::contains;
using layerplan::test::in_scratch;
using layerplan::test::names_in;
using layerplan::test::Result;
using layerplan::test::run;
using layerplan::test::slurp;
using layerplan::test::spit;

Result compile_to(const std::string& output) {
  return run({"compile", "--config", "fixtures/models/llama3_8b.json", "--rules",
              "fixtures/rules/good_tp2_pp2.yaml", "-o", output});
}

void expect_clean_failure(const Result& r, const std::string& message) {
  INFO("exit " << r.code << "\n" << r.all().substr(0, 2000));
  CHECK(r.code == 2);
  CHECK(contains(r.all(), message));
  CHECK_FALSE(contains(r.all(), "Sanitizer"));
  CHECK_FALSE(contains(r.all(), "internal error"));
}

// A tmpfs of `kib` KiB at `dir`, unmounted when it goes out of scope; `error` says why not.
struct Tmpfs {
  std::string dir;
  bool mounted = false;
  std::string error;
  Tmpfs(std::string where, int kib) : dir(std::move(where)) {
    fs::create_directories(dir);
    std::string options = "size=" + std::to_string(kib) + "k,mode=0755";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted = true;
    } else {
      error = std::strerror(errno);
    }
  }
  [[nodiscard]] bool remount_read_only() const {
    return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }
  ~Tmpfs() {
    if (mounted) (void)::umount2(dir.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
};

TEST_CASE("-o onto a read-only file system and onto a full disk keeps the old file") {
  if (::geteuid() != 0) {
    std::printf("SKIPPED: mounting a tmpfs needs root (euid %d)\n", static_cast<int>(::geteuid()));
    return;
  }
  std::string base = in_scratch("out_tmpfs");
  fs::create_directories(base);
  const std::string previous = "previous manifest\n";

  {
    Tmpfs ro(base + "/ro", 256);
    if (!ro.mounted) {
      std::printf("SKIPPED: cannot mount a tmpfs here: %s\n", ro.error.c_str());
      return;
    }
    spit(ro.dir + "/manifest.json", previous);
    REQUIRE(ro.remount_read_only());
    expect_clean_failure(compile_to(ro.dir + "/manifest.json"), "Read-only file system");
    CHECK(slurp(ro.dir + "/manifest.json") == previous);
    CHECK(names_in(ro.dir) == std::vector<std::string>{"manifest.json"});
  }
  {
    Tmpfs full(base + "/full", 64);
    REQUIRE(full.mounted);
    spit(full.dir + "/manifest.json", previous);
    // Fill what is left, then free nothing: the manifest (tens of KiB) cannot fit.
    {
      std::ofstream filler(full.dir + "/filler", std::ios::binary);
      std::string block(4096, 'x');
      for (int i = 0; i < 64 && filler.write(block.data(), block.size()); ++i) {
      }
    }
    expect_clean_failure(compile_to(full.dir + "/manifest.json"), "No space left on device");
    CHECK(slurp(full.dir + "/manifest.json") == previous);
    CHECK(names_in(full.dir) == std::vector<std::string>{"filler", "manifest.json"});
  }
}

}  // namespace
