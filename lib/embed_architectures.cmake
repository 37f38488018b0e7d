# Writes OUTPUT: a C++ source returning the text of each file in INPUTS.
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(body "")
foreach(path IN LISTS INPUTS)
  get_filename_component(name ${path} NAME)
  file(READ ${path} text)
  string(APPEND body "      {\"${name}\", R\"layerplan_arch(${text})layerplan_arch\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from schemas/architectures/*.yaml. Do not edit.
#include <string>
#include <utility>
#include <vector>

namespace layerplan {
const std::vector<std::pair<std::string, std::string>>& builtin_architecture_files() {
  static const std::vector<std::pair<std::string, std::string>> kFiles = {
${body}  };
  return kFiles;
}
}  // namespace layerplan
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
