"""Benchmark: S seeds trained one by one vs batched in one forward/backward (gpu_validation.batched).

The baseline is the strongest a competent user would write without ``torch.func``: the same
training loop run one seed after another. Both arms use the same training loop (:func:`gpu_validation.loop.train`: per-step
batch gathering, divergence checks, timing) on the same S replicates (seeded inits, per-seed
data and data order); the batched arm stacks the S models with ``torch.func``
(:class:`gpu_validation.batched.BatchedModels`). Throughput = training samples (S x B per
batched step) / training seconds, on CPU (fp32, the threads set by ``benchmarks.run``).
Each case also checks that the two arms trained the same networks (max |difference| of
the parameters, to float32 rounding).

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

Target: speed-up >= 1.5x on the overhead-bound case, and every case equivalent to float32 rounding
(within 1e-5: MLPs are bit-identical with MKL on AVX-512, 1 ulp apart on this AVX2 EPYC; SGD, see
tests/test_gpu_batched.py for why not Adam). Noise control: repeats alternate the arm that runs first;
times are medians with [min, max].

**Job scale (the per-device default).** The cases above are microbenchmarks. The last table runs
the jobs themselves at the sizes of their ``small`` profiles (shortened), once with ``batched=False``
and once with ``batched=True``, and compares their timed training throughput and wall time. On
this CPU the conv-net groups are slower there (vmap'ed convolutions) while the MLP groups and the
stacked hypersphere networks are faster, which is why ``batched=None`` means *groups on CUDA; on
CPU groups of MLPs only, conv nets one by one* (:meth:`gpu_validation.driver.Context.group`); the
GPU side of that choice (S small kernels become one S-times larger one, launch-bound widths) is an
expectation, not yet a measurement.
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
         "batch": 32, "seeds": 16, "steps": 2 * steps, "exact": False, "key": "overhead"},
        {"name": "real_vs_ideal smoke MLP 20-256-256-10, B=128", "build": lambda: MLP(20, (256, 256), 10), "shape": (20,),
         "batch": 128, "seeds": 6, "steps": steps, "exact": False, "key": "mlp"},
        {"name": "SmallCNN width 8 on 8x8, B=64", "build": lambda: SmallCNN(8, 10, 1), "shape": (1, 8, 8),
         "batch": 64, "seeds": 4, "steps": steps // 2, "exact": False, "key": "cnn"},
        {"name": "ResNet-18 k=2 on 8x8, B=64", "build": lambda: PreActResNet18k(2, 10, 1), "shape": (1, 8, 8),
         "batch": 64, "seeds": 4, "steps": steps // 4, "exact": False, "key": "resnet"},
        {"name": f"ResNet-18 k={'/'.join(map(str, PACK_WIDTHS))} on 8x8, B=64: one group per width vs all widths "
                 "packed (padded to the widest)", "shape": (1, 8, 8), "batch": 64, "seeds": 2, "steps": steps // 4,
         "exact": False, "key": "packed", "arm_a": _per_width_groups, "arm_b": _packed_widths,
         # lr 0.005: at 0.02 (since the final BN-ReLU went, as in the reference resnet18k) one width-3
         # member amplifies float32 rounding (6e-8 after step 1) to 2.5e-3 by step 10, as any
         # reordering of its sums would; at 0.005 every member stays within 1e-7
         "lr": 0.005},
    ]


def _task(build, seed, shape, batch, n=512):
    import torch

    from claimcheck.gpu_validation.run import generator, seeded_init

    model = seeded_init(build, seed, "init")
    x = torch.randn(n, *shape, generator=generator(seed, "x"))
    y = torch.randint(0, 10, (n,), generator=generator(seed, "y"))
    per_epoch = n // batch
    orders = {}

    def batch_fn(step):
        epoch, i = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            orders[epoch] = torch.randperm(n, generator=generator(seed, "order", epoch))
        idx = orders[epoch][i * batch:(i + 1) * batch]
        return x[idx], y[idx]

    return model, batch_fn


def _ctx():
    import torch

    from claimcheck.gpu_validation.driver import Context
    from claimcheck.gpu_validation.run import Run

    return Context(Run("bench", "bench", None, seed=0, device=torch.device("cpu"), out_dir=None, progress=False))


def _sequential(c):
    import torch

    from claimcheck.gpu_validation import loop

    ctx = _ctx()
    models = []
    for s in range(c["seeds"]):
        model, batch_fn = _task(c["build"], s, c["shape"], c["batch"])
        loop.train(ctx, model, torch.optim.SGD(model.parameters(), lr=LR), unit=f"seed{s}", steps=c["steps"],
                   batch_fn=batch_fn)
        models.append(model)
    return ctx.run.samples / ctx.run.timer.seconds, models


def _batched(c):
    import torch

    from claimcheck.gpu_validation import batched

    ctx = _ctx()
    tasks = [_task(c["build"], s, c["shape"], c["batch"]) for s in range(c["seeds"])]
    group = batched.train_group(ctx, [m for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=LR), unit="group",
                                steps=c["steps"], batch_fns=[b for _, b in tasks])
    return ctx.run.samples / ctx.run.timer.seconds, [group.member(i) for i in range(group.size)]


PACK_WIDTHS = (1, 2, 3, 4)   # ResNet-18k widths of the packing case


def _per_width_groups(c):
    """One group (c["seeds"] seeds) per width: the double-descent default without packing."""
    import torch

    from claimcheck.gpu_validation import batched
    from claimcheck.gpu_validation.models import PreActResNet18k

    ctx = _ctx()
    members = []
    for k in PACK_WIDTHS:
        tasks = [_task(lambda k=k: PreActResNet18k(k, 10, 1), 100 * k + s, c["shape"], c["batch"]) for s in range(c["seeds"])]
        group = batched.train_group(ctx, [m for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=c["lr"]), unit=f"k{k}",
                                    steps=c["steps"], batch_fns=[b for _, b in tasks])
        members += [group.member(i) for i in range(group.size)]
    return ctx.run.samples / ctx.run.timer.seconds, members


def _packed_widths(c):
    """All widths x seeds as one group, each padded to the widest (gpu_validation.packing)."""
    import torch

    from claimcheck.gpu_validation import batched, packing
    from claimcheck.gpu_validation.models import PreActResNet18k

    ctx = _ctx()
    widest = PreActResNet18k(max(PACK_WIDTHS), 10, 1)
    tasks = [_task(lambda k=k: PreActResNet18k(k, 10, 1), 100 * k + s, c["shape"], c["batch"])
             for k in PACK_WIDTHS for s in range(c["seeds"])]
    group = batched.train_group(ctx, [packing.embed(m, widest) for m, _ in tasks], lambda p: torch.optim.SGD(p, lr=c["lr"]),
                                unit="pack", steps=c["steps"], batch_fns=[b for _, b in tasks])
    return (ctx.run.samples / ctx.run.timer.seconds,
            [packing.extract(group.member(i), m) for i, (m, _) in enumerate(tasks)])


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


JOB_CASES = [
    ("real_vs_ideal", "small", dict(n_real=4000, n_test=1000, steps=100, n_evals=3),
     "real_vs_ideal small: MLP 40-512-512-10, B=128, 5 seeds x 2 worlds, 100 steps (of 2000)"),
    ("deep_double_descent", "small", dict(widths=(4, 8, 12), n_train=512, n_test=256, epochs=1, n_seeds=2,
                                          pack_max_waste=1.0),
     "deep_double_descent small: ResNet-18 k=4/8/12 on 28x28 MNIST, 2 seeds x 2 noise levels, 1 epoch of 512"),
    ("feature_calibration", "small", dict(n_train=384, n_test=256, epochs=1),
     "feature_calibration small: ResNet-18 k=16 on 28x28 MNIST, 3 seeds, 1 epoch of 384"),
    ("hypersphere", "smoke", dict(),
     "hypersphere smoke: 2-layer ReLU d=100 width 512, B=32, 3 seeds x n in {64, 256, 1024}, trained to margin"),
]


def _job_case(job: str, profile: str, over: dict, name: str) -> dict:
    import numpy as np
    import torch

    from claimcheck.gpu_validation import get_job

    runs: dict = {False: [], True: []}
    for b in (False, True, True, False):   # ABBA: a drift in the machine's load hits both arms alike
        t0 = time.perf_counter()
        res = get_job(job).run(profile, device="cpu", out_dir=None, progress=False, figures=False, batched=b,
                               warmup_steps=1, **over)
        runs[b].append({"wall_s": time.perf_counter() - t0, "samples_per_s": res["timings"]["throughput_samples_per_s"],
                        "measurements": res["measurements"]})
    arms = {b: {"wall_s": float(np.median([r["wall_s"] for r in rs])),
                "samples_per_s": float(np.median([r["samples_per_s"] for r in rs])),
                "all_samples_per_s": [r["samples_per_s"] for r in rs], "measurements": rs[0]["measurements"]}
            for b, rs in runs.items()}

    def numbers(m):
        out = []
        for v in m.values():
            if isinstance(v, list):
                out += [float(x) for x in np.ravel(np.array(v, dtype=object)) if isinstance(x, (int, float))]
        return np.array(out)

    a, b = numbers(arms[False]["measurements"]), numbers(arms[True]["measurements"])
    return {"case": name, "job": job, "profile": profile, "overrides": over, "torch_threads": torch.get_num_threads(),
            "one_by_one": {k: v for k, v in arms[False].items() if k != "measurements"},
            "batched": {k: v for k, v in arms[True].items() if k != "measurements"},
            "throughput_ratio": arms[True]["samples_per_s"] / arms[False]["samples_per_s"],
            "wall_ratio": arms[False]["wall_s"] / arms[True]["wall_s"],
            "max_abs_measurement_diff": float(np.abs(a - b).max()) if a.shape == b.shape and a.size else None}


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
        "(packing case: 0.005).",
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
    if res.get("job_cases"):
        lines += ["", "## Job scale: the jobs themselves, batched=False vs batched=True (CPU; two runs per arm in ABBA "
                  "order, medians)", "",
                  "| case | one by one: samples/s, wall | batched: samples/s, wall | batched speed-up (throughput, wall) "
                  "| max abs diff of the measurements |", "|---|---|---|---|---|"]
        for c in res["job_cases"]:
            o, b = c["one_by_one"], c["batched"]
            d = c["max_abs_measurement_diff"]
            lines.append(f"| {c['case']} | {fmt_sig(o['samples_per_s'])}, {o['wall_s']:.1f} s | {fmt_sig(b['samples_per_s'])}, "
                         f"{b['wall_s']:.1f} s | **{c['throughput_ratio']:.2g}x**, {c['wall_ratio']:.2g}x | "
                         f"{'-' if d is None else f'{d:.2g}'} |")
        lines += ["", "Default chosen from this table: `batched=None` trains in groups on CUDA; on CPU it groups MLPs "
                  "(and stacks the hypersphere networks) and trains conv nets one by one."]
    return "\n".join(lines) + "\n"


def run(quick: bool = False, seed: int = 0, out_dir: Path = RESULTS_DIR) -> dict:
    import torch

    t0 = time.perf_counter()
    machine = machine_info()
    repeats = 2 if quick else 3
    cases = [_case(c, repeats) for c in _cases(quick)]
    job_cases = [] if quick else [_job_case(*c) for c in JOB_CASES]
    overhead = next(c for c in cases if c["key"] == "overhead")
    met = overhead["speedup"] >= TARGET_SPEEDUP and all(c["equivalent"] for c in cases)
    res = {"name": NAME, "mode": "quick" if quick else "full", "seed": seed, "machine": machine,
           "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "cases": cases, "job_cases": job_cases,
           "target": {"speedup_overhead_bound": TARGET_SPEEDUP, "met": bool(met)},
           "load_average_at_end": load_average(), "wall_seconds": time.perf_counter() - t0}
    write_results(out_dir, NAME, quick, res, to_markdown(res))
    res["summary"] = "\n".join(
        f"{c['case']:>46}: one by one {c['sequential_samples_per_s']['median']:.4g}/s, batched "
        f"{c['batched_samples_per_s']['median']:.4g}/s, speed-up x{c['speedup']:.3g}, max diff {c['max_abs_param_diff']:.2g}"
        for c in cases) + "".join(f"\n{c['case'][:46]:>46}: batched/one-by-one throughput x{c['throughput_ratio']:.2g}"
                                  for c in job_cases) + f"\n   target met: {met}"
    return res
