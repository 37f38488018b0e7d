// base/: the exit codes every command shares, the one atomic file writer, and the launcher's
// rank that `layerplan smoke` and the smoke run read.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/atomic_write.h"
#include "base/exit_codes.h"
#include "base/rank.h"
#include "catch.h"
#include "temp_dir.h"

namespace layerplan {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_CASE("exit codes are the documented contract") {
  CHECK(kExitOk == 0);
  CHECK(kExitInvalid == 1);
  CHECK(kExitUsage == 2);
  CHECK(kExitSmokeFailed == 3);
  CHECK(kExitSmokeError == 4);
}

TEST_CASE("write_file_atomically: the file has exactly the bytes, replaced whole, no temporary") {
  test::TempDir dir;
  const std::string path = dir.path + "/out.json";
  std::string bytes("first\0line\n", 11);
  REQUIRE_FALSE(write_file_atomically(path, bytes));
  CHECK(read_all(path) == bytes);
  // A longer file replaced by a shorter one: nothing of the old tail is left.
  REQUIRE_FALSE(write_file_atomically(path, std::string("2\n")));
  CHECK(read_all(path) == "2\n");
  // In pieces: the pieces in order.
  auto produce = [](const ChunkSink& write) {
    for (int i = 0; i < 1000; ++i) {
      if (!write(std::to_string(i) + ",")) return false;
    }
    return true;
  };
  REQUIRE_FALSE(write_file_atomically(path, produce));
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += std::to_string(i) + ",";
  CHECK(read_all(path) == expected);
  // With writeback started every few bytes (sync_file_range on Linux): the same bytes.
  REQUIRE_FALSE(write_file_atomically(path, std::string("x\n")));
  REQUIRE_FALSE(write_file_atomically(path, produce, 7));
  CHECK(read_all(path) == expected);
  CHECK(names_in(dir.path) == std::vector<std::string>{"out.json"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("write_file_atomically: a producer that fails keeps the old file, no temporary") {
  test::TempDir dir;
  const std::string path = dir.path + "/out.json";
  REQUIRE_FALSE(write_file_atomically(path, std::string("old\n")));
  errno = ENOSPC;
  auto why = write_file_atomically(path, [](const ChunkSink& write) {
    (void)write("half of it");
    errno = ENOSPC;
    return false;
  });
  REQUIRE(why);
  CHECK(why->find("cannot write '" + path + "': write failed: No space left on device") == 0);
  CHECK(read_all(path) == "old\n");
  CHECK(names_in(dir.path) == std::vector<std::string>{"out.json"});
}

TEST_CASE("write_file_atomically: a directory, or a directory that is missing, is an error") {
  test::TempDir dir;
  auto is_dir = write_file_atomically(dir.path, std::string("x"));
  REQUIRE(is_dir);
  CHECK(*is_dir == "cannot write '" + dir.path + "': it exists and is not a regular file");
  auto trailing = write_file_atomically(dir.path + "/new/", std::string("x"));
  REQUIRE(trailing);
  auto missing = write_file_atomically(dir.path + "/no/such/dir/out.json", std::string("x"));
  REQUIRE(missing);
  CHECK(missing->find("cannot create a temporary file in '" + dir.path + "/no/such/dir'") !=
        std::string::npos);
  CHECK(names_in(dir.path).empty());
}

TEST_CASE("write_file_atomically into a read-only directory fails cleanly and keeps the old file") {
  test::TempDir dir;
  const std::string ro = dir.path + "/ro";
  fs::create_directory(ro);
  const std::string path = ro + "/manifest.json";
  REQUIRE_FALSE(write_file_atomically(path, std::string("previous\n")));
  fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                          fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  // Root writes into any directory: the write runs in a child that is the user nobody then.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto why = write_file_atomically(path, std::string("new\n"));
    std::string message = why ? *why : std::string("written");
    (void)!::write(fds[1], message.data(), message.size());
    ::_exit(why ? 0 : 1);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    message.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(message);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(message == "cannot write '" + path + "': cannot create a temporary file in '" + ro +
                       "': Permission denied");
  CHECK(read_all(path) == "previous\n");
  CHECK(names_in(ro) == std::vector<std::string>{"manifest.json"});
}

TEST_CASE("detect_launcher reads Open MPI, PMI, MVAPICH and Slurm variables") {
  CHECK_FALSE(detect_launcher(env_of({})).present);
  auto ompi = detect_launcher(env_of({{"OMPI_COMM_WORLD_SIZE", "4"},
                                      {"OMPI_COMM_WORLD_RANK", "2"},
                                      {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}}));
  CHECK(ompi.present);
  CHECK(ompi.size == 4);
  CHECK(ompi.rank == 2);
  CHECK(ompi.local_rank == 1);
  CHECK(ompi.source == "OMPI_COMM_WORLD_SIZE");
  auto pmi = detect_launcher(env_of({{"PMI_SIZE", "8"}, {"PMI_RANK", "7"}}));
  CHECK(pmi.present);
  CHECK(pmi.local_rank == -1);
  CHECK(detect_launcher(env_of({{"PMI_SIZE", "8"}, {"PMI_LOCAL_RANK", "3"}})).local_rank == 3);
  auto mv2 = detect_launcher(env_of({{"MV2_COMM_WORLD_SIZE", "2"}, {"MV2_COMM_WORLD_RANK", "1"}}));
  CHECK(mv2.present);
  CHECK(mv2.rank == 1);
  auto slurm = detect_launcher(
      env_of({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_LOCALID", "0"}}));
  CHECK(slurm.present);
  CHECK(slurm.rank == 1);
  CHECK(slurm.local_rank == 0);
  // One rank is not an MPI job; a garbled size is ignored.
  CHECK_FALSE(detect_launcher(env_of({{"OMPI_COMM_WORLD_SIZE", "1"}})).present);
  CHECK_FALSE(detect_launcher(env_of({{"OMPI_COMM_WORLD_SIZE", "4x"}})).present);
  // An sbatch shell without srun sets SLURM_NTASKS but no step variables.
  CHECK_FALSE(detect_launcher(env_of({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "0"}})).present);
}

TEST_CASE("is_first_rank: alone, rank 0 of a launcher, or PMIX_RANK 0") {
  CHECK(is_first_rank(env_of({})));
  CHECK(is_first_rank(env_of({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "0"}})));
  CHECK_FALSE(
      is_first_rank(env_of({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "3"}})));
  CHECK_FALSE(is_first_rank(env_of({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"}})));
  CHECK_FALSE(is_first_rank(env_of({{"PMIX_RANK", "5"}})));
  CHECK(is_first_rank(env_of({{"PMIX_RANK", "0"}})));
  // The launcher's own variables decide before PMIx's.
  CHECK(is_first_rank(env_of({{"PMI_SIZE", "2"}, {"PMI_RANK", "0"}, {"PMIX_RANK", "1"}})));
}

}  // namespace
}  // namespace layerplan
