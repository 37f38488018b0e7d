// valijson behind schema_errors (tests/schema_validate.h): compiled once into
// layerplan_test_schema, for every test that validates JSON against a schema.
#include "tests/schema_validate.h"

#ifdef LAYERPLAN_HAVE_VALIJSON
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace layerplan::test {

std::vector<std::string> schema_errors(const std::string& schema_text, const nlohmann::json& doc) {
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

}  // namespace layerplan::test
#endif
