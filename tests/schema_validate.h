// JSON Schema validation for the tests (valijson, header-only; Debian: libvalijson-dev). Defines
// LAYERPLAN_HAVE_VALIJSON where valijson is found; a test without it reports itself skipped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#if __has_include(<valijson/validator.hpp>)
#define LAYERPLAN_HAVE_VALIJSON 1
#endif

namespace layerplan::test {

#ifdef LAYERPLAN_HAVE_VALIJSON

// Validates `doc` against the JSON Schema `schema_text`: one "path: message" per error, none when
// `doc` is valid. Defined in schema_validate.cc (library layerplan_test_schema), so valijson's
// templates are compiled once for all the tests that validate.
std::vector<std::string> schema_errors(const std::string& schema_text, const nlohmann::json& doc);

#endif

}  // namespace layerplan::test
