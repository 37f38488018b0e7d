// `layerplan diff A.json B.json`: what differs between two plan manifests, by meaning.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"
#include "lib/manifest.h"
#include "lib/manifest_diff.h"

namespace layerplan::cli {

namespace {
struct DiffFlags {
  InputFlags diagnostics;  // only --format and --color
  std::string a, b;
  std::string emit;  // text | json | markdown
};
const std::vector<std::string> kDiffEmits = {"text", "json", "markdown"};
}  // namespace

void register_diff(CLI::App& app) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* sub = app.add_subcommand(
      "diff",
      "compare two manifests (`compile -o`) by meaning: axes, groups, layer ranges, launch");
  set_command_help(*sub, {"0  the same plan\n1  the plans differ\n2  a manifest cannot be read or "
                          "is not one, or a usage error",
                          "layerplan diff base.json head.json --emit markdown"});
  sub->add_option("a", flags->a, "the manifest before (A)")->required();
  sub->add_option("b", flags->b, "the manifest after (B)")->required();
  add_emit_option(*sub, flags->emit, kDiffEmits,
                  "the diff as text, json or markdown (for a pull-request comment)");
  // `markdown` is accepted, deprecated, from before --emit (apply_deprecated_format).
  flags->diagnostics.deprecated_formats = {"markdown"};
  add_diagnostics_flags(*sub, flags->diagnostics);
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "diff", flags->diagnostics.format, flags->emit, kDiffEmits,
                            std::cerr);
    DiffResult result = diff_manifest_files(DiffRequest{flags->a, flags->b});
    if (!result.diff) {
      print_diagnostics(result.diags.sorted(), false, flags->diagnostics, std::cerr,
                        ::isatty(STDERR_FILENO) != 0);
      throw CLI::RuntimeError(kExitUsage);
    }
    DiffNames names{flags->a, flags->b};
    if (flags->emit == "json") {
      std::cout << dump_json(diff_json(*result.diff, names, LAYERPLAN_VERSION)) << "\n";
    } else if (flags->emit == "markdown") {
      std::cout << render_diff_markdown(*result.diff, names);
    } else {
      std::cout << render_diff_text(*result.diff, names);
    }
    throw CLI::RuntimeError(result.diff->same() ? kExitOk : kExitInvalid);
  });
}

}  // namespace layerplan::cli
