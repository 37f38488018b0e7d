// Configure-time probe (top-level CMakeLists.txt): links fmt's uses that layerplan makes against
// base/fmt_impl.cc alone, without the shared libfmt.
#include <fmt/format.h>

#include <cstdio>
#include <iterator>
#include <string>

int main() {
  std::string s = fmt::format("{} {:>8} {:.3f} {} {:L} {:x}", 42, "text", 2.5, 3.0F, 12345, 255u);
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "{:g} {}", 1e-7, -7LL);
  fmt::print(stdout, "{} {}\n", s, fmt::to_string(buffer));
  return 0;
}
