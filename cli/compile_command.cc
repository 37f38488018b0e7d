// `layerplan compile`: the per-layer plan manifest, written atomically.
#include <fmt/format.h>
#include <unistd.h>

#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <system_error>

#include "base/atomic_write.h"
#include "cli/common.h"
#include "cli/memory_flags.h"
#include "cli/tables.h"

namespace layerplan::cli {

namespace {
struct CompileFlags {
  InputFlags inputs;
  std::string output;
  bool all_layers = false;
  bool groups = false;
  std::string group_lists = "all";  // --group-lists all|none
  int threads = 0;                  // --threads: 0 picks (lib/manifest.h: manifest_threads)
  // --emit vllm-args: only the launch line, on stdout; --emit html FILE: also the HTML report.
  std::vector<std::string> emit;
  MemoryFlags memory;
};

// The launch command and, rule by rule, what no flag of it can say.
void print_launch(const Compilation& c, std::ostream& out) {
  LaunchCommand cmd = c.launch_command();
  const EngineInfo& info = c.engine->info();
  std::string where =
      cmd.runnable_on == "vllm-main"
          ? fmt::format("runs on {} main at {}", info.name, info.commit.substr(0, 8))
      : cmd.runnable_on == "rfc-prs" ? fmt::format("needs unmerged PR {}", fmt::join(cmd.prs, ", "))
                                     : std::string("no vLLM command expresses this plan");
  out << fmt::format("{} launch ({}):\n  {}\n", info.name, where, cmd.shell_line());
  if (cmd.not_expressible.empty()) return;
  out << "not expressible by any flag, rule by rule:\n";
  for (const auto& w : cmd.not_expressible) {
    std::string rule =
        w.rule < 0
            ? std::string("axes")
            : fmt::format("rule {}{}", w.rule, w.rule_name.empty() ? "" : " '" + w.rule_name + "'");
    std::string layers = w.layers.empty()       ? ""
                         : w.layers.size() == 1 ? fmt::format(" on {}", w.layers.front())
                                                : fmt::format(" on {} layers ({}, …)",
                                                              w.layers.size(), w.layers.front());
    out << fmt::format("  {} (line {}): {} {}{}, the command gives {}: {}\n", rule, w.location.line,
                       w.field, w.value, layers, w.flags_value, w.reason);
  }
}
}  // namespace

void register_compile(CLI::App& app) {
  auto flags = std::make_shared<CompileFlags>();
  CLI::App* sub = app.add_subcommand(
      "compile", "compile the per-layer plan; prints it as a table, writes the manifest with -o");
  set_command_help(
      *sub, {"0  the plan checked clean and was compiled\n"
             "1  the plan is invalid\n"
             "2  a usage error, an input that cannot be read or an output that cannot be written",
             "layerplan compile --config fixtures/models/llama3_8b.json --rules "
             "fixtures/rules/good_llama8b_tpa.yaml -o plan.json"});
  add_input_flags(*sub, flags->inputs, /*with_rules=*/true);
  sub->add_option("-o,--output", flags->output,
                  "write the JSON manifest to FILE (atomically), or to stdout with '-'");
  sub->add_flag("--all-layers", flags->all_layers, "one table row per layer, no folding");
  sub->add_flag("--groups", flags->groups, "also print the rank groups of every axis");
  sub->add_option(
         "--group-lists", flags->group_lists,
         "'all' (default): the manifest lists every rank group besides their compact "
         "group_layout; 'none': group_layout only, so the file does not grow with the world")
      ->check(CLI::IsMember({"all", "none"}));
  sub->add_option("--threads", flags->threads,
                  "threads that make the manifest's text (0, the default: the machine's hardware "
                  "threads, at most 8, or 1 where it has fewer than 4); the manifest's bytes are "
                  "the same for any number")
      ->check(CLI::Range(0, 64));
  add_memory_flags(*sub, flags->memory);
  sub->add_option("--emit", flags->emit,
                  "'vllm-args': print only the vLLM launch line (for the shell; fails when no vLLM "
                  "command expresses the plan); 'html FILE': also write the self-contained HTML "
                  "report of `layerplan report` to FILE (atomically)")
      ->expected(1, 2)
      ->type_name("vllm-args|html FILE");
  sub->callback([flags] {
    require_plan_inputs(flags->inputs, "compile");
    const std::vector<std::string>& emit = flags->emit;
    bool emit_args = !emit.empty() && emit[0] == "vllm-args" && emit.size() == 1;
    bool emit_html = !emit.empty() && emit[0] == "html" && emit.size() == 2;
    if (!emit.empty() && !emit_args && !emit_html) {
      std::cerr << "layerplan: error: --emit takes 'vllm-args' or 'html FILE', got '"
                << fmt::format("{}", fmt::join(emit, " ")) << "'\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    CompileRequest request = make_request(flags->inputs);
    request.fit = fit_request(flags->memory);
    request.group_lists = flags->group_lists == "all";
    auto c = compile(request);
    int code = report_diagnostics(*c, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
    if (code != kExitOk || !c->layout)
      throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    if (emit_args) {
      LaunchCommand cmd = c->launch_command();
      if (cmd.runnable_on == "none") {
        print_launch(*c, std::cerr);
        std::cerr << "layerplan: error: no vLLM command expresses this plan\n";
        throw CLI::RuntimeError(kExitInvalid);
      }
      std::cout << cmd.shell_line() << "\n";
      throw CLI::RuntimeError(kExitOk);
    }
    ManifestInputs inputs = manifest_inputs(flags->inputs);
    ManifestInputs streamed = inputs;
    streamed.group_lists = request.group_lists;
    streamed.threads = flags->threads;
    if (emit_html) {
      ReportOptions options;
      options.gpus_per_node = flags->inputs.gpus_per_node;
      options.werror = flags->inputs.werror;
      int written =
          write_report(report_compilation(*c, inputs, options), flags->emit[1], flags->inputs);
      if (written != kExitOk) throw CLI::RuntimeError(written);
    }
    if (flags->output == "-") {
      bool ok = c->write_manifest(streamed, [](std::string_view piece) {
        std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        return static_cast<bool>(std::cout);
      });
      std::cout << std::flush;
      if (!ok || !std::cout) {  // a full disk or a closed pipe: the manifest is incomplete
        std::cerr << "layerplan: error: cannot write the manifest to standard output\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      throw CLI::RuntimeError(kExitOk);
    }
    // What goes to stdout, printed only once the manifest is in place.
    auto summary = [&c, &flags, emit_html, &emit] {
      std::ostringstream out;
      out << plan_table(*c, flags->all_layers);
      if (flags->groups) out << "\n" << groups_table(*c->layout, 8);
      if (c->memory) out << memory_summary(*c->memory, c->fit ? &*c->fit : nullptr);
      if (c->nodes) out << "\n" << nodes_table(*c->nodes);
      out << "\n";
      print_launch(*c, out);
      out << "world size " << c->axes.world_size;
      if (!flags->output.empty()) out << "; manifest written to " << flags->output;
      if (emit_html) out << "; report written to " << emit[1];
      out << "\n";
      return std::move(out).str();
    };
    std::string text;
    if (!flags->output.empty()) {
      // With threads, the summary is made while the manifest is written and synced (both only
      // read the compilation), and the file's writeback starts every MiB: the thread writing it
      // mostly waits for the workers' pieces, so the final fsync is left the tail.
      const bool threaded = manifest_threads(flags->threads) > 1;
      std::future<std::string> made;
      if (threaded) {
        try {
          made = std::async(std::launch::async, summary);
        } catch (const std::system_error&) {
          // No thread to be had: the summary is made after the manifest instead.
        }
      }
      auto produce = [&](const ChunkSink& write) { return c->write_manifest(streamed, write); };
      if (auto error =
              write_file_atomically(flags->output, produce, threaded ? std::size_t{1} << 20 : 0)) {
        std::cerr << "layerplan: error: " << *error << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
      text = made.valid() ? made.get() : summary();
    } else {
      text = summary();
    }
    std::cout << text;
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace layerplan::cli
