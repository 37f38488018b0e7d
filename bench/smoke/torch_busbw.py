#!/usr/bin/env python3
"""PyTorch baseline for `layerplan smoke`: torch.distributed (NCCL) all_reduce and all_gather
busbw on the same GPUs, group shapes and message sizes as a smoke run.

For every group set of the manifest whose groups have more than one rank, every rank creates all
of the set's groups with dist.new_group (as vLLM does) and times the collectives the smoke JSON
report timed on that set (all_reduce and all_gather rows, the 64 MiB sweep among them), with the
same method as the smoke run: `warmup` untimed calls, then CUDA events around `iters` calls on
each rank, time = the slowest rank's mean, busbw by nccl-tests' formulas (all_reduce 2(n-1)/n,
all_gather (n-1)/n). all_gather's size is the gathered output, as in nccl-tests.

  python3 bench/smoke/torch_busbw.py --manifest M.json --smoke-json smoke.json --out torch.json
  python3 bench/smoke/torch_busbw.py --print-nccl-path   # the libnccl that torch loads
"""
import argparse
import json
import os
import socket
import sys
import time

DTYPES = {"bfloat16": 2, "float16": 2, "float32": 4}


def bus_factor(op, n):
    return 2.0 * (n - 1) / n if op == "all_reduce" else (n - 1) / n


def rows_to_time(manifest, smoke, sweep_bytes):
    """(set, op, bytes) rows: those the smoke report timed, or the sweep per set."""
    rows = []
    if smoke is not None:
        for s in smoke["group_sets"]:
            for r in s["results"]:
                if r["op"] in ("all_reduce", "all_gather"):
                    rows.append((s["name"], r["op"], r["size_bytes"], r["sweep"]))
        return rows
    for name, groups in manifest["groups"].items():
        if len(groups[0]) > 1:
            rows += [(name, "all_reduce", sweep_bytes, True), (name, "all_gather", sweep_bytes, True)]
    return rows


def worker(rank, world, port, args, manifest, rows, queue):
    import torch
    import torch.distributed as dist
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", world_size=world,
                            rank=rank, device_id=torch.device("cuda", rank))
    dtype = getattr(torch, args.dtype)
    es = DTYPES[args.dtype]
    groups = {}
    for name, members in manifest["groups"].items():
        if len(members[0]) <= 1:
            continue
        for g in members:  # every rank creates every group, in order
            pg = dist.new_group(g)
            if rank in g:
                groups[name] = (pg, g)
    out = []
    for name, op, nbytes, sweep in rows:
        pg, members = groups[name]
        n = len(members)
        count = nbytes // es
        if op == "all_gather":
            count -= count % n
            inp = torch.zeros(count // n, dtype=dtype, device="cuda")
            res = torch.empty(count, dtype=dtype, device="cuda")
            call = lambda: dist.all_gather_into_tensor(res, inp, group=pg)
        else:
            buf = torch.zeros(count, dtype=dtype, device="cuda")
            call = lambda: dist.all_reduce(buf, group=pg)
        for _ in range(args.warmup):
            call()
        torch.cuda.synchronize()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(args.iters):
            call()
        stop.record()
        torch.cuda.synchronize()
        us = torch.tensor([start.elapsed_time(stop) * 1000.0 / args.iters], device="cuda")
        dist.all_reduce(us, op=dist.ReduceOp.MAX)  # the slowest rank, as the smoke run reports
        t = us.item()
        algbw = count * es / (t * 1e3)
        out.append({"set": name, "op": op, "size_bytes": count * es, "group_size": n,
                    "sweep": sweep, "time_us": t, "algbw_gbps": algbw,
                    "busbw_gbps": algbw * bus_factor(op, n)})
    if rank == 0:
        queue.put({"torch": torch.__version__,
                   "nccl": ".".join(map(str, torch.cuda.nccl.version())),
                   "device": torch.cuda.get_device_name(0), "rows": out})
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest")
    p.add_argument("--smoke-json", nargs="+", default=[],
                   help="smoke --json reports: time the rows of the first; a ratio column each")
    p.add_argument("--out", help="write the results as JSON here")
    p.add_argument("--dtype", default="bfloat16", choices=sorted(DTYPES))
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--sweep-bytes", type=int, default=64 << 20)
    p.add_argument("--print-nccl-path", action="store_true")
    args = p.parse_args()
    if args.print_nccl_path:
        import torch  # noqa: F401  (loads libnccl)
        with open("/proc/self/maps") as maps:
            paths = sorted({l.split()[-1] for l in maps if "libnccl" in l})
        if not paths:
            try:
                import nvidia.nccl
                paths = [os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2")]
            except ImportError:
                pass
        print(paths[0] if paths else "")
        return 0
    manifest = json.load(open(args.manifest))
    smokes = [json.load(open(f)) for f in args.smoke_json]
    rows = rows_to_time(manifest, smokes[0] if smokes else None, args.sweep_bytes)
    import torch.multiprocessing as mp
    world = manifest["world_size"]
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    began = time.time()
    procs = mp.start_processes(worker, args=(world, free_port(), args, manifest, rows, queue),
                               nprocs=world, join=False, start_method="spawn")
    result = queue.get()  # before joining: a child blocks on a full pipe until it is read
    while not procs.join():
        pass
    result["wall_time_s"] = time.time() - began
    print(f"# torch {result['torch']}, NCCL {result['nccl']}, {world} x {result['device']}, "
          f"dtype {args.dtype}, warmup {args.warmup}, iters {args.iters}")
    tables = []
    for sm in smokes:
        table = {}
        for s in sm["group_sets"]:
            for r in s["results"]:
                if r["busbw_gbps"] is not None:
                    table[(s["name"], r["op"], r["size_bytes"])] = r["busbw_gbps"]
        tables.append(table)
    head = "".join(f" {'smoke' + str(i):>8} {'ratio' + str(i):>7}" for i in range(len(tables)))
    print(f"# {'set':>8} {'op':>11} {'size(B)':>10} {'n':>2} {'time(us)':>9} {'busbw':>8}{head}")
    for r in result["rows"]:
        line = (f"  {r['set']:>8} {r['op']:>11} {r['size_bytes']:>10} {r['group_size']:>2} "
                f"{r['time_us']:>9.2f} {r['busbw_gbps']:>8.2f}")
        r["smoke_busbw_gbps"], r["ratio_smoke_over_torch"] = [], []
        for table in tables:
            mine = table.get((r["set"], r["op"], r["size_bytes"]))
            ratio = mine / r["busbw_gbps"] if mine else None
            r["smoke_busbw_gbps"].append(mine)
            r["ratio_smoke_over_torch"].append(ratio)
            line += f" {(f'{mine:.2f}' if mine else '-'):>8} {(f'{ratio:.3f}' if ratio else '-'):>7}"
        print(line)
    result["smoke_json"] = args.smoke_json
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
