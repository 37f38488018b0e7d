#include "lib/source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>

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

std::size_t token_width(std::string_view line, std::size_t start) {
  std::size_t end = start;
  while (end < line.size() && line[end] != ' ' && line[end] != ',' && line[end] != '}' &&
         line[end] != ']' && line[end] != '#' && line[end] != '\t') {
    ++end;
  }
  return std::max<std::size_t>(1, end - start);
}

int Location::end_column() const {
  if (!file || line <= 0 || column <= 0) return 0;
  std::string_view text = file->line_text(line);
  auto start = static_cast<std::size_t>(column - 1);
  if (start >= text.size()) return column + 1;
  return column + static_cast<int>(std::min<std::size_t>(token_width(text, start), 1u << 20));
}

std::optional<SourcePtr> read_source(const std::string& path, ReadError& error,
                                     std::size_t max_bytes) {
  // Open first, then look at what was opened: O_NONBLOCK so a FIFO cannot block the open, and
  // fstat on the descriptor so the file cannot be swapped between the check and the read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error.message = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
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
  // Read up to one byte past the size fstat gave, to notice a file that grows meanwhile.
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error.message = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != static_cast<std::size_t>(st.st_size)) {
    error.message = fmt::format("cannot read '{}': the file changed while it was read", path);
    return std::nullopt;
  }
  text.resize(got);
  return make_source(path, std::move(text));
}

std::optional<SourcePtr> read_stream(std::istream& in, const std::string& path, ReadError& error,
                                     std::size_t max_bytes) {
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      error.message =
          fmt::format("cannot read '{}': more than the limit of {} bytes", path, max_bytes);
      return std::nullopt;
    }
  }
  if (in.bad()) {
    error.message = fmt::format("cannot read '{}': a read error", path);
    return std::nullopt;
  }
  return make_source(path, std::move(text));
}

SourcePtr make_source(std::string path, std::string text) {
  return std::make_shared<const SourceFile>(std::move(path), std::move(text));
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return 0;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // The valid range of the second byte depends on the lead byte (Unicode Table 3-7).
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (pos + n > text.size()) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::size_t find_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

}  // namespace layerplan
