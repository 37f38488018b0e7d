#include "lib/source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace layerplan {

SourceFile::SourceFile(std::string path_in, std::string text_in)
    : path(std::move(path_in)), text(std::move(text_in)) {
  line_starts.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts.push_back(i + 1);
  }
}

std::string_view SourceFile::line_text(int line) const {
  if (line < 1 || static_cast<std::size_t>(line) > line_starts.size()) return {};
  std::size_t begin = line_starts[static_cast<std::size_t>(line - 1)];
  std::size_t end = text.find('\n', begin);
  if (end == std::string::npos) end = text.size();
  if (end > begin && text[end - 1] == '\r') --end;
  return std::string_view(text).substr(begin, end - begin);
}

std::pair<int, int> SourceFile::position_of(std::size_t offset) const {
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  auto line = static_cast<int>(it - line_starts.begin());
  auto column = static_cast<int>(offset - line_starts[static_cast<std::size_t>(line - 1)]) + 1;
  return {line, column};
}

std::string Location::to_string() const {
  if (!file) return "";
  if (line <= 0) return file->path;
  if (column <= 0) return fmt::format("{}:{}", file->path, line);
  return fmt::format("{}:{}:{}", file->path, line, column);
}

std::optional<SourcePtr> read_source(const std::string& path, ReadError& error,
                                     std::size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error.message = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    error.message = fmt::format("cannot read '{}': it is a directory, expected a file", path);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error.message = fmt::format(
        "cannot read '{}': it is not a regular file (a FIFO, socket or device); "
        "expected a file",
        path);
    return std::nullopt;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    error.message = fmt::format("cannot read '{}': {} bytes is more than the limit of {} bytes",
                                path, st.st_size, max_bytes);
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error.message = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  text.resize(static_cast<std::size_t>(st.st_size));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.gcount() != static_cast<std::streamsize>(text.size())) {
    error.message = fmt::format("cannot read '{}': the file changed while it was read", path);
    return std::nullopt;
  }
  return make_source(path, std::move(text));
}

SourcePtr make_source(std::string path, std::string text) {
  return std::make_shared<const SourceFile>(std::move(path), std::move(text));
}

}  // namespace layerplan
