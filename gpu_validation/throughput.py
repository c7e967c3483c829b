"""ResNet-18 training throughput (images/s) and model FLOPs utilization, per speed option.

    python -m claimcheck.gpu_validation.throughput                    # CUDA: ResNet-18 (k = 64), 32x32, batch 512
    python -m claimcheck.gpu_validation.throughput --device cpu --k 4 --batch 16 --steps 2   # a laptop check

Trains the CIFAR-shaped pre-activation ResNet-18 (:class:`gpu_validation.models.PreActResNet18k`,
11.2M parameters at k = 64) on a fixed synthetic batch resident on the device (so data
loading is not measured), SGD with Nesterov momentum, under each *variant*:

=====================  ==========================================================
``fp32``               the plain loop (on CUDA, TF32 matmuls off: true fp32)
``bf16``               bf16 autocast, as every job trains on CUDA
``bf16+cl``            ... and channels_last memory format (conv nets on CUDA)
``bf16+cl+compile``    ... and ``torch.compile`` (``--set compile=True`` in the jobs)
``bf16+cl+cudagraphs`` ... with ``mode="reduce-overhead"`` (CUDA graphs; ``--set cuda_graphs=True``)
``seeds4-k16``         4 seeds of ResNet-18 k = 16 as one vmap group (bf16; stacked
                       rank-5 weights have no channels_last), :mod:`gpu_validation.batched`;
                       images/s counts all members
``seeds4-k16+compile`` ... the group under ``torch.compile`` (vmap traced by Dynamo)
=====================  ==========================================================

The optimizer is SGD with Nesterov momentum, ``fused=True`` on CUDA (as in the jobs). One-time
costs stay out of the numbers: before the first variant a throwaway pass warms up the process
(allocator, cuDNN/oneDNN primitive caches, thread pools: on CPU the first variant measured
1,820 ms/step with ``--warmup 1`` before this), each variant then runs ``warmup`` untimed steps
(compilation, CUDA-graph capture and cuDNN autotuning happen there) and is timed over
``repeats`` segments of ``steps`` steps, CUDA events around each segment; the reported step
time is the median segment's. MFU =
3 x forward FLOPs per image x images/s / peak dense bf16 FLOP/s
(:data:`gpu_validation.device.PEAK_BF16_FLOPS`; for ``fp32`` too, so it is comparable).
Anchor: airbench94 trains its (much smaller) net to 94% on CIFAR-10 with 0.36 PFLOPs in
3.83 s on one A100 (KellerJordan/cifar10-airbench README), i.e. ~94 TFLOP/s, ~30% MFU.

Writes ``OUT/throughput.json`` and ``OUT/throughput.md`` atomically. Variants that cannot
run on the device (compile on CPU) are recorded as skipped with the reason.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from claimcheck.io import atomic_write_json, atomic_write_text, jsonable
from claimcheck.gpu_validation.device import (CHANNELS_LAST_DEVICES, Timer, autocast, compile_module, device_info, optimizer, peak_flops,
                                              prepare_model, select_device)
from claimcheck.gpu_validation.models import PreActResNet18k, forward_flops
from claimcheck.gpu_validation.run import DivergenceError, generator, git_revision, seeded_init

__all__ = ["VARIANTS", "measure", "table", "env_line", "main"]

AIRBENCH94_A100_FLOPS = 0.36e15 / 3.83   # achieved FLOP/s of the anchor (KellerJordan/cifar10-airbench)


@dataclass(frozen=True)
class Variant:
    name: str
    bf16: bool
    channels_last: bool
    compile: bool = False
    cuda_graphs: bool = False
    seeds: int = 1        # > 1: a vmap group of this many ResNets of width group_k
    group_k: int = 16


VARIANTS = {v.name: v for v in (
    Variant("fp32", bf16=False, channels_last=False),
    Variant("bf16", bf16=True, channels_last=False),
    Variant("bf16+cl", bf16=True, channels_last=True),
    Variant("bf16+cl+compile", bf16=True, channels_last=True, compile=True),
    Variant("bf16+cl+cudagraphs", bf16=True, channels_last=True, compile=True, cuda_graphs=True),
    Variant("seeds4-k16", bf16=True, channels_last=False, seeds=4, group_k=16),
    Variant("seeds4-k16+compile", bf16=True, channels_last=False, compile=True, seeds=4, group_k=16),
)}


def _run_variant(v: Variant, *, k: int, batch: int, steps: int, warmup: int, device: torch.device, seed: int,
                 repeats: int = 3) -> dict:
    from claimcheck.gpu_validation import batched

    width = v.group_k if v.seeds > 1 else k
    models = [seeded_init(lambda: PreActResNet18k(width, 10, 3), seed, "throughput", s) for s in range(v.seeds)]
    flops = 3 * forward_flops(models[0], (3, 32, 32))
    model = models[0] if v.seeds == 1 else batched.BatchedModels(models)
    model = prepare_model(model, device, channels_last=v.channels_last)
    gen = generator(seed, "throughput-data")
    x = torch.randn(batch * v.seeds, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (batch * v.seeds,), generator=gen).to(device)
    if v.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    opt = optimizer("sgd", model.parameters(), device, lr=0.01, momentum=0.9, nesterov=True)
    fwd, _ = compile_module(model, device, enabled=v.compile, cuda_graphs=v.cuda_graphs)
    loss_fn = batched.member_loss(v.seeds) if v.seeds > 1 else F.cross_entropy
    amp = autocast(device, "bf16" if v.bf16 else "fp32")

    def step():
        with amp:
            loss = loss_fn(fwd(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for _ in range(warmup):
        step()
    segments = []
    for _ in range(repeats):
        timer = Timer(device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        timer.start()
        for _ in range(steps):
            loss = step()
        timer.stop()
        segments.append(timer.seconds)
    if not torch.isfinite(loss.detach().float()):
        raise DivergenceError(f"throughput variant {v.name}: non-finite loss")
    seconds = float(np.median(segments))
    images = steps * batch * v.seeds
    rate = images / seconds
    peak = peak_flops(device)
    return {"variant": v.name, "status": "ok", "k": width, "members": v.seeds, "batch_per_member": batch,
            "steps": steps, "repeats": repeats, "seconds": seconds, "segment_seconds": segments,
            "images_per_s": rate, "step_ms": 1000 * seconds / steps,
            "train_flops_per_image": flops, "achieved_flops_per_s": flops * rate,
            "mfu": None if peak is None else flops * rate / peak}


def measure(variants=None, *, k: int = 64, batch: int = 512, steps: int = 50, warmup: int = 10, device=None,
            seed: int = 0, out_dir="runs/throughput", repeats: int = 3) -> dict:
    """Measure each variant; write ``throughput.json`` / ``.md`` to ``out_dir`` after each one."""
    names = list(variants or VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"variants={unknown}, each must be one of {list(VARIANTS)}")
    for name, value, low in (("k", k, 1), ("batch", batch, 1), ("steps", steps, 1), ("warmup", warmup, 0),
                             ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}={value!r}, must be an integer >= {low}")
    device = select_device(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False   # "fp32" means fp32
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    doc = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "git_revision": git_revision(), "torch": torch.__version__, "device": device_info(device),
           "peak_bf16_flops": peak_flops(device), "config": {"k": k, "batch": batch, "steps": steps,
                                                              "warmup": warmup, "repeats": repeats, "seed": seed},
           "anchor_airbench94_a100_flops_per_s": AIRBENCH94_A100_FLOPS, "records": []}
    out_dir = Path(out_dir)
    first = next((VARIANTS[n] for n in names if device.type == "cuda" or not (VARIANTS[n].compile or VARIANTS[n].channels_last)),
                 None)
    if first is not None:   # process warm-up, discarded (see the module docstring)
        t0 = time.perf_counter()
        _run_variant(first, k=k, batch=batch, steps=1, warmup=max(1, warmup), device=device, seed=seed, repeats=1)
        doc["process_warmup_s"] = time.perf_counter() - t0
    for name in names:
        v = VARIANTS[name]
        if v.compile and device.type != "cuda":
            rec = {"variant": name, "status": "skipped", "reason": "torch.compile is used on CUDA only"}
        elif v.channels_last and device.type not in CHANNELS_LAST_DEVICES:
            rec = {"variant": name, "status": "skipped",
                   "reason": "channels_last is used on CUDA only (CPU oneDNN conv backward corrupted the heap)"}
        else:
            try:
                rec = _run_variant(v, k=k, batch=batch, steps=steps, warmup=warmup, device=device, seed=seed,
                                   repeats=repeats)
            except Exception as exc:  # record and go on (e.g. no compiler for torch.compile)
                rec = {"variant": name, "status": "error", "reason": f"{type(exc).__name__}: {exc}"[:300]}
        doc["records"].append(rec)
        atomic_write_json(out_dir / "throughput.json", jsonable(doc))
        atomic_write_text(out_dir / "throughput.md", table(doc))
    return doc


def table(doc: dict) -> str:
    """Markdown: variant | k x members | images/s | ms/step | TFLOP/s | MFU."""
    dev = doc["device"]
    lines = [f"ResNet-18 training throughput on {dev.get('name')} (torch {doc['torch']}, git {doc['git_revision']}, "
             f"{doc['created']}); batch {doc['config']['batch']} per member, {doc['config']['steps']} timed steps.", "",
             "| variant | k x members | images/s | ms/step | TFLOP/s | MFU |", "|---|---|---|---|---|---|"]
    for r in doc["records"]:
        if r["status"] != "ok":
            lines.append(f"| {r['variant']} | - | - | - | - | {r['status']}: {r['reason']} |")
            continue
        mfu = "-" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
        lines.append(f"| {r['variant']} | {r['k']} x {r['members']} | {r['images_per_s']:.4g} | {r['step_ms']:.3g} | "
                     f"{r['achieved_flops_per_s'] / 1e12:.3g} | {mfu} |")
    lines += ["", f"Anchor: airbench94 on one A100 achieves {AIRBENCH94_A100_FLOPS / 1e12:.0f} TFLOP/s "
                  "(0.36 PFLOPs in 3.83 s, ~30% MFU)."]
    return "\n".join(lines) + "\n"


def env_line() -> str:
    """One line naming torch, its CUDA and the GPU (``device_check.sh`` writes it to ``env.txt``).

    >>> env_line().startswith("torch ")
    True
    """
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "NO CUDA"
    return f"torch {torch.__version__} cuda {torch.version.cuda} {name}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m claimcheck.gpu_validation.throughput", description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="*", default=None, help=f"default: all of {', '.join(VARIANTS)}")
    p.add_argument("--k", type=int, default=64, help="ResNet-18 width (64: the standard ResNet-18)")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3, help="timed segments of --steps steps; the median is reported")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/throughput"))
    p.add_argument("--env", type=Path, default=None,
                   help="first write env_line() (torch, CUDA, GPU) to this file and print it (device_check.sh)")
    args = p.parse_args(argv)
    if args.env is not None:   # in this process: a separate `python -c "import torch ..."` costs a torch import
        line = env_line()
        print(line, flush=True)
        atomic_write_text(args.env, line + "\n")
    try:
        doc = measure(args.variants, k=args.k, batch=args.batch, steps=args.steps, warmup=args.warmup,
                      device=args.device, seed=args.seed, out_dir=args.out, repeats=args.repeats)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(doc))
    print(f"written: {args.out / 'throughput.json'} and .md")
    return 1 if any(r["status"] == "error" for r in doc["records"]) else 0


if __name__ == "__main__":
    sys.exit(main())
