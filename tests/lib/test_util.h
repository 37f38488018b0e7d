// Helpers shared by the library tests: compile from strings, look up diagnostics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lib/pipeline.h"

namespace layerplan::test {

// Compiles a config and a rules file given as text (paths only name them in messages).
std::unique_ptr<Compilation> compile_text(const std::string& config_json,
                                          const std::string& rules_yaml, CheckOptions options = {});
// The same with extra --arch-file paths.
std::unique_ptr<Compilation> compile_with_arch(const std::string& config_json,
                                               const std::string& rules_yaml,
                                               std::vector<std::string> arch_files,
                                               CheckOptions options = {});
// Reads a fixture under the source tree (fixtures/...).
std::string fixture(const std::string& relative_path);
// The codes of all diagnostics, in report order.
std::vector<std::string> codes(const Compilation& c);
bool has_code(const Compilation& c, const std::string& code);
const Diagnostic* find_code(const Compilation& c, const std::string& code);
// The plan of the layer with this prefix; throws (so the test fails) when there is none. Takes a
// C string: GCC 13 warns (-Wdangling-reference) when a function returning a reference is called
// with a temporary std::string.
const LayerPlan& layer_at(const Compilation& c, const char* prefix);
// Groups of a set as a string "[0,1] [2,3]".
std::string groups_string(const Compilation& c, const std::string& set);

}  // namespace layerplan::test
