// The process-start floor of a C++ program: one line through iostream. Built against the shared
// libstdc++ (loaded and relocated at every start) and with -static-libstdc++.
#include <iostream>

int main() {
  std::cout << "layerplan 0.0.0\n";
  return 0;
}
