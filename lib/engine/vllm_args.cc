#include "lib/engine/vllm_args.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lib/yaml_source.h"

namespace layerplan {
namespace {

// One shell word: its text after quote removal and the byte offset where it starts.
struct Word {
  std::string text;
  std::size_t offset = 0;
  std::size_t value_offset = 0;  // for `--flag=value`: where the value starts
};

// What a parallel flag sets.
enum class Target {
  kTp,
  kAttnTp,
  kPp,
  kDp,
  kDcp,
  kPcp,
  kEp,
  kDpLocal,
  kNnodes,
  kNodeRank,
  kInterleave
};

struct FlagInfo {
  std::vector<std::string> names;  // long name first, then vLLM's short aliases
  Target target;
  std::int64_t min;  // vLLM's Field(ge=…) bound
};

// engine/arg_utils.py::EngineArgs.add_cli_args (ParallelConfig group) at f067737b, plus PR
// #36287's --tensor-parallel-size-attention / -tpa. Bounds from config/parallel.py::ParallelConfig.
const std::vector<FlagInfo>& parallel_flags() {
  static const std::vector<FlagInfo> kFlags = {
      {{"--tensor-parallel-size", "-tp"}, Target::kTp, 1},
      {{"--tensor-parallel-size-attention", "-tpa"}, Target::kAttnTp, 1},
      {{"--pipeline-parallel-size", "-pp"}, Target::kPp, 1},
      {{"--data-parallel-size", "-dp"}, Target::kDp, 1},
      {{"--decode-context-parallel-size", "-dcp"}, Target::kDcp, 1},
      {{"--prefill-context-parallel-size", "-pcp"}, Target::kPcp, 1},
      {{"--enable-expert-parallel", "-ep"}, Target::kEp, 0},
      {{"--data-parallel-size-local", "-dpl"}, Target::kDpLocal, 1},
      {{"--nnodes", "-n"}, Target::kNnodes, 1},
      {{"--node-rank", "-r"}, Target::kNodeRank, 0},
      {{"--dcp-kv-cache-interleave-size"}, Target::kInterleave, 1},
      {{"--cp-kv-cache-interleave-size"}, Target::kInterleave, 1},
  };
  return kFlags;
}

// vLLM flags that sit near the parallel ones (the ParallelConfig group and every short alias of
// arg_utils.py and entrypoints/openai/cli_args.py) but shape no rank group: never mistaken for
// a misspelt parallel flag.
const std::vector<std::string>& known_other_flags() {
  static const std::vector<std::string> kFlags = {"--data-parallel-rank",
                                                  "--data-parallel-start-rank",
                                                  "--data-parallel-address",
                                                  "--data-parallel-rpc-port",
                                                  "--data-parallel-backend",
                                                  "--data-parallel-hybrid-lb",
                                                  "--data-parallel-external-lb",
                                                  "--data-parallel-multi-port-external-lb",
                                                  "--distributed-executor-backend",
                                                  "--max-parallel-loading-workers",
                                                  "--dcp-comm-backend",
                                                  "--enable-ep-weight-filter",
                                                  "--enable-eplb",
                                                  "--enable-elastic-ep",
                                                  "--eplb-config",
                                                  "--expert-placement-strategy",
                                                  "--all2all-backend",
                                                  "--master-addr",
                                                  "--master-port",
                                                  "--disable-custom-all-reduce",
                                                  "--enable-dbo",
                                                  "--ubatch-size",
                                                  "--numa-bind",
                                                  "--numa-bind-nodes",
                                                  "--numa-bind-cpus",
                                                  "--device-ids",
                                                  "--distributed-timeout-seconds",
                                                  "--cpu-distributed-timeout-seconds",
                                                  "--ray-workers-use-nsight",
                                                  "--worker-cls",
                                                  "--worker-extension-cls",
                                                  "--api-server-count",
                                                  "--headless",
                                                  "--mm-encoder-tp-mode",
                                                  "-dpn",
                                                  "-dpr",
                                                  "-dpa",
                                                  "-dpp",
                                                  "-dpb",
                                                  "-dph",
                                                  "-dpe",
                                                  "-dpm",
                                                  "-ac",
                                                  "-cc",
                                                  "-dc",
                                                  "-sc",
                                                  "-asc",
                                                  "-q",
                                                  "-O"};
  return kFlags;
}

const FlagInfo* find_flag(std::string_view name) {
  for (const auto& f : parallel_flags()) {
    if (std::find(f.names.begin(), f.names.end(), name) != f.names.end()) return &f;
  }
  return nullptr;
}

std::string axis_of(Target t) {
  switch (t) {
    case Target::kTp:
      return "tp";
    case Target::kAttnTp:
      return "attn_tp";
    case Target::kPp:
      return "pp";
    case Target::kDp:
      return "dp";
    case Target::kDcp:
      return "dcp";
    case Target::kPcp:
      return "pcp";
    case Target::kEp:
      return "ep";
    default:
      return "";
  }
}

class LaunchParser {
 public:
  LaunchParser(const SourcePtr& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  void parse(VllmLaunch& out) {
    out.rules.file = file_;
    out.rules.root = Location{file_, 1, 1};
    out.rules.axes_root = out.rules.root;
    std::vector<Word> words;
    if (!split(words)) return;
    std::size_t i = 0;
    // Leading NAME=value assignments, as a shell takes them.
    for (; i < words.size() && is_assignment(words[i].text); ++i) assignment(words[i], out);
    if (i < words.size() && words[i].text == "vllm") {
      ++i;
      if (i >= words.size() || words[i].text != "serve") {
        error("invalid-value", i < words.size() ? words[i].offset : words[i - 1].offset,
              "only `vllm serve MODEL …` launches a server; give `vllm serve MODEL` and its flags, "
              "or the flags alone");
        return;
      }
      ++i;
    }
    for (; i < words.size(); ++i) {
      const Word& w = words[i];
      if (w.text.size() < 2 || w.text[0] != '-') {
        positional(w, out);
        continue;
      }
      i = flag(words, i, out);
    }
    finish(out);
  }

 private:
  Location at(std::size_t offset) const {
    auto [line, column] = file_->position_of(offset);
    return Location{file_, line, column};
  }
  void error(std::string_view code, std::size_t offset, std::string message) {
    diags_.report(make_error(code, at(offset), std::move(message)));
  }

  // POSIX shell words: blanks separate, '…' is literal, "…" and a bare backslash escape, a
  // backslash-newline joins lines.
  bool split(std::vector<Word>& words) {
    const std::string& s = file_->text;
    std::size_t i = 0;
    while (i < s.size()) {
      if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
        ++i;
        continue;
      }
      if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\n') {
        i += 2;
        continue;
      }
      Word w;
      w.offset = i;
      bool eq_seen = false;
      while (i < s.size() && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
        char c = s[i];
        if (c == '=' && !eq_seen) {
          eq_seen = true;
          w.value_offset = i + 1;
        }
        if (c == '\'') {
          std::size_t end = s.find('\'', i + 1);
          if (end == std::string::npos) {
            error("vllm-args-syntax", i, "unterminated single quote");
            return false;
          }
          w.text.append(s, i + 1, end - i - 1);
          i = end + 1;
        } else if (c == '"') {
          std::size_t j = i + 1;
          while (j < s.size() && s[j] != '"') {
            if (s[j] == '\\' && j + 1 < s.size() &&
                std::string_view("\"\\$`\n").find(s[j + 1]) != std::string_view::npos) {
              if (s[j + 1] != '\n') w.text += s[j + 1];
              j += 2;
            } else {
              w.text += s[j++];
            }
          }
          if (j >= s.size()) {
            error("vllm-args-syntax", i, "unterminated double quote");
            return false;
          }
          i = j + 1;
        } else if (c == '\\' && i + 1 < s.size()) {
          if (s[i + 1] != '\n') w.text += s[i + 1];
          i += 2;
        } else {
          w.text += c;
          ++i;
        }
      }
      words.push_back(std::move(w));
    }
    return true;
  }

  static bool is_assignment(const std::string& w) {
    std::size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    if (!(std::isalpha(static_cast<unsigned char>(w[0])) || w[0] == '_')) return false;
    return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(eq), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
  }

  // VLLM_PP_LAYER_PARTITION=31,30: distributed/utils.py::get_pp_indices splits it on ',' and
  // int()s each entry; its length and sum are checked against the model later.
  void assignment(const Word& w, VllmLaunch& out) {
    std::string name = w.text.substr(0, w.text.find('='));
    if (name != "VLLM_PP_LAYER_PARTITION") {
      out.ignored.push_back(name + "=…");
      return;
    }
    PipelinePartition partition;
    partition.location = at(w.value_offset);
    std::string value = w.text.substr(name.size() + 1);
    std::size_t start = 0;
    bool ok = true;
    while (true) {
      std::size_t comma = value.find(',', start);
      std::string entry =
          value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto n = parse_integer(entry);
      if (!n || *n < 1 || *n > kMaxStageLayers) {
        error("invalid-value", w.value_offset + start,
              fmt::format("VLLM_PP_LAYER_PARTITION entry '{}' must be a positive number of layers "
                          "(the layers of each pipeline stage, comma-separated, e.g. 31,30)",
                          entry));
        ok = false;
      } else if (partition.sizes.size() < kMaxStages) {
        partition.sizes.push_back(*n);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (ok) out.rules.partition = std::move(partition);
  }

  void positional(const Word& w, VllmLaunch& out) {
    if (!out.model.empty()) {
      error("invalid-value", w.offset,
            fmt::format("unexpected argument '{}': the model is already '{}'", w.text, out.model));
      return;
    }
    out.model = w.text;
    out.model_location = at(w.offset);
  }

  // Returns the index of the last word it consumed.
  std::size_t flag(const std::vector<Word>& words, std::size_t i, VllmLaunch& out) {
    const Word& w = words[i];
    std::string name = w.text;
    std::optional<std::string> inline_value;
    std::size_t value_offset = 0;
    if (std::size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      value_offset = w.value_offset;
      name.resize(eq);
    }
    // FlexibleArgumentParser.parse_args: '_' becomes '-' in a long option's name.
    if (name.rfind("--", 0) == 0) std::replace(name.begin(), name.end(), '_', '-');
    if (name == "--model") {  // FlexibleArgumentParser moves --model to the positional MODEL
      if (inline_value) {
        positional(Word{*inline_value, value_offset, 0}, out);
      } else if (i + 1 < words.size()) {
        positional(words[++i], out);
      } else {
        error("invalid-value", w.offset, "--model needs a value");
      }
      return i;
    }
    bool negated = name == "--no-enable-expert-parallel";
    const FlagInfo* info = find_flag(negated ? "--enable-expert-parallel" : name);
    if (info == nullptr) return other_flag(words, i, name, inline_value.has_value(), out);
    if (info->target == Target::kEp) {
      if (inline_value) {
        error("invalid-value", w.offset,
              fmt::format("{} takes no value (vLLM: \"ignored explicit argument\")", name));
        return i;
      }
      ep_ = !negated;
      ep_location_ = at(w.offset);
      return i;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < words.size() &&
               !(words[i + 1].text.size() > 1 && words[i + 1].text[0] == '-' &&
                 !std::isdigit(static_cast<unsigned char>(words[i + 1].text[1])))) {
      ++i;
      value = words[i].text;
      value_offset = words[i].offset;
    } else {
      error("invalid-value", w.offset, fmt::format("{} needs a value", name));
      return i;
    }
    auto n = parse_integer(value);
    if (!n) {
      error(
          "invalid-value", value_offset,
          fmt::format("{} takes an integer, got '{}' (vLLM: \"invalid int value\")", name, value));
      return i;
    }
    if (*n < info->min) {
      std::string why = info->target == Target::kDcp && *n == 0
                            ? " (decode_context_parallel_size 0 would divide by zero; "
                              "ParallelConfig requires it to be at least 1)"
                            : fmt::format(" (ParallelConfig requires at least {})", info->min);
      error(
          "invalid-value", value_offset,
          fmt::format("{} {} is out of range: it must be at least {}{}", name, *n, info->min, why));
      return i;
    }
    Axis axis{axis_of(info->target), *n, at(value_offset), at(value_offset)};
    switch (info->target) {
      case Target::kDpLocal:
        axis.name = "data_parallel_size_local";
        out.nodes.dp_local = axis;
        break;
      case Target::kNnodes:
        axis.name = "nnodes";
        out.nodes.nnodes = axis;
        break;
      case Target::kNodeRank:
        axis.name = "node_rank";
        out.nodes.node_rank = axis;
        break;
      case Target::kInterleave:
        out.ignored.push_back(name + " (KV-cache layout only)");
        break;
      default:
        set_axis(out.rules, std::move(axis));
        break;  // the last one given wins, as in argparse
    }
    return i;
  }

  static void set_axis(RulesFile& rules, Axis axis) {
    for (auto& a : rules.axes) {
      if (a.name == axis.name) {
        a = std::move(axis);
        return;
      }
    }
    rules.axes.push_back(std::move(axis));
  }

  // A flag that shapes nothing is ignored; one that looks like a parallel flag is an error.
  std::size_t other_flag(const std::vector<Word>& words, std::size_t i, const std::string& name,
                         bool has_inline_value, VllmLaunch& out) {
    const auto& known = known_other_flags();
    bool is_known = std::find(known.begin(), known.end(), name) != known.end();
    std::vector<std::string> ours;
    for (const auto& f : parallel_flags()) ours.insert(ours.end(), f.names.begin(), f.names.end());
    ours.push_back("--no-enable-expert-parallel");
    std::string hint = closest_match(name, ours);
    if (!is_known && (!hint.empty() || name.find("parallel") != std::string::npos)) {
      Diagnostic d = make_error(
          "unknown-parallel-flag", at(words[i].offset),
          hint.empty()
              ? fmt::format("'{}' is not a vLLM parallel flag", name)
              : fmt::format("'{}' is not a vLLM parallel flag; did you mean '{}'?", name, hint));
      d.notes.push_back({{},
                         "vLLM's flags that shape parallelism: -tp, -tpa (PR #36287), -pp, -dp, "
                         "-dcp, -pcp, -ep, -dpl, --nnodes, --node-rank (each also in its long "
                         "spelling)"});
      diags_.report(std::move(d));
    } else {
      out.ignored.push_back(name);
    }
    // Its value, if it takes one: the next word unless that is a flag. Boolean flags (--no-…,
    // --enable-…, --disable-…, and a few known ones) take none.
    bool boolean = name.rfind("--no-", 0) == 0 || name.rfind("--enable-", 0) == 0 ||
                   name.rfind("--disable-", 0) == 0 || name == "--trust-remote-code" ||
                   name == "--enforce-eager" || name == "--headless";
    if (!has_inline_value && !boolean && i + 1 < words.size() && !words[i + 1].text.empty() &&
        words[i + 1].text[0] != '-') {
      return i + 1;
    }
    return i;
  }

  void finish(VllmLaunch& out) {
    if (ep_) {
      // config/parallel.py and fused_moe/config.py::FusedMoEParallelConfig.make: with
      // --enable-expert-parallel the EP size is dp * pcp * tp.
      std::int64_t ep = 1;
      bool overflow = false;
      for (const char* name : {"dp", "pcp", "tp"}) {
        const Axis* a = out.rules.find_axis(name);
        overflow = overflow || __builtin_mul_overflow(ep, a != nullptr ? a->value : 1, &ep);
      }
      if (!overflow) set_axis(out.rules, Axis{"ep", ep, ep_location_, ep_location_});
    }
    if (const Axis* tpa = out.rules.find_axis("attn_tp")) {
      // PR #36287: every attention layer runs at the attention TP size.
      Rule rule;
      rule.name = "-tpa";
      rule.location = tpa->location;
      rule.match.kind = LayerKind::kAttention;
      rule.match.location = tpa->location;
      rule.match.kind_location = tpa->location;
      rule.plan.location = tpa->location;
      rule.plan.tp_size = PlanValue{true, "attn_tp", 0, tpa->location};
      out.rules.rules.push_back(std::move(rule));
    }
    if (!out.ignored.empty()) {
      diags_.report(make_note(
          "vllm-args-ignored", Location{},
          fmt::format("ignored (they shape no rank group): {}", fmt::join(out.ignored, ", "))));
    }
  }

  SourcePtr file_;
  Diagnostics& diags_;
  bool ep_ = false;
  Location ep_location_;
};

}  // namespace

std::optional<VllmLaunch> parse_vllm_args(const SourcePtr& text, Diagnostics& diags) {
  int errors_before = diags.count(Severity::kError);
  // Bytes that are not UTF-8 would reach diagnostics (a flag is quoted in its error) and JSON.
  if (std::size_t bad = find_invalid_utf8(text->text); bad != std::string_view::npos) {
    diags.report(make_error("vllm-args-syntax", Location{text, 0, 0},
                            fmt::format("the launch line is not UTF-8: byte {} (0x{:02X}) is not "
                                        "part of a character",
                                        bad + 1, static_cast<unsigned char>(text->text[bad]))));
    return std::nullopt;
  }
  VllmLaunch out;
  LaunchParser(text, diags).parse(out);
  if (diags.count(Severity::kError) != errors_before) return std::nullopt;
  return out;
}

}  // namespace layerplan
