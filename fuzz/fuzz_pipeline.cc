// libFuzzer entry point of the pipeline target; the body is in fuzz/targets.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  layerplan::fuzz::run_pipeline(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
