// SHA-256 (FIPS 180-4) of a byte string, as lower-case hex: what the manifest records of its
// inputs, so a plan can be traced to the exact config.json and rules file it came from.
#pragma once

#include <string>
#include <string_view>

namespace layerplan {

[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace layerplan
