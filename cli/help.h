// Help for people: `--help` with defaults, exit codes and an example per command,
// `layerplan help [COMMAND]`, and the man page, all written from the same CLI11 definitions.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace layerplan::cli {

// What --help and the man page print below a command's options.
struct CommandHelp {
  std::string_view exit_codes;  // lines "N  meaning", one a code
  std::string_view example;     // one command line, or a few
};

// Sets the footer of `sub` (exit codes and example) and keeps them for the man page.
void set_command_help(CLI::App& sub, const CommandHelp& help);

// CLI11's formatter, with defaults written "(default: X)" after the description; defaults that
// mean "not given" (empty, 0, false) are left out.
[[nodiscard]] std::shared_ptr<CLI::Formatter> make_formatter();

// `layerplan help [COMMAND]` (and the hidden `help --man` and `help --completion bash|zsh`, which
// the build runs to write the man page and the completion scripts it installs).
void register_help(CLI::App& app);

// The man page (roff, section 1) of `app`: every command with its options, defaults, exit codes
// and example, from the same definitions as --help.
[[nodiscard]] std::string man_page(const CLI::App& app);

// Completion scripts for bash and zsh (the commands, their options, and the values of options
// that take one of a list), from the same definitions.
[[nodiscard]] std::string bash_completion(const CLI::App& app);
[[nodiscard]] std::string zsh_completion(const CLI::App& app);

}  // namespace layerplan::cli
