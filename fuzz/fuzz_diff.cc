// libFuzzer entry point of the diff target; the body is in fuzz/surfaces.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/surfaces.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  layerplan::fuzz::run_diff(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
