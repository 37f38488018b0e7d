// JSON Schema validation for the tests (valijson, header-only; Debian: libvalijson-dev). Defines
// LAYERPLAN_HAVE_VALIJSON where valijson is found; a test without it reports itself skipped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#if __has_include(<valijson/validator.hpp>)
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#define LAYERPLAN_HAVE_VALIJSON 1
#endif

namespace layerplan::test {

#ifdef LAYERPLAN_HAVE_VALIJSON

// Validates `doc` against the JSON Schema `schema_text`: one "path: message" per error, none when
// `doc` is valid.
inline std::vector<std::string> schema_errors(const std::string& schema_text,
                                              const nlohmann::json& doc) {
  nlohmann::json schema_doc = nlohmann::json::parse(schema_text);
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  std::vector<std::string> errors;
  if (!validator.validate(schema, target, &results)) {
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
      std::string path;
      for (const auto& p : e.context) path += p;
      errors.push_back(path + ": " + e.description);
    }
  }
  return errors;
}

#endif

}  // namespace layerplan::test
