// main's last line of defence: any exception escaping a subcommand becomes a clear message and
// exit 2, never std::terminate.
#include <sstream>
#include <stdexcept>

#include "catch.h"
#include "cli/common.h"

namespace layerplan::cli {
namespace {

TEST_CASE("run_guarded returns the body's exit code when nothing is thrown") {
  std::ostringstream err;
  CHECK(run_guarded([] { return 3; }, err) == 3);
  CHECK(err.str().empty());
}

TEST_CASE("run_guarded turns every escaping exception into an internal error and exit 2") {
  std::ostringstream err;
  CHECK(run_guarded([]() -> int { throw std::runtime_error("boom"); }, err) == kExitUsage);
  CHECK(err.str() == "layerplan: internal error: boom\n");

  err.str("");
  CHECK(run_guarded([]() -> int { throw std::bad_alloc(); }, err) == kExitUsage);
  CHECK(err.str() == "layerplan: internal error: out of memory\n");

  err.str("");
  CHECK(run_guarded([]() -> int { throw 42; }, err) == kExitUsage);
  CHECK(err.str() == "layerplan: internal error: an unknown exception\n");

  err.str("");
  CHECK(run_guarded([]() -> int { return nlohmann::json("\xff").dump().size() > 0; }, err) ==
        kExitUsage);
  CHECK(err.str().rfind("layerplan: internal error: [json.exception.type_error.316]", 0) == 0);
}

}  // namespace
}  // namespace layerplan::cli
