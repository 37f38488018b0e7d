// All-or-nothing output, the one copy every part uses (lib/, cli/, smoke/): write to a temporary
// file in the destination's directory, fsync it, rename it over the destination, fsync the
// directory. A failed write leaves any existing file untouched and no temporary behind, and says
// why. Header-only (base/): POSIX and the standard library, nothing else.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace layerplan {

// Receives the contents piece by piece; returns false when a piece could not be written.
using ChunkSink = std::function<bool(std::string_view)>;

// Writes what `produce` hands to its sink to `path`, atomically. `produce` returns false when
// the sink did (the write error is reported then). Returns an error message, or nullopt.
// `writeback_every` > 0 (Linux): each time that many more bytes are written, the kernel is asked
// to start writing them to disk (sync_file_range, which does not wait), so that the final fsync
// waits only for the tail. For producers whose writing thread waits on others anyway: it costs
// a system call per step.
[[nodiscard]] inline std::optional<std::string> write_file_atomically(
    const std::string& path, const std::function<bool(const ChunkSink& write)>& produce,
    std::size_t writeback_every = 0) {
  auto failure = [&path](const std::string& what) {
    return "cannot write '" + path + "': " + what;
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return failure("it exists and is not a regular file");
  }
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return failure("the path names a directory");
  const std::string tmpl = dir + "/." + base + ".tmpXXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return failure("cannot create a temporary file in '" + dir + "': " + std::strerror(errno));
  }
  // After any failure: the temporary goes, the destination was never touched.
  auto fail = [&](const char* what, bool open) {
    std::string message = failure(std::string(what) + " failed: " + std::strerror(errno));
    if (open) ::close(fd);
    ::unlink(name.data());
    return message;
  };
  off_t total = 0;    // bytes written so far
  off_t started = 0;  // bytes whose writeback was started
  auto write = [fd, &total, &started, writeback_every](std::string_view contents) {
    std::size_t written = 0;
    while (written < contents.size()) {
      const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      written += static_cast<std::size_t>(n);
    }
    total += static_cast<off_t>(written);
#ifdef __linux__
    if (writeback_every > 0 && total - started >= static_cast<off_t>(writeback_every)) {
      // Advisory: a file system that refuses it is synced in full by the fsync below.
      (void)::sync_file_range(fd, started, total - started, SYNC_FILE_RANGE_WRITE);
      started = total;
    }
#else
    (void)started;
    (void)writeback_every;
#endif
    return true;
  };
  if (!produce(write)) return fail("write", true);
  if (::fchmod(fd, 0644) != 0) return fail("chmod", true);
  if (::fsync(fd) != 0) return fail("fsync", true);
  if (::close(fd) != 0) return fail("close", false);
  if (::rename(name.data(), path.c_str()) != 0) return fail("rename", false);
  // Make the rename itself durable. The file is complete and in place already, so a directory
  // that cannot be synced (some file systems refuse) is not an error.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return std::nullopt;
}

// The same for contents already in memory.
[[nodiscard]] inline std::optional<std::string> write_file_atomically(const std::string& path,
                                                                      const std::string& contents) {
  return write_file_atomically(path,
                               [&contents](const ChunkSink& write) { return write(contents); });
}

}  // namespace layerplan
