// Helpers of the architecture tests (header-only, so tests/lib/CMakeLists.txt needs no change).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "test_util.h"

// Catch2 v3 declares INFO and WARN in their own header (v2's single header has them).
#if __has_include(<catch2/catch_message.hpp>)
#include <catch2/catch_message.hpp>
#endif

namespace layerplan::test {

// The whole text of a file; throws when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Layers of `c`'s model with this kind (MTP layers included when `mtp`).
inline int count_kind(const Compilation& c, LayerKind kind, bool mtp = false) {
  int n = 0;
  for (const auto& l : c.model->layers) n += l.kind == kind && l.mtp == mtp ? 1 : 0;
  return n;
}

inline const Layer* find_layer(const Compilation& c, const std::string& prefix) {
  for (const auto& l : c.model->layers) {
    if (l.prefix == prefix) return &l;
  }
  return nullptr;
}

}  // namespace layerplan::test
