// Proof that the sanitizer stage can fail: in a LAYERPLAN_SANITIZE build this program commits the
// error named by its argument, and its CTest tests pass only when the sanitizer's report of that
// very error appears. If the flags stopped reaching the build (or UBSan stopped halting), these
// tests would fail rather than the stage passing silently.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (std::strcmp(argv[1], "signed-overflow") == 0) {
    volatile std::int64_t big = std::numeric_limits<std::int64_t>::max();
    volatile std::int64_t two = 2;
    std::int64_t product = big * two;  // UBSan: signed integer overflow
    std::printf("%lld\n", static_cast<long long>(product));
    return 0;
  }
  if (std::strcmp(argv[1], "heap-overflow") == 0) {
    auto buffer = std::make_unique<char[]>(8);
    volatile std::size_t at = 8;
    buffer[at] = 'x';  // ASan: heap-buffer-overflow
    std::printf("%c\n", buffer[0]);
    return 0;
  }
  return 2;
}
