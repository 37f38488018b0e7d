#!/usr/bin/env python3
"""Megatron-Core's rank groups for one shape, written as JSON: the reference a user reaches for
when checking layerplan's groups and its speed. Megatron-LM is not part of layerplan; fetch it
yourself (bench/peers/README.md) and point --megatron at the checkout. Uses only the documented
RankGenerator(tp, ep, dp, pp, cp, order, rank_offset) and RankGenerator.get_ranks(token) of
megatron/core/parallel_state.py. Importing that module needs torch; without torch the script
reads the two pure-Python definitions it needs (RankGenerator and
generate_masked_orthogonal_rank_groups) from the checkout's parallel_state.py at run time."""
import argparse
import ast
import os
import json
import sys
import time


def load_rank_generator(checkout):
    """RankGenerator from the checkout: imported when torch is there, else its definitions."""
    sys.path.insert(0, checkout)
    try:
        from megatron.core.parallel_state import RankGenerator
        return RankGenerator, "import"
    except ImportError:
        pass
    path = os.path.join(checkout, "megatron", "core", "parallel_state.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    wanted = {"RankGenerator", "generate_masked_orthogonal_rank_groups"}
    nodes = [n for n in tree.body
             if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in wanted]
    if len(nodes) != len(wanted):
        sys.exit(f"{path}: expected definitions of {sorted(wanted)}")
    namespace = {}
    exec("from typing import Callable, List, Optional", namespace)
    exec(compile(ast.Module(body=nodes, type_ignores=[]), path, "exec"), namespace)
    return namespace["RankGenerator"], "definitions read from parallel_state.py (no torch)"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--megatron", required=True, help="path of a Megatron-LM checkout")
    p.add_argument("--tp", type=int, default=8)
    p.add_argument("--pp", type=int, default=2)
    p.add_argument("--dp", type=int, default=4096)
    p.add_argument("--cp", type=int, default=1)
    p.add_argument("--order", default="tp-cp-ep-dp-pp", help="Megatron's default order")
    p.add_argument("--tokens", default="tp,dp,pp,cp,tp-pp,tp-dp-cp,dp-cp",
                   help="the group sets to compute, comma-separated get_ranks tokens")
    p.add_argument("-o", "--output", required=True, help="JSON file to write")
    args = p.parse_args()

    start = time.perf_counter()
    RankGenerator, how = load_rank_generator(args.megatron)
    imported = time.perf_counter()

    generator = RankGenerator(tp=args.tp, ep=1, dp=args.dp, pp=args.pp, cp=args.cp,
                              order=args.order, rank_offset=0)
    groups = {token: generator.get_ranks(token) for token in args.tokens.split(",")}
    computed = time.perf_counter()
    with open(args.output, "w") as out:
        json.dump({"world_size": args.tp * args.pp * args.dp * args.cp, "groups": groups}, out)
    written = time.perf_counter()
    print(f"RankGenerator by {how}: load {imported - start:.3f} s, groups {computed - imported:.3f} s, "
          f"write {written - computed:.3f} s, total {written - start:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
