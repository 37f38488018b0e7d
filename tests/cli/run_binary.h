// Runs the layerplan binary as a user would, for the end-to-end tests: from the source tree,
// stdin closed, stdout and stderr captured, under `timeout 60` so a hang fails the test (exit 124)
// instead of stalling it. Files go to one scratch directory per test binary, removed at exit.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "temp_dir.h"

namespace layerplan::test {

struct Result {
  int code = -1;
  std::string out, err;
  double seconds = 0;
  [[nodiscard]] std::string all() const { return out + err; }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// This test binary's scratch directory, made on first use and removed when the binary exits.
inline const std::string& scratch() {
  static const TempDir dir;
  return dir.path;
}

inline std::string in_scratch(const std::string& name) { return scratch() + "/" + name; }

// The names in `dir`, sorted: to see that a failed write left no temporary behind.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// One argument quoted for /bin/sh.
inline std::string quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `env ENV timeout 60 layerplan COMMAND_LINE`, COMMAND_LINE being shell words as given.
inline Result run_shell(const std::string& command_line, const std::string& env = "") {
  std::string out = in_scratch("stdout"), err = in_scratch("stderr");
  std::string cmd = "cd " + quote(LAYERPLAN_SOURCE_DIR) + " && " + env + " timeout 60 " +
                    quote(LAYERPLAN_BINARY) + " " + command_line + " >" + quote(out) + " 2>" +
                    quote(err) + " </dev/null";
  auto start = std::chrono::steady_clock::now();
  int status = std::system(cmd.c_str());
  Result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The same with each argument quoted.
inline Result run(const std::vector<std::string>& args, const std::string& env = "") {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + quote(a);
  return run_shell(line, env);
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace layerplan::test
