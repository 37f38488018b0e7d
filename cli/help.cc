#include "cli/help.h"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

#include "cli/common.h"
#include "lib/diagnostics.h"

namespace layerplan::cli {
namespace {

// A default that means "not given" is not worth showing.
bool shown_default(const std::string& value) {
  return !value.empty() && value != "0" && value != "false" && value != "[]";
}

class Formatter : public CLI::Formatter {
 public:
  // CLI11's own, less the default (which the description says in words).
  std::string make_option_opts(const CLI::Option* opt) const override {
    std::string out;
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    if (opt->get_type_size() != 0) {
      if (!opt->get_type_name().empty()) out += " " + get_label(opt->get_type_name());
      if (opt->get_expected_max() == CLI::detail::expected_max_vector_size)
        out += " ...";
      else if (opt->get_expected_min() > 1)
        out += " x " + std::to_string(opt->get_expected());
      if (opt->get_required()) out += " " + get_label("REQUIRED");
    }
    if (!opt->get_excludes().empty()) {
      out += " " + get_label("Excludes") + ":";
      for (const CLI::Option* other : opt->get_excludes()) out += " " + other->get_name();
    }
    return out;
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    if (shown_default(opt->get_default_str())) desc += " (default: " + opt->get_default_str() + ")";
    return desc;
  }
};

// roff: backslashes escaped, a leading '.' or '\'' made literal, '-' as a real minus sign.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The footer's blocks ("Exit codes:", "Example:", ...) as man sections of a command.
std::string roff_footer(const std::string& footer) {
  std::string out;
  bool in_block = false;
  for (const std::string& line : lines_of(footer)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      if (in_block) out += ".fi\n";
      out += ".PP\n.B " + roff(line) + "\n.nf\n";
      in_block = true;
    } else {
      out += roff(line) + "\n";
    }
  }
  if (in_block) out += ".fi\n";
  return out;
}

std::string roff_options(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* opt : app.get_options()) {
    std::string names = opt->get_name(false, true);
    if (names == "-h,--help" || names == "--help" || opt->get_group().empty()) continue;
    std::string head = opt->get_positional() ? "\\fI" + roff(opt->get_name(true)) + "\\fR"
                                             : "\\fB" + roff(names) + "\\fR";
    if (!opt->get_positional() && opt->get_type_size() != 0 && !opt->get_type_name().empty()) {
      head += " \\fI" + roff(opt->get_type_name()) + "\\fR";
    }
    std::string desc = opt->get_description();
    if (shown_default(opt->get_default_str())) desc += " (default: " + opt->get_default_str() + ")";
    out += ".TP\n" + head + "\n" + roff(desc) + "\n";
  }
  return out;
}

}  // namespace

void set_command_help(CLI::App& sub, const CommandHelp& help) {
  std::string footer = "Exit codes:\n";
  for (const std::string& line : lines_of(std::string(help.exit_codes)))
    footer += "  " + line + "\n";
  footer += "\nExample:\n";
  for (const std::string& line : lines_of(std::string(help.example))) footer += "  " + line + "\n";
  sub.footer(footer);
}

std::shared_ptr<CLI::Formatter> make_formatter() { return std::make_shared<Formatter>(); }

void register_help(CLI::App& app) {
  auto topic = std::make_shared<std::string>();
  auto man = std::make_shared<bool>(false);
  auto completion = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("help", "show the help of layerplan, or of COMMAND");
  sub->add_option("command", *topic, "the command to show the help of");
  sub->add_flag("--man", *man, "print the man page (roff)")->group("");
  sub->add_option("--completion", *completion, "print the completion script of a shell")
      ->check(CLI::IsMember({"bash", "zsh"}))
      ->group("");
  set_command_help(*sub, {"0  the help was shown\n2  no such command", "layerplan help check"});
  sub->callback([&app, topic, man, completion] {
    if (*man) {
      std::cout << man_page(app);
      throw CLI::RuntimeError(kExitOk);
    }
    if (!completion->empty()) {
      std::cout << (*completion == "bash" ? bash_completion(app) : zsh_completion(app));
      throw CLI::RuntimeError(kExitOk);
    }
    if (topic->empty()) {
      // Not app.help(), which shows the help of the command being run (this one).
      std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      throw CLI::RuntimeError(kExitOk);
    }
    std::vector<std::string> names;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (command->get_name() == *topic) {
        std::cout << command->help(app.get_name());
        throw CLI::RuntimeError(kExitOk);
      }
      names.push_back(command->get_name());
    }
    std::cerr << "layerplan help: error: no command '" << *topic << "'";
    if (std::string hint = closest_match(*topic, names); !hint.empty()) {
      std::cerr << "; did you mean '" << hint << "'?";
    }
    std::cerr << "\nrun 'layerplan help' for the list of commands\n";
    throw CLI::RuntimeError(kExitUsage);
  });
}

std::string man_page(const CLI::App& app) {
  std::string out =
      fmt::format(".TH LAYERPLAN 1 \"\" \"layerplan {}\" \"User Commands\"\n", LAYERPLAN_VERSION);
  out += ".SH NAME\nlayerplan \\- " +
         roff(app.get_description().substr(app.get_description().find(": ") + 2)) + "\n";
  out +=
      ".SH SYNOPSIS\n.B layerplan\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n.br\n.B layerplan help\n"
      "[\\fICOMMAND\\fR]\n.br\n.B layerplan\n\\fB\\-V\\fR | \\fB\\-\\-version\\fR\n";
  out += ".SH DESCRIPTION\n" + roff(app.get_description()) + ".\n";
  out += "Every command takes \\fB\\-\\-help\\fR (\\fB\\-h\\fR).\n";
  out += ".SH COMMANDS\n";
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (command->get_name() == "help") continue;
    out += ".SS \"layerplan " + roff(command->get_name()) + "\"\n" +
           roff(command->get_description()) + ".\n";
    out += roff_options(*command);
    out += roff_footer(command->get_footer());
  }
  out += ".SH EXIT STATUS\n" + roff_footer(app.get_footer());
  out += ".SH SEE ALSO\nThe README and docs/ of the layerplan repository.\n";
  return out;
}

}  // namespace layerplan::cli
