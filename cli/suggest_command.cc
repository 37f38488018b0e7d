// `layerplan suggest`: the best layouts of a model on N GPUs, as a table or JSON; the chosen one
// as a rules file (--write-rules) or vLLM flags (--emit vllm-args).
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "base/atomic_write.h"
#include "cli/common.h"
#include "cli/memory_flags.h"
#include "lib/manifest.h"
#include "lib/manifest_memory.h"
#include "lib/suggest.h"

namespace layerplan::cli {

namespace {

struct SuggestFlags {
  InputFlags inputs;
  MemoryFlags memory;
  std::int64_t gpus = 0;
  std::int64_t gpus_per_node = 8;
  std::int64_t top = 10;
  std::int64_t pick = 1;
  std::string write_rules;
  std::string emit;  // table | json | vllm-args
  bool no_per_layer = false;
  bool allow_unverified = false;
};

const std::vector<std::string> kSuggestEmits = {"table", "json", "vllm-args"};

std::string axes_text(const Suggestion& s) {
  std::string out = fmt::format("tp{} pp{} dp{}", s.tp, s.pp, s.dp);
  if (s.pcp > 1) out += fmt::format(" pcp{}", s.pcp);
  if (s.dcp > 1) out += fmt::format(" dcp{}", s.dcp);
  if (s.attn_tp < s.tp) out += fmt::format(" attn_tp{}", s.attn_tp);
  if (s.ep) out += " ep";
  return out;
}

std::string table(const SuggestResult& r, std::int64_t top) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"#", "layout", "weights/rank", "kv B/tok", "kv tokens/replica", "comm B/tok",
                  "cross-node B/tok", "notes"});
  for (std::size_t i = 0;
       i < r.suggestions.size() && (top <= 0 || static_cast<std::int64_t>(i) < top); ++i) {
    const Suggestion& s = r.suggestions[i];
    std::vector<std::string> notes;
    if (s.needs_pr) notes.push_back("needs RFC #42659 PRs");
    if (!s.cross_node_sets.empty())
      notes.push_back(fmt::format("spans nodes: {}", fmt::join(s.cross_node_sets, ",")));
    for (const auto& w : s.warnings) notes.push_back("warning " + w);
    if (s.fit && !s.fit->exact) notes.push_back("kv estimate");
    rows.push_back({std::to_string(i + 1), axes_text(s), format_bytes(s.weight_bytes),
                    std::to_string(s.kv_bytes_per_token),
                    s.fit ? std::to_string(s.fit->kv_tokens_per_replica) : "-",
                    std::to_string(s.comm_bytes_per_token),
                    std::to_string(s.cross_node_bytes_per_token),
                    fmt::format("{}", fmt::join(notes, "; "))});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (std::size_t n = 0; n < rows.size(); ++n) {
    std::string line;
    for (std::size_t i = 0; i < rows[n].size(); ++i) {
      line += i + 1 == rows[n].size() ? rows[n][i] : fmt::format("{:<{}}  ", rows[n][i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (n == 0) out += std::string(line.size(), '-') + "\n";
  }
  return out;
}

nlohmann::ordered_json to_json(const SuggestResult& r, const SuggestFlags& f,
                               const FitRequest* fit) {
  nlohmann::ordered_json j;
  j["gpus"] = f.gpus;
  j["gpus_per_node"] = f.gpus_per_node;
  j["candidates"] = r.candidates;
  j["valid"] = r.valid;
  auto list = nlohmann::ordered_json::array();
  for (const auto& s : r.suggestions) {
    nlohmann::ordered_json e;
    e["axes"] = {{"tp", s.tp},   {"attn_tp", s.attn_tp}, {"dcp", s.dcp},
                 {"pcp", s.pcp}, {"pp", s.pp},           {"dp", s.dp}};
    e["enable_expert_parallel"] = s.ep;
    e["needs_per_layer_prs"] = s.needs_pr;
    e["weight_bytes"] = s.weight_bytes;
    e["kv_bytes_per_token"] = s.kv_bytes_per_token;
    e["comm_bytes_per_token"] = s.comm_bytes_per_token;
    e["cross_node_bytes_per_token"] = s.cross_node_bytes_per_token;
    e["cross_node_sets"] = s.cross_node_sets;
    e["warnings"] = s.warnings;
    if (s.fit && fit != nullptr) {
      MemoryPlan none;
      e["fit"] = memory_json(none, &*s.fit, fit)["fit"];
    }
    e["rules"] = s.rules_yaml;
    e["vllm_args"] = s.vllm_args;
    list.push_back(std::move(e));
  }
  j["suggestions"] = std::move(list);
  return j;
}

}  // namespace

void register_suggest(CLI::App& app) {
  auto flags = std::make_shared<SuggestFlags>();
  CLI::App* sub = app.add_subcommand(
      "suggest",
      "enumerate the layouts vLLM can run on N GPUs, keep those that check clean and "
      "fit, best first");
  set_command_help(
      *sub, {"0  layouts were listed (or written)\n"
             "1  no layout checks clean (and fits)\n"
             "2  a usage error, an input that cannot be read or an output that cannot be written",
             "layerplan suggest --config fixtures/models/llama3_70b.json --gpus "
             "8 --gpu-memory 80GiB"});
  add_input_flags(*sub, flags->inputs, /*with_rules=*/false);
  sub->add_option("--gpus", flags->gpus, "number of GPUs")
      ->required()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{65536}));
  sub->add_option("--gpus-per-node", flags->gpus_per_node, "GPUs per node")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{65536}));
  add_memory_flags(*sub, flags->memory);
  sub->add_option("--top", flags->top, "rows of the table (0: all)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30));
  sub->add_option("--pick", flags->pick, "the suggestion --write-rules / --emit use (1: the best)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  sub->add_option("--write-rules", flags->write_rules,
                  "write the chosen layout's rules file (atomically)");
  add_emit_option(*sub, flags->emit, kSuggestEmits,
                  "the suggestions as a table or as json, or 'vllm-args': the chosen layout's vLLM "
                  "flags alone");
  sub->add_flag("--no-per-layer", flags->no_per_layer,
                "leave out attention TP narrower than tp (RFC #42659, unmerged PRs)");
  sub->add_flag("--allow-unverified", flags->allow_unverified,
                "keep per-layer layouts on architectures not verified for per-layer policy");
  sub->callback([flags, sub] {
    apply_deprecated_format(*sub, "suggest", flags->inputs.format, flags->emit, kSuggestEmits,
                            std::cerr);
    SuggestRequest request;
    request.config_path = flags->inputs.config;
    request.arch_files = flags->inputs.arch_files;
    request.gpus = flags->gpus;
    request.gpus_per_node = flags->gpus_per_node;
    request.fit = fit_request(flags->memory);
    request.per_layer = !flags->no_per_layer;
    request.allow_unverified = flags->allow_unverified;
    SuggestResult r = suggest(request);
    Compilation shown;
    for (const auto& d : r.diags.all()) shown.diags.report(d);
    int code = report_diagnostics(shown, flags->inputs, std::cerr, ::isatty(STDERR_FILENO) != 0);
    if (shown.diags.has_errors()) throw CLI::RuntimeError(code == kExitOk ? kExitInvalid : code);
    if (r.suggestions.empty()) {
      std::cerr << fmt::format(
          "layerplan: error: none of the {} layouts of {} GPUs ({} check clean) {}\n", r.candidates,
          flags->gpus, r.valid, request.fit ? "fits in --gpu-memory" : "checks clean");
      throw CLI::RuntimeError(kExitInvalid);
    }
    if (flags->pick > static_cast<std::int64_t>(r.suggestions.size())) {
      std::cerr << fmt::format("layerplan: error: --pick {} but there are {} suggestions\n",
                               flags->pick, r.suggestions.size());
      throw CLI::RuntimeError(kExitUsage);
    }
    const Suggestion& chosen = r.suggestions[static_cast<std::size_t>(flags->pick - 1)];
    if (!flags->write_rules.empty()) {
      if (auto error = write_file_atomically(flags->write_rules, chosen.rules_yaml)) {
        std::cerr << "layerplan: error: " << *error << "\n";
        throw CLI::RuntimeError(kExitUsage);
      }
    }
    if (flags->emit == "vllm-args") {
      std::cout << chosen.vllm_args << "\n";
    } else if (flags->emit == "json") {
      std::cout << dump_json(to_json(r, *flags, request.fit ? &*request.fit : nullptr)) << "\n";
    } else {
      std::cout << table(r, flags->top);
      std::cout << fmt::format("{} layouts of {} GPUs enumerated, {} check clean, {} suggested",
                               r.candidates, flags->gpus, r.valid, r.suggestions.size());
      if (!flags->write_rules.empty())
        std::cout << fmt::format("; #{} written to {}", flags->pick, flags->write_rules);
      std::cout << "\n";
    }
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace layerplan::cli
