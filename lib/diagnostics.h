// Diagnostics are plain values (code, severity, location, message, notes) collected in one
// sink and rendered by one renderer, as text for people or JSON for machines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/source.h"

namespace layerplan {

enum class Severity { kNote, kWarning, kError };

[[nodiscard]] std::string_view severity_name(Severity severity);

struct Note {
  Location location;  // may be empty
  std::string message;
};

struct Diagnostic {
  std::string code;  // kebab-case check name, shown in brackets
  Severity severity = Severity::kError;
  Location location;
  std::string message;
  std::vector<Note> notes;
  // Layers (or other subjects) that produced the same diagnostic; reported once, listed here.
  std::vector<std::string> subjects;
  // The values that would be valid where this diagnostic points, as data (the notes say them
  // in words too); empty when there is no short list.
  std::vector<std::int64_t> valid_values;
};

// One entry of the catalogue of every diagnostic code layerplan can emit.
struct CodeInfo {
  std::string_view code;
  Severity severity;
  std::string_view summary;
};

// The catalogue, in documentation order. Every code reported must be listed here.
[[nodiscard]] const std::vector<CodeInfo>& diagnostic_codes();
[[nodiscard]] const CodeInfo* find_code(std::string_view code);

class Diagnostics {
 public:
  // Adds a diagnostic. A diagnostic equal to an earlier one (code, location and message) is
  // merged into it: its subjects are appended, so 80 layers failing one rule give one error.
  void report(Diagnostic diagnostic);

  [[nodiscard]] const std::vector<Diagnostic>& all() const { return diagnostics_; }
  [[nodiscard]] int count(Severity severity) const;
  [[nodiscard]] bool has_errors() const { return count(Severity::kError) > 0; }
  // Diagnostics sorted by severity (errors first), then file, line and column.
  [[nodiscard]] std::vector<Diagnostic> sorted() const;

 private:
  std::vector<Diagnostic> diagnostics_;
  std::unordered_map<std::string, std::size_t> index_;  // merge key -> position in diagnostics_
};

// Small builder helpers so checks read as one statement.
Diagnostic make_error(std::string_view code, Location location, std::string message);
Diagnostic make_warning(std::string_view code, Location location, std::string message);
Diagnostic make_note(std::string_view code, Location location, std::string message);

// "did you mean" support: the candidate closest to `word` by edit distance, if close enough.
[[nodiscard]] std::string closest_match(std::string_view word,
                                        const std::vector<std::string>& candidates);
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace layerplan
