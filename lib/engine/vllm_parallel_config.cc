// Axis-level checks: vLLM's ParallelConfig invariants.
#include <fmt/format.h>

#include "lib/checks.h"

namespace layerplan {

using check_util::checked_product;
using check_util::divisors;
using check_util::join;
using check_util::product_text;

void check_axes(const CheckContext& ctx, Diagnostics& diags) {
  const AxisValues& a = ctx.axes;
  const RulesFile& rules = ctx.rules;
  auto loc = [&](std::string_view name) { return a.location(name, rules.axes_root); };
  auto axis_note = [&](std::string_view name, std::int64_t value) {
    return Note{loc(name), fmt::format("{} is {}", name, value)};
  };

  if (a.world_overflows) {
    Diagnostic d = make_error(
        "world-size-limit", loc("tp"),
        fmt::format("the world size tp*pp*dp*pcp = {}*{}*{}*{} overflows a 64-bit integer", a.tp,
                    a.pp, a.dp, a.pcp));
    diags.report(std::move(d));
  } else if (a.world_size > kMaxWorldSize) {
    diags.report(make_error(
        "world-size-limit", loc("tp"),
        fmt::format("the world size tp*pp*dp*pcp = {} is more ranks than layerplan lists groups "
                    "for ({})",
                    a.world_size, kMaxWorldSize)));
  }
  if (rules.world_size && !a.world_overflows && rules.world_size->value != a.world_size) {
    Diagnostic d = make_error(
        "world-size-mismatch", rules.world_size->location,
        fmt::format("world_size is {}, but tp*pp*dp*pcp = {}*{}*{}*{} = {}", rules.world_size->value,
                    a.tp, a.pp, a.dp, a.pcp, a.world_size));
    d.notes.push_back({{}, "dcp, attn_tp and ep add no ranks: they subdivide the tp (and dp) groups"});
    diags.report(std::move(d));
  }
  if (a.tp % a.dcp != 0) {
    Diagnostic d = make_error("dcp-divides-tp", loc("dcp"),
                              fmt::format("dcp ({}) does not divide tp ({})", a.dcp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    d.notes.push_back({{}, fmt::format("valid dcp values for tp {}: {}", a.tp, join(divisors(a.tp)))});
    diags.report(std::move(d));
  }
  std::optional<std::int64_t> attn_dcp = checked_product(a.attn_tp, a.dcp);
  if (a.attn_tp > a.tp) {
    Diagnostic d = make_error("attn-tp-exceeds-tp", loc("attn_tp"),
                              fmt::format("attn_tp ({}) exceeds tp ({})", a.attn_tp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    diags.report(std::move(d));
  } else if (a.tp % a.attn_tp != 0) {
    Diagnostic d = make_error("attn-tp-divides-tp", loc("attn_tp"),
                              fmt::format("attn_tp ({}) does not divide tp ({})", a.attn_tp, a.tp));
    d.notes.push_back(axis_note("tp", a.tp));
    d.notes.push_back(
        {{}, fmt::format("valid attn_tp values for tp {}: {}", a.tp, join(divisors(a.tp)))});
    diags.report(std::move(d));
  } else if (a.attn_tp < a.tp && attn_dcp != a.tp) {  // an overflowed product differs too
    std::int64_t need = a.tp / a.attn_tp;
    Diagnostic d = make_error(
        "tpa-invariant", loc("dcp"),
        fmt::format("attn_tp ({}) * dcp ({}) = {} must equal tp ({}) when attn_tp < tp", a.attn_tp,
                    a.dcp, product_text(attn_dcp), a.tp));
    d.notes.push_back(axis_note("attn_tp", a.attn_tp));
    d.notes.push_back(axis_note("tp", a.tp));
    std::string alt = a.tp % a.dcp == 0 && a.dcp > 1
                          ? fmt::format(", or attn_tp {} for dcp {}", a.tp / a.dcp, a.dcp)
                          : "";
    d.notes.push_back({{}, fmt::format("valid: dcp {} for attn_tp {}{} (attention TP narrower "
                                       "than tp shards the KV cache across the rest by DCP)",
                                       need, a.attn_tp, alt)});
    diags.report(std::move(d));
  }
  if (a.pp > ctx.model.num_hidden_layers) {
    Diagnostic d = make_error(
        "pp-exceeds-layers", loc("pp"),
        fmt::format("pp ({}) is more pipeline stages than the model has decoder layers ({})", a.pp,
                    ctx.model.num_hidden_layers));
    diags.report(std::move(d));
  }
}

}  // namespace layerplan
