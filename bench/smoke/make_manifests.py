#!/usr/bin/env python3
"""Writes the hand-made smoke fixtures fixtures/manifests/*.json (docs/manifest.md format).

The groups are computed here with vLLM's formulas (an implementation independent of
smoke/expected_groups.cc); bad_* fixtures are good ones with one deliberate fault and carry their
expectation inline under "_expect" (exit code and a message the smoke run must print).
Regenerate with:  python3 bench/smoke/make_manifests.py
"""
import copy
import json
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "manifests")

LLAMA8B = dict(architecture="LlamaForCausalLM", model_type="llama", family="llama",
               layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, vocab=128256)
DSV3 = dict(architecture="DeepseekV3ForCausalLM", model_type="deepseek_v3", family="deepseek",
            layers=61, dense_layers=3, hidden=7168, heads=128, kv_lora=512, rope=64,
            experts=256, topk=8, vocab=129280)


def rank(a, d, p, c, t):
    return ((d * a["pp"] + p) * a["pcp"] + c) * a["tp"] + t


def vllm_groups(a, ep=None):
    tp, pp, dp, pcp, dcp, attn = a["tp"], a["pp"], a["dp"], a["pcp"], a["dcp"], a["attn_tp"]
    world = tp * pp * dp * pcp
    R = lambda d, p, c, t: rank(a, d, p, c, t)
    g = {"world": [list(range(world))]}
    g["tp"] = [[R(d, p, c, t) for t in range(tp)]
               for d in range(dp) for p in range(pp) for c in range(pcp)]
    if dcp > 1:
        g["dcp"] = [list(range(b, b + dcp)) for b in range(0, world, dcp)]
    if attn < tp:
        s = tp // attn
        g["attn_tp"] = [[R(d, p, c, t) for t in range(j, tp, s)]
                        for d in range(dp) for p in range(pp) for c in range(pcp) for j in range(s)]
    if pcp > 1:
        g["pcp"] = [[R(d, p, c, t) for c in range(pcp)]
                    for d in range(dp) for p in range(pp) for t in range(tp)]
    g["pp"] = [[R(d, p, c, t) for p in range(pp)]
               for d in range(dp) for c in range(pcp) for t in range(tp)]
    g["dp"] = [[R(d, p, c, t) for d in range(dp)]
               for p in range(pp) for c in range(pcp) for t in range(tp)]
    if ep:
        g["ep"] = []
        for p in range(pp):
            dom = [R(d, p, c, t) for d in range(dp) for c in range(pcp) for t in range(tp)]
            g["ep"] += [dom[i:i + ep] for i in range(0, len(dom), ep)]
    return world, g


def stages(num_layers, pp):
    per, rem = divmod(num_layers, pp)
    sizes = [per] * pp
    for k in range(rem):  # vLLM gives the extra layers to partitions -2, -3, ...
        sizes[-2 - k] += 1
    out, first = [], 0
    for s, n in enumerate(sizes):
        out.append({"stage": s, "first_layer": first, "last_layer": first + n - 1, "num_layers": n})
        first += n
    return out


def stage_of(index, st):
    return next(s["stage"] for s in st if s["first_layer"] <= index <= s["last_layer"])


def comm(op, group, elements, why):
    return {"op": op, "group": group, "elements_per_token": elements, "why": why}


def llama_layers(m, a, st):
    tp, attn, dcp = a["tp"], a["attn_tp"], a["dcp"]
    layers = []
    for i in range(m["layers"]):
        attn_comms = []
        if dcp > 1:
            attn_comms.append(comm("all_to_all", "dcp", m["heads"] // attn * m["head_dim"],
                                   "DCP combine of attention output"))
        if tp > 1:
            attn_comms.append(comm("all_reduce", "tp", m["hidden"], "o_proj row-parallel output"))
        layers.append({
            "prefix": f"model.layers.{i}.self_attn", "kind": "attention", "flavor": "gqa",
            "index": i, "mtp": False, "stage": stage_of(i, st), "rule": None, "fallback": True,
            "plan": {"tp_size": attn, "tp_group": "attn_tp" if attn < tp else "tp",
                     "dcp_size": dcp, "dcp_group": "dcp" if dcp > 1 else None,
                     "ep_size": 1, "ep_group": None, "replicas": tp // attn},
            "comms": attn_comms})
        layers.append({
            "prefix": f"model.layers.{i}.mlp", "kind": "mlp", "flavor": "dense",
            "index": i, "mtp": False, "stage": stage_of(i, st), "rule": None, "fallback": True,
            "plan": {"tp_size": tp, "tp_group": "tp", "dcp_size": 1, "dcp_group": None,
                     "ep_size": 1, "ep_group": None, "replicas": 1},
            "comms": [comm("all_reduce", "tp", m["hidden"], "down_proj row-parallel output")]
            if tp > 1 else []})
    return layers


def deepseek_layers(m, a, st, ep):
    tp, dcp = a["tp"], a["dcp"]
    layers = []
    for i in range(m["layers"]):
        layers.append({
            "prefix": f"model.layers.{i}.self_attn", "kind": "attention", "flavor": "mla",
            "index": i, "mtp": False, "stage": stage_of(i, st), "rule": None, "fallback": False,
            "plan": {"tp_size": a["attn_tp"], "tp_group": "attn_tp", "dcp_size": dcp,
                     "dcp_group": "dcp", "ep_size": 1, "ep_group": None, "replicas": tp},
            "comms": [
                comm("all_gather", "dcp", m["heads"] * (m["kv_lora"] + m["rope"]),
                     "DCP all-gather of queries (MLA, all heads of the DCP group)"),
                comm("reduce_scatter", "dcp", m["heads"] * m["kv_lora"],
                     "DCP reduce-scatter of partial attention outputs"),
                comm("all_reduce", "tp", m["hidden"], "o_proj row-parallel output")]})
        moe = i >= m["dense_layers"]
        layers.append({
            "prefix": f"model.layers.{i}.mlp", "kind": "moe" if moe else "mlp",
            "flavor": "moe" if moe else "dense", "index": i, "mtp": False,
            "stage": stage_of(i, st), "rule": None, "fallback": False,
            "plan": {"tp_size": 1 if moe else tp, "tp_group": None if moe else "tp",
                     "dcp_size": 1, "dcp_group": None,
                     "ep_size": ep if moe else 1, "ep_group": "ep" if moe else None,
                     "replicas": 1},
            "comms": [comm("all_to_all", "ep", m["hidden"] * m["topk"], "MoE dispatch (top-8)"),
                      comm("all_to_all", "ep", m["hidden"] * m["topk"], "MoE combine")]
            if moe else [comm("all_reduce", "tp", m["hidden"], "down_proj row-parallel output")]})
    return layers


def manifest(m, axes, ep=None):
    a = dict(tp=1, attn_tp=None, dcp=1, pcp=1, pp=1, dp=1)
    a.update(axes)
    if a["attn_tp"] is None:
        a["attn_tp"] = a["tp"]
    world, groups = vllm_groups(a, ep)
    st = stages(m["layers"], a["pp"])
    layers = deepseek_layers(m, a, st, ep) if "kv_lora" in m else llama_layers(m, a, st)
    pipeline = [comm("send_recv", "pp", m["hidden"], "activations between stages")] \
        if a["pp"] > 1 else []
    return {
        "schema_version": 1,
        "generator": {"name": "bench/smoke/make_manifests.py", "version": "0.1.0"},
        "inputs": {"config": None, "rules": None},
        "model": {"architecture": m["architecture"], "model_type": m["model_type"],
                  "family": m["family"], "verified": False,
                  "num_hidden_layers": m["layers"], "num_mtp_layers": 0,
                  "hidden_size": m["hidden"], "vocab_size": m["vocab"], "dtype": "bfloat16"},
        "world_size": world,
        "axes": {k: a[k] for k in ("tp", "attn_tp", "dcp", "pcp", "pp", "dp")},
        "groups": groups,
        "layers": layers,
        "pipeline": {"stages": st, "comms": pipeline},
    }


def bad(base, expect_exit, message, edit):
    out = copy.deepcopy(base)
    edit(out)
    out["_expect"] = {"exit": expect_exit, "message": message}
    return out


def main():
    good = {
        "good_llama8b_tp4_attn2_dcp2": manifest(LLAMA8B, dict(tp=4, attn_tp=2, dcp=2)),
        "good_deepseek_v3_tp4_attn1_dcp4_ep4": manifest(DSV3, dict(tp=4, attn_tp=1, dcp=4), ep=4),
        "good_llama8b_tp2_pp2": manifest(LLAMA8B, dict(tp=2, pp=2)),
        "good_llama8b_tp2": manifest(LLAMA8B, dict(tp=2)),
        "good_llama8b_pp2": manifest(LLAMA8B, dict(pp=2)),
        "good_llama8b_dp2": manifest(LLAMA8B, dict(dp=2)),
        "good_llama8b_tp8_attn4_dcp2": manifest(LLAMA8B, dict(tp=8, attn_tp=4, dcp=2)),
        "good_llama8b_dp2_pp2_tp2": manifest(LLAMA8B, dict(dp=2, pp=2, tp=2)),
    }
    tpa = good["good_llama8b_tp4_attn2_dcp2"]
    dp2pp2 = good["good_llama8b_dp2_pp2_tp2"]

    def swap_dcp(m):
        m["groups"]["dcp"][0] = [1, 0]

    def dcp_as_strided(m):
        m["groups"]["dcp"] = [[0, 2], [1, 3]]

    def megatron_pp_dp(m):  # Megatron order: pp slowest, so PP and DP groups swap
        m["groups"]["pp"] = [[0, 4], [1, 5], [2, 6], [3, 7]]
        m["groups"]["dp"] = [[0, 2], [1, 3], [4, 6], [5, 7]]

    def swap_tp2(m):
        m["groups"]["tp"][0] = [1, 0]

    def out_of_range(m):
        m["groups"]["tp"][0][3] = 4

    def twice(m):
        m["groups"]["dcp"] = [[0, 1], [1, 3]]

    def unknown_set(m):
        m["layers"][0]["comms"][0]["group"] = "kvp"

    def axes_product(m):
        m["axes"]["pp"] = 2

    def unequal(m):
        m["groups"]["dcp"] = [[0, 1, 2], [3]]

    bads = {
        "bad_dcp_swapped": bad(tpa, 3, 'group set "dcp" group 0: expected [0, 1]', swap_dcp),
        "bad_tp2_swapped": bad(good["good_llama8b_tp2"], 3,
                               'group set "tp" group 0: expected [0, 1]', swap_tp2),
        "bad_dcp_strided": bad(tpa, 3, 'group set "dcp" group 0: expected [0, 1]',
                               dcp_as_strided),
        "bad_megatron_pp_dp": bad(dp2pp2, 3, 'group set "pp" group 0: expected [0, 2]',
                                  megatron_pp_dp),
        "bad_rank_out_of_range": bad(tpa, 2, "manifest:/groups/tp/0/3: 4 is outside [0, 3]",
                                     out_of_range),
        "bad_rank_twice": bad(tpa, 2, "manifest:/groups/dcp/1/0: rank 1 appears twice", twice),
        "bad_unknown_set_in_comms": bad(
            tpa, 2, 'manifest:/layers/0/comms/0/group: group must name a group set of /groups',
            unknown_set),
        "bad_axes_product": bad(tpa, 2, "manifest:/axes: dp*pp*pcp*tp = 8 but world_size is 4",
                                axes_product),
        "bad_unequal_groups": bad(tpa, 3, 'group set "dcp": groups of unequal sizes (3, 1)',
                                  unequal),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, m in {**good, **bads}.items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(m, f, indent=1)
            f.write("\n")
    print(f"wrote {len(good) + len(bads)} manifests to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
