"""Benchmark: S seeds trained one by one vs batched in one forward/backward (gpu_validation.batched).

The baseline is the strongest a competent user would write without ``torch.func``: the same
training loop run one seed after another. Both arms use the same training loop (:meth:`gpu_validation.common.Run.train`: per-step
batch gathering, divergence checks, timing) on the same S replicates (seeded inits, per-seed
data and data order); the batched arm stacks the S models with ``torch.func``
(:class:`gpu_validation.batched.BatchedModels`). Throughput = training samples (S x B per
batched step) / training seconds, on CPU (fp32, the threads set by ``benchmarks.run``).
Each case also checks that the two arms trained the same networks (max |difference| of
the parameters; 0 for MLPs).

Cases: the tiny MLP where per-step Python/dispatch overhead dominates (the regime of the
smoke/small profiles' MLPs on a GPU, where every kernel is launch-bound), the
``real_vs_ideal`` smoke MLP (20-256-256-10, batch 128: compute-bound on one CPU core), and
the small CNN / ResNet-18 (k = 2) of the conv jobs. The last case compares *width packing*
(:mod:`gpu_validation.packing`: ResNet-18k for k = 1..4, each zero-padded to k = 4, all
trained as one group) with the default of one group per width; its arm "one by one" is
the per-width groups, "batched" the single packed group. The packed group does
4 x 4^2 / (1 + 4 + 9 + 16) = 2.1x the conv arithmetic; at these sizes even one CPU core is
bound by per-layer overhead rather than arithmetic, so packing still wins (measured ~1.8x).
On a GPU, where the small widths are launch-bound, the gain should be larger; not measured. On a CPU core the batched arm can only
remove overhead, not add arithmetic throughput, so the compute-bound cases show ~1x; the
GPU speed-up (where S small kernels become one S-times larger kernel) is not measured here
(no GPU in the session that wrote this).

Target: speed-up >= 1.5x on the overhead-bound case, and every case equivalent (MLP bit for
bit, conv nets within 1e-5; SGD, see tests/test_gpu_batched.py for why not Adam). Noise control: repeats alternate the arm that runs first;
times are medians with [min, max].
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks._common import RESULTS_DIR, fmt_sig, load_average, machine_info, spread, write_results

NAME = "gpu_batched"
TARGET_SPEEDUP = 1.5
CONV_ATOL = 1e-5
LR = 0.05   # SGD: Adam would turn rounding-level gradients of never-used conv taps into O(lr) steps


def _cases(quick: bool):
    from claimcheck.gpu_validation.models import MLP, PreActResNet18k, SmallCNN

    steps = 20 if quick else 40
    return [
        {"name": "tiny MLP 20-32-10, B=32 (overhead-bound)", "build": lambda: MLP(20, (32,), 10), "shape": (20,),
         "batch": 32, "seeds": 16, "steps": 2 * steps, "exact": True, "key": "overhead"},
        {"name": "real_vs_ideal smoke MLP 20-256-256-10, B=128", "build": lambda: MLP(20, (256, 256), 10), "shape": (20,),
         "batch": 128, "seeds": 6, "steps": steps, "exact": True, "key": "mlp"},
        {"name": "SmallCNN width 8 on 8x8, B=64", "build": lambda: SmallCNN(8, 10, 1), "shape": (1, 8, 8),
         "batch": 64, "seeds": 4, "steps": steps // 2, "exact": False, "key": "cnn"},
        {"name": "ResNet-18 k=2 on 8x8, B=64", "build": lambda: PreActResNet18k(2, 10, 1), "shape": (1, 8, 8),
         "batch": 64, "seeds": 4, "steps": steps // 4, "exact": False, "key": "resnet"},
        {"name": f"ResNet-18 k={'/'.join(map(str, PACK_WIDTHS))} on 8x8, B=64: one group per width vs all widths "
                 "packed (padded to the widest)", "shape": (1, 8, 8), "batch": 64, "seeds": 2, "steps": steps // 4,
         "exact": False, "key": "packed", "arm_a": _per_width_groups, "arm_b": _packed_widths,
         # lr 0.02: at 0.05 the width-1 net turns chaotic after ~6 steps and amplifies float32
         # rounding (3e-7 at step 5) to 1e-4 at step 10, as any reordering of its sums would
         "lr": 0.02},
    ]


def _task(build, seed, shape, batch, n=512):
    import torch

    from claimcheck.gpu_validation import common

    model = common.seeded_init(build, seed, "init")
    x = torch.randn(n, *shape, generator=common.generator(seed, "x"))
    y = torch.randint(0, 10, (n,), generator=common.generator(seed, "y"))
    per_epoch = n // batch
    orders = {}

    def batch_fn(step):
        epoch, i = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            orders[epoch] = torch.randperm(n, generator=common.generator(seed, "order", epoch))
        idx = orders[epoch][i * batch:(i + 1) * batch]
        return x[idx], y[idx]

    return model, batch_fn


def _sequential(c):
    import torch

    from claimcheck.gpu_validation import common

    dev = torch.device("cpu")
    rn = common.Run("bench", "bench", None, seed=0, device=dev, out_dir=None, progress=False)
    models = []
    for s in range(c["seeds"]):
        model, batch_fn = _task(c["build"], s, c["shape"], c["batch"])
        rn.train(model, torch.optim.SGD(model.parameters(), lr=LR), unit=f"seed{s}", steps=c["steps"], batch_fn=batch_fn)
        models.append(model)
    return rn.samples / rn.timer.seconds, models


def _batched(c):
    import torch

    from claimcheck.gpu_validation import batched, common

    dev = torch.device("cpu")
    rn = common.Run("bench", "bench", None, seed=0, device=dev, out_dir=None, progress=False)
    tasks = [_task(c["build"], s, c["shape"], c["batch"]) for s in range(c["seeds"])]
    members, _ = batched.train_group(rn, [m for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=LR), unit="group",
                                     steps=c["steps"], batch_fns=[b for _, b in tasks], device=dev)
    return rn.samples / rn.timer.seconds, members


PACK_WIDTHS = (1, 2, 3, 4)   # ResNet-18k widths of the packing case


def _per_width_groups(c):
    """One group (c["seeds"] seeds) per width: the double-descent default without packing."""
    import torch

    from claimcheck.gpu_validation import batched, common
    from claimcheck.gpu_validation.models import PreActResNet18k

    dev = torch.device("cpu")
    rn = common.Run("bench", "bench", None, seed=0, device=dev, out_dir=None, progress=False)
    members = []
    for k in PACK_WIDTHS:
        tasks = [_task(lambda k=k: PreActResNet18k(k, 10, 1), 100 * k + s, c["shape"], c["batch"]) for s in range(c["seeds"])]
        got, _ = batched.train_group(rn, [m for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=c["lr"]), unit=f"k{k}",
                                     steps=c["steps"], batch_fns=[b for _, b in tasks], device=dev)
        members += got
    return rn.samples / rn.timer.seconds, members


def _packed_widths(c):
    """All widths x seeds as one group, each padded to the widest (gpu_validation.packing)."""
    import torch

    from claimcheck.gpu_validation import batched, common, packing
    from claimcheck.gpu_validation.models import PreActResNet18k

    dev = torch.device("cpu")
    rn = common.Run("bench", "bench", None, seed=0, device=dev, out_dir=None, progress=False)
    widest = PreActResNet18k(max(PACK_WIDTHS), 10, 1)
    tasks = [_task(lambda k=k: PreActResNet18k(k, 10, 1), 100 * k + s, c["shape"], c["batch"])
             for k in PACK_WIDTHS for s in range(c["seeds"])]
    got, _ = batched.train_group(rn, [packing.embed(m, widest) for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=c["lr"]),
                                 unit="pack", steps=c["steps"], batch_fns=[b for _, b in tasks], device=dev)
    return rn.samples / rn.timer.seconds, [packing.extract(g, m) for g, (m, _) in zip(got, tasks)]


def _case(c, repeats):
    import torch

    seq, bat, diff = [], [], 0.0
    for r in range(repeats):
        arms = [("seq", c.get("arm_a", _sequential)), ("bat", c.get("arm_b", _batched))]
        for tag, fn in (arms if r % 2 == 0 else arms[::-1]):
            rate, models = fn(c)
            (seq if tag == "seq" else bat).append(rate)
            if tag == "seq":
                ref = models
            else:
                got = models
        with torch.no_grad():
            diff = max(diff, max(float((a.state_dict()[k].float() - b.state_dict()[k].float()).abs().max())
                                 for a, b in zip(ref, got) for k in a.state_dict()))
    equivalent = diff == 0.0 if c["exact"] else diff <= CONV_ATOL
    return {"case": c["name"], "key": c["key"], "seeds": c["seeds"], "batch": c["batch"], "steps": c["steps"],
            "repeats": repeats, "sequential_samples_per_s": spread(seq), "batched_samples_per_s": spread(bat),
            "speedup": float(np.median(bat) / np.median(seq)), "max_abs_param_diff": diff,
            "tolerance": 0.0 if c["exact"] else CONV_ATOL, "equivalent": bool(equivalent)}


def to_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"# GPU suite: S seeds batched (torch.func.vmap) vs one by one, on CPU ({res['mode']} run)",
        "",
        f"- date (UTC): {m['date_utc']}; git: {m['git_revision']}; {m['platform']}; cpu_count {m['cpu_count']}; "
        f"python {m['python']}; torch {res['torch']} ({res['torch_threads']} thread(s))",
        f"- load average at start / end: {m['load_average_at_start']} / {res['load_average_at_end']} (shared machine)",
        f"- total wall time {res['wall_seconds']:.1f} s; target: speed-up >= {TARGET_SPEEDUP}x on the overhead-bound "
        f"case and all cases equivalent; met: {res['target']['met']}",
        "",
        f"Training samples/s (S x B per step / training seconds), median [min, max] over repeats; SGD lr {LR} "
        "(packing case: 0.02).",
        "max |diff| = largest parameter/buffer difference between the two arms' trained networks.",
        "Baseline: what a competent user runs without `torch.func` -- the same training loop, one seed after "
        "another (for the packing case: one group per width); the speed-up is against it.",
        "",
        "| case | S | steps | one by one (samples/s) | batched (samples/s) | speed-up | max abs diff | equivalent |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in res["cases"]:
        s, b = c["sequential_samples_per_s"], c["batched_samples_per_s"]
        lines.append(f"| {c['case']} | {c['seeds']} | {c['steps']} | {fmt_sig(s['median'])} [{fmt_sig(s['min'])}, "
                     f"{fmt_sig(s['max'])}] | {fmt_sig(b['median'])} [{fmt_sig(b['min'])}, {fmt_sig(b['max'])}] | "
                     f"**{c['speedup']:.3g}x** | {c['max_abs_param_diff']:.2g} (tol {c['tolerance']:g}) | {c['equivalent']} |")
    lines += ["", "On one CPU core batching only removes per-step overhead; the GPU speed-up (S small kernels "
              "become one larger kernel) has not been measured: no GPU was available."]
    return "\n".join(lines) + "\n"


def run(quick: bool = False, seed: int = 0, out_dir: Path = RESULTS_DIR) -> dict:
    import torch

    t0 = time.perf_counter()
    machine = machine_info()
    repeats = 2 if quick else 3
    cases = [_case(c, repeats) for c in _cases(quick)]
    overhead = next(c for c in cases if c["key"] == "overhead")
    met = overhead["speedup"] >= TARGET_SPEEDUP and all(c["equivalent"] for c in cases)
    res = {"name": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine,
           "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "cases": cases,
           "target": {"speedup_overhead_bound": TARGET_SPEEDUP, "met": bool(met)},
           "load_average_at_end": load_average(), "wall_seconds": time.perf_counter() - t0}
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = "\n".join(
        f"{c['case']:>46}: one by one {c['sequential_samples_per_s']['median']:.4g}/s, batched "
        f"{c['batched_samples_per_s']['median']:.4g}/s, speed-up x{c['speedup']:.3g}, max diff {c['max_abs_param_diff']:.2g}"
        for c in cases) + f"\n   target met: {met}"
    return res
