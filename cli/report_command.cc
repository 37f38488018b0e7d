// `layerplan report MANIFEST -o FILE`: the HTML report of a compiled manifest, written atomically.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "base/atomic_write.h"
#include "cli/common.h"
#include "lib/report.h"

namespace layerplan::cli {

namespace {
struct ReportFlags {
  InputFlags diagnostics;  // only --format and --color
  std::string manifest;
  std::string output;
  std::int64_t gpus_per_node = 0;
};
}  // namespace

void add_gpus_per_node(CLI::App& app, std::int64_t& value, const char* what) {
  app.add_option("--gpus-per-node", value, what)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
}

// Writes a report (or says why not); returns the exit code.
int write_report(const ReportResult& result, const std::string& output, const InputFlags& flags) {
  if (result.diags.has_errors() || !result.html) {
    print_diagnostics(result.diags.sorted(), false, flags, std::cerr, ::isatty(STDERR_FILENO) != 0);
    return result.input_unreadable ? kExitUsage : kExitInvalid;
  }
  if (auto error = write_file_atomically(output, *result.html)) {
    std::cerr << "layerplan: error: " << *error << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

void register_report(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* sub = app.add_subcommand(
      "report", "write the HTML report of a manifest (`compile -o`): rank groups, per-layer plan");
  set_command_help(*sub, {"0  the report was written\n"
                          "1  the manifest lacks what the report draws\n"
                          "2  the manifest cannot be read, or the report cannot be written",
                          "layerplan report plan.json -o plan.html"});
  sub->add_option("manifest", flags->manifest, "manifest JSON written by `layerplan compile -o`")
      ->required();
  sub->add_option("-o,--output", flags->output, "write the HTML report to FILE (atomically)")
      ->required();
  add_gpus_per_node(*sub, flags->gpus_per_node,
                    "draw nodes of N consecutive ranks (instead of the manifest's nodes, if any)");
  add_diagnostics_flags(*sub, flags->diagnostics);
  sub->callback([flags] {
    ReportRequest request;
    request.manifest_path = flags->manifest;
    request.options.gpus_per_node = flags->gpus_per_node;
    int code = write_report(report_manifest(request), flags->output, flags->diagnostics);
    if (code == kExitOk) std::cout << "report written to " << flags->output << "\n";
    throw CLI::RuntimeError(code);
  });
}

}  // namespace layerplan::cli
