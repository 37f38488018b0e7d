#include "lib/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace layerplan {

std::optional<std::string> write_file_atomically(const std::string& path,
                                                 const std::string& contents) {
  return write_file_atomically(path, [&](const ChunkSink& write) { return write(contents); });
}

std::optional<std::string> write_file_atomically(
    const std::string& path, const std::function<bool(const ChunkSink& write)>& produce) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return fmt::format("cannot write '{}': it exists and is not a regular file", path);
  }
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return fmt::format("cannot write '{}': the path names a directory", path);
  std::string tmpl = fmt::format("{}/.{}.tmpXXXXXX", dir, base);
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return fmt::format("cannot write '{}': cannot create a temporary file in '{}': {}", path, dir,
                       std::strerror(errno));
  }
  auto fail = [&](const char* what) {
    std::string message =
        fmt::format("cannot write '{}': {} failed: {}", path, what, std::strerror(errno));
    ::close(fd);
    ::unlink(name.data());
    return message;
  };
  auto write = [&](std::string_view contents) {
    std::size_t written = 0;
    while (written < contents.size()) {
      ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      written += static_cast<std::size_t>(n);
    }
    return true;
  };
  if (!produce(write)) return fail("write");
  if (::fchmod(fd, 0644) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    std::string message = fmt::format("cannot write '{}': close failed: {}", path, std::strerror(errno));
    ::unlink(name.data());
    return message;
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    std::string message = fmt::format("cannot write '{}': rename failed: {}", path, std::strerror(errno));
    ::unlink(name.data());
    return message;
  }
  // Make the rename itself durable. The file is complete and in place already, so a directory
  // that cannot be synced (some file systems refuse) is not an error.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return std::nullopt;
}

}  // namespace layerplan
