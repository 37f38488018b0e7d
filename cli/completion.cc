// Shell completion scripts written from the CLI11 definitions: the commands, each command's
// options, and the values of options that take one of a list (`--format`).
#include <fmt/format.h>

#include <cctype>

#include "cli/help.h"

namespace layerplan::cli {
namespace {

struct OptionInfo {
  std::vector<std::string> names;  // "--format", "-o"
  std::string description;
  std::vector<std::string> choices;  // from a type name "TEXT:{text,json}"
  bool takes_value = false;
  bool positional = false;
};

struct CommandInfo {
  std::string name, description;
  std::vector<OptionInfo> options;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + 1) {
    out.push_back(text.substr(start, at - start));
  }
  out.push_back(text.substr(start));
  return out;
}

std::vector<CommandInfo> commands_of(const CLI::App& app) {
  std::vector<CommandInfo> out;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    CommandInfo info{command->get_name(), command->get_description(), {}};
    for (const CLI::Option* opt : command->get_options()) {
      if (opt->get_group().empty() || opt->get_name(false, true) == "-h,--help") continue;
      OptionInfo o;
      o.positional = opt->get_positional();
      if (!o.positional) o.names = split(opt->get_name(false, true), ',');
      o.description = opt->get_description();
      o.takes_value = opt->get_items_expected_max() > 0;
      std::string type = opt->get_type_name();
      std::size_t open = type.find(":{");
      if (open != std::string::npos && type.back() == '}') {
        o.choices = split(type.substr(open + 2, type.size() - open - 3), ',');
      }
      info.options.push_back(std::move(o));
    }
    out.push_back(std::move(info));
  }
  return out;
}

// Only the characters a name or a choice may hold, so nothing can break out of the script.
std::string word(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') out += c;
  }
  return out;
}

// A description for zsh: its first clause, without the characters _arguments and single quotes
// give a meaning to.
std::string blurb(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ';' || c == '(') break;
    if (c == '[' || c == ']' || c == '\'' || c == '\\' || c == '`' || c == '$') continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string bash_completion(const CLI::App& app) {
  std::vector<CommandInfo> commands = commands_of(app);
  std::string names;
  for (const auto& c : commands) names += (names.empty() ? "" : " ") + word(c.name);
  std::string out =
      "# bash completion for layerplan, written by `layerplan help --completion bash`\n"
      "_layerplan() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  local commands=\"" +
      names +
      "\"\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"$commands -V --version -h --help\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  local options=\"\" values=\"\" files=1\n"
      "  case ${COMP_WORDS[1]} in\n";
  for (const auto& c : commands) {
    std::string options = "-h --help", values;
    for (const auto& o : c.options) {
      for (const auto& n : o.names) options += " " + word(n);
      if (o.choices.empty()) continue;
      std::string list;
      for (const auto& choice : o.choices) list += (list.empty() ? "" : " ") + word(choice);
      for (const auto& n : o.names)
        values += fmt::format("        {}) values=\"{}\" ;;\n", word(n), list);
    }
    out += "    " + word(c.name) + ")\n      options=\"" + options + "\"\n";
    if (c.name == "help") out += "      files=0; values=$commands\n";
    if (!values.empty()) out += "      case $prev in\n" + values + "      esac\n";
    out += "      ;;\n";
  }
  out +=
      "  esac\n"
      "  if [ -n \"$values\" ] && [ \"$files\" = 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"$values\" -- \"$cur\"))\n"
      "  elif [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
      "  elif [ \"$files\" = 0 ]; then\n"
      "    COMPREPLY=($(compgen -W \"$values\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -F _layerplan layerplan\n";
  return out;
}

std::string zsh_completion(const CLI::App& app) {
  std::vector<CommandInfo> commands = commands_of(app);
  std::string out =
      "#compdef layerplan\n"
      "# zsh completion for layerplan, written by `layerplan help --completion zsh`\n"
      "_layerplan() {\n"
      "  local -a commands\n"
      "  commands=(\n";
  for (const auto& c : commands) out += "    '" + word(c.name) + ":" + blurb(c.description) + "'\n";
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe 'command' commands\n"
      "    return\n"
      "  fi\n"
      "  case $words[2] in\n";
  for (const auto& c : commands) {
    out += "    " + word(c.name) + ")\n      _arguments \\\n";
    for (const auto& o : c.options) {
      if (o.positional) continue;
      std::string names;
      for (const auto& n : o.names) names += (names.empty() ? "" : ",") + word(n);
      std::string spec = o.names.size() > 1 ? "{" + names + "}" : names;
      std::string value;
      if (o.takes_value) {
        std::string list;
        for (const auto& choice : o.choices) list += (list.empty() ? "" : " ") + word(choice);
        value = o.choices.empty() ? ":value:_files" : ":value:(" + list + ")";
      }
      out += "        " + spec + "'[" + blurb(o.description) + "]" + value + "' \\\n";
    }
    out += c.name == "help" ? "        '1:command:(" +
                                  [&] {
                                    std::string list;
                                    for (const auto& other : commands)
                                      list += (list.empty() ? "" : " ") + word(other.name);
                                    return list;
                                  }() +
                                  ")'\n"
                            : "        '*:file:_files'\n";
    out += "      ;;\n";
  }
  out += "  esac\n}\n_layerplan \"$@\"\n";
  return out;
}

}  // namespace layerplan::cli
