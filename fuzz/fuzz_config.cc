// libFuzzer entry point of the config target; the body is in fuzz/targets.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  layerplan::fuzz::run_config(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
