"""Deep double descent: ResNet-18k width sweep (or sample-size sweep) under label noise.

Claim (Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever 2020, "Deep Double Descent: Where
Bigger Models and More Data Hurt", Fig. 1/4, Sec. 4): test error vs ResNet-18 width k has an
interpolation peak when the training labels are noisy, and the peak is attenuated (or gone)
without label noise. Setting: pre-activation ResNet-18k (stage widths k, 2k, 4k, 8k;
:class:`gpu_validation.models.PreActResNet18k`, as the reference ``resnet18k``), Adam lr 1e-4,
batch 128, label noise = a uniformly random *wrong* label for a fixed fraction of training
points, drawn once.

Decision (:func:`claimcheck.gpu_validation.rules.decide`, applied by the driver; the rule table is in
that module's docstring): at the largest noise level, some width within one step of the measured
interpolation threshold (the first width whose seed-mean train error is <= 1%) stands >= 0.01 above
the valleys -- the lowest seed-mean points before and after that window -- in per-seed contrasts
(one-sided t, Holm over the window); the window is placed from the train errors only. The *peak prominence* of a seed-mean curve
(:func:`claimcheck.gpu_validation.evidence_table.prominence`: ``max_{1<i<m} min(e_i - min_{j<i} e_j,
e_i - min_{j>i} e_j)``, <= 0 for a monotone curve) is a descriptive summary in the evidence table, not
part of the decision.

Profiles::

    claimcheck gpu deep_double_descent --profile smoke   # CPU, ~2 s: 8x8 digits, ResNet k in {1,2,4}
    claimcheck gpu deep_double_descent --profile cpu     # CPU, one core, ~5.4 CPU min (measured): digits MLPs, k = 2..512
    claimcheck gpu deep_double_descent --profile small   # one GPU (estimate: minutes): digits MLPs, k = 1..1024
    claimcheck gpu deep_double_descent --profile full --data-dir cifar-10-batches-py  # cluster, ResNet-18k

``cpu`` and ``small`` sweep the width k of a **one-hidden-layer ReLU MLP** (``model="mlp"``) on the
scikit-learn 8x8 digits (1,000 training points, the other 797 as the test set), Adam lr 1e-3,
batch 128, constant lr, no augmentation: the two-layer-network setting of Belkin, Hsu, Ma & Mandal
(2019, PNAS; fully connected nets on MNIST) with Nakkiran et al.'s label noise, at CPU cost. Why
not MNIST: the CPU pilots found **no peak with MNIST MLPs** (one seed each, 20% noise: n = 1,000,
k = 2..96, 600 epochs; n = 2,000, k = 4..128, 400 epochs; square loss, n = 1,000: test error
fell with k past the interpolation threshold), while on the digits with 20% noise
the seed-mean test error went 0.118 (k = 6) -> 0.265 (k = 32) -> 0.162 (k = 512) with train error
0 from k ~ 48 (1,500 epochs, 2 seeds); ResNet-18k training at these epoch counts is hours on a
CPU. The widths are dense around that measured interpolation threshold (k = 24..64); ``small``
adds Nakkiran et al.'s 10% and 15% noise levels, 5 seeds, 4,000 epochs (their Adam runs) and
k up to 1024. The smoke profile only checks the pipeline (6 Adam steps on 256 digits, 2 seeds:
always "underpowered"). Deviations from the paper, kept: no data augmentation in ``full`` (the
paper's CIFAR-10 runs use random crops and flips); ``cpu`` / ``small`` are MLPs on digits, not
ResNets on CIFAR-10. ``resnet18k`` itself follows the reference (see
:class:`gpu_validation.models.PreActResNet18k`; tested against a transcription of it).

MLP sweep: with ``batched`` (default on every device for MLPs) the whole model-wise sweep -- every
width, seed and noise level -- is one :class:`gpu_validation.models.WidthSweepMLP`: replicate g =
one (seed, noise) with its own split, noisy labels and data order, member (g, m) = width m,
initialised exactly as the standalone ``MLP(64, (k,), 10)`` of that (seed, k) (the same init at
every noise level). Members are independent networks (their loss terms and parameters are
disjoint; Adam is elementwise), so the sweep equals training them one by one
(``--set batched=False``) to float32 rounding (tested); its cost is sum(k), not count x max(k).
All widths of a (seed, noise) share its data order (ResNets: one order per width).

Speed: on CUDA (``batched=None``) the seeds x noise levels of a width k <= ``batched_max_k`` train
as one group (:mod:`gpu_validation.batched`), and in the model-wise sweep so do several such
widths, each zero-padded to its pack's widest rounded up to a multiple of ``pack_multiple``
(:mod:`gpu_validation.packing`). On CPU they train one by one (vmap'ed ResNet groups were 0.6-0.9x as
fast there: benchmarks/results/gpu_batched.md).
MFU counts the members' true FLOPs, not the padding.

Sample-wise variant (Nakkiran et al. 2020, Sec. 7): ``sweep="sample"`` fixes the width
``width`` and sweeps the training-set size ``sample_sizes`` instead.

Evidence: ``cpu`` (committed in ``gpu_validation/evidence/deep_double_descent/``). ``small`` and
``full`` have not been run (no GPU lent).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import torch

from claimcheck.gpu_validation import batched, driver, loop, packing, results
from claimcheck.gpu_validation.evidence_table import interpolation_threshold
from claimcheck.gpu_validation.data import class_count, load_splits, train_test
from claimcheck.gpu_validation.driver import JobConfig, Plan, Unit
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, WidthSweepMLP, forward_flops
from claimcheck.gpu_validation.run import generator, seeded_init

JOB = "deep_double_descent"
CLAIM_ID = "gpu.deep_double_descent.peak"
SEED_KEYS = ("test_error", "train_error")


@dataclass(frozen=True)
class Config(JobConfig):
    n_seeds: int = 2                        # replicates (init, split, noise, order); CI over them
    ckpt_every: int = 500
    dataset: str = "digits"                 # digits | mnist | cifar10 (see gpu_validation.data)
    model: str = "resnet18k"                # resnet18k (width k: stage widths k..8k) | mlp (one hidden ReLU layer of k)
    data_dir: str | None = None             # IDX or CIFAR-10 directory; None: the packaged MNIST test set
    sweep: str = "model"                    # "model": widths; "sample": sample_sizes at fixed width
    widths: tuple[int, ...] = (1, 2, 4)     # ResNet-18 k (stage widths k, 2k, 4k, 8k) or MLP hidden units
    width: int = 8                          # k of the sample-wise sweep (ResNet k or MLP hidden units)
    sample_sizes: tuple[int, ...] = (64, 128, 256)  # training samples, sample-wise sweep
    n_train: int = 256                      # training samples (model-wise sweep)
    n_test: int = 512                       # held-out test samples
    label_noise: tuple[float, ...] = (0.0, 0.2)  # fraction of training labels made wrong
    epochs: int = 3                         # passes over the training set
    batch_size: int = 128                   # samples per Adam step (paper: 128)
    lr: float = 1e-4                        # Adam learning rate (paper: 1e-4)
    batched_max_k: int = 16                 # group only widths k <= this (a wider net fills a GPU alone)
    pack_max_waste: float = 2.0             # model sweep: pack widths <= batched_max_k into one group, each
                                            # padded to the pack's widest (gpu_validation.packing); 1: no packing
    pack_multiple: int | None = None        # round the padded width up to a multiple of this; None: 8 on CUDA, 1 else
    eval_batch: int = 1024                  # rows per member per evaluation forward


# cpu / small: one-hidden-layer MLPs on the 8x8 digits, 1,000 training points, Adam lr 1e-3 (pilots: the
# MNIST MLP sweeps showed no peak; on digits with 20% noise test error 0.118 @ k=6 -> 0.265 @ k=32 -> 0.162
# @ k=512, train error 0 from k ~ 48, over 3 seeds at 1,500 epochs). Widths dense around that threshold.
_DIGITS_MLP = dict(dataset="digits", model="mlp", n_train=1000, n_test=797, lr=1e-3, batch_size=128)
PROFILES = {
    "smoke": Config(profile="smoke"),
    "cpu": Config(profile="cpu", widths=(2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 64, 128, 256, 512), label_noise=(0.0, 0.2),
                  epochs=1000, n_seeds=3, width=64, sample_sizes=(100, 200, 400, 800), **_DIGITS_MLP),
    "small": Config(profile="small", widths=(1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96,
                                             128, 192, 256, 384, 512, 1024),
                    label_noise=(0.0, 0.1, 0.15, 0.2), epochs=4000, n_seeds=5, width=64,
                    sample_sizes=(100, 200, 300, 400, 500, 600, 800, 1000), **_DIGITS_MLP),
    "full": Config(profile="full", dataset="cifar10", widths=tuple(range(1, 65)), n_train=50000, n_test=10000,
                   label_noise=(0.0, 0.1, 0.2), epochs=4000, n_seeds=3, ckpt_every=2000,
                   sample_sizes=(5000, 10000, 20000, 30000, 40000, 50000)),
}


def validate(cfg: Config) -> None:
    if cfg.sweep not in ("model", "sample"):
        raise ValueError(f"sweep={cfg.sweep!r}, must be 'model' or 'sample'")
    if cfg.model not in ("resnet18k", "mlp"):
        raise ValueError(f"model={cfg.model!r}, must be 'resnet18k' or 'mlp'")
    for name in ("n_train", "n_test", "epochs", "batch_size", "width"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}={v!r}, must be an integer >= 1")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError(f"lr={cfg.lr!r}, must be a finite number > 0")
    if not cfg.label_noise:
        raise ValueError("label_noise=(), must name at least one noise level")
    if not cfg.pack_max_waste >= 1:
        raise ValueError(f"pack_max_waste={cfg.pack_max_waste}, must be >= 1 (1: no packing of different widths)")
    if cfg.pack_multiple is not None and (not isinstance(cfg.pack_multiple, int) or cfg.pack_multiple < 1):
        raise ValueError(f"pack_multiple={cfg.pack_multiple!r}, must be an integer >= 1 or None")
    xs = cfg.widths if cfg.sweep == "model" else cfg.sample_sizes
    if len(xs) < 3 or any(b <= a for a, b in zip(xs, xs[1:])):
        raise ValueError(f"{'widths' if cfg.sweep == 'model' else 'sample_sizes'}={xs}, must be >= 3 increasing "
                         "values (a peak needs an interior point)")
    for p in cfg.label_noise:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"label_noise={cfg.label_noise}, each must be in [0, 1]")


def _xs(cfg):
    return cfg.widths if cfg.sweep == "model" else cfg.sample_sizes


def _member(cfg, v, s, p) -> str:
    return f"{cfg.sweep}{v}-noise{p:g}-seed{s}"


def _multiple(ctx) -> int:
    m = ctx.cfg.pack_multiple
    return (8 if ctx.device.type == "cuda" else 1) if m is None else m


def _mlp_sweep(ctx) -> bool:
    """Train the whole MLP width sweep (every width, seed and noise level) as one
    :class:`gpu_validation.models.WidthSweepMLP`?"""
    cfg = ctx.cfg
    return cfg.model == "mlp" and cfg.sweep == "model" and ctx.group(conv=False)


def units(ctx) -> list[Unit]:
    """ResNets: groups (packs of widths x seeds x noise levels) for widths <= batched_max_k when
    batched, then one unit per (seed, noise, x) for the rest. MLPs: the whole model-wise sweep as
    one unit when batched, else (and in the sample-wise sweep) one unit per (seed, noise, x)."""
    cfg, seeds = ctx.cfg, list(ctx.seeds)
    xs = _xs(cfg)
    if _mlp_sweep(ctx):
        keys = tuple((v, s, p) for s in seeds for p in cfg.label_noise for v in xs)
        return [Unit(batched.group_id("mlp-sweep", seeds), tuple(_member(cfg, *k) for k in keys),
                     {"pack": list(xs), "keys": keys, "mlp_sweep": True})]
    k_of = (lambda v: v) if cfg.sweep == "model" else (lambda v: cfg.width)  # noqa: E731
    grouped = [v for v in xs if cfg.model != "mlp" and ctx.group(conv=True) and k_of(v) <= cfg.batched_max_k]
    packs = (packing.plan_packs(grouped, max_waste=cfg.pack_max_waste) if cfg.sweep == "model" and grouped
             else [[v] for v in grouped])
    out = []
    for pack in packs:
        keys = tuple((v, s, p) for v in pack for s in seeds for p in cfg.label_noise)
        out.append(Unit(batched.group_id(f"{cfg.sweep}{packing.pack_tag(pack)}", seeds),
                        tuple(_member(cfg, *k) for k in keys), {"pack": list(pack), "keys": keys}))
    for s in seeds:
        for p in cfg.label_noise:
            for v in xs:
                if v not in grouped:
                    out.append(Unit(_member(cfg, v, s, p), (_member(cfg, v, s, p),), {"pack": [v], "keys": ((v, s, p),)}))
    return out


def _build(cfg, k: int, num_classes: int, in_shape: tuple[int, ...]):
    if cfg.model == "mlp":
        return lambda: MLP(int(np.prod(in_shape)), (k,), num_classes)
    return lambda: PreActResNet18k(k, num_classes, in_shape[0])


def _order_key(cfg, s: int, p: float, v: int) -> tuple:
    """The data order of member (v, s, p): MLP width sweeps share one order per (seed, noise), so a
    member trains the same alone as inside a :class:`WidthSweepMLP`; ResNets one per width."""
    return (s, "order", p) if cfg.model == "mlp" and cfg.sweep == "model" else (s, "order", p, v)


def _member_data(ctx, splits, s: int, p: float, n_max: int, n: int, num_classes: int):
    """Split of seed s (nested: the first n of n_max training rows), then the noise of (s, p) on those n."""
    cfg, device = ctx.cfg, ctx.device
    x_tr, y_clean, x_te, y_te = train_test(splits, n_max, cfg.n_test, generator(s, "split"))
    x_tr, y_clean = x_tr[:n], y_clean[:n]
    if device.type == "meta":
        y_tr = y_clean
    else:
        y_tr = loop.label_noise(y_clean.cpu(), p, num_classes, generator(s, "noise", p)).to(device)
    return x_tr, y_tr, x_te, y_te


def _plan_mlp_sweep(ctx, unit: Unit) -> Plan:
    """The whole MLP width sweep as one :class:`WidthSweepMLP`: replicate g = one (seed, noise) with
    its own split, noisy labels and data order; member (g, m) = width m, initialised exactly as the
    standalone MLP of that (seed, width) (the same init at every noise level: paired)."""
    cfg, device = ctx.cfg, ctx.device
    splits = ctx.once("splits", lambda: load_splits(cfg.dataset, cfg.data_dir, device))
    num_classes = class_count(splits) if device.type != "meta" else 10
    shape = tuple(next(iter(splits.values()))[0].shape[1:])
    widths, keys = tuple(unit.spec["pack"]), unit.spec["keys"]
    reps = list(dict.fromkeys((s, p) for _, s, p in keys))        # (seed, noise) in unit order
    data = [_member_data(ctx, splits, s, p, cfg.n_train, cfg.n_train, num_classes) for s, p in reps]
    if ctx.init_device == "meta":
        model = seeded_init(lambda: WidthSweepMLP(int(np.prod(shape)), widths, num_classes, len(reps)), device="meta")
    else:
        model = WidthSweepMLP.from_members([[seeded_init(_build(cfg, k, num_classes, shape), s, "init", k)
                                             for k in widths] for s, _ in reps])
    fns = [loop.epoch_batches(d[0], d[1], cfg.batch_size, *_order_key(cfg, s, p, 0))[0] for (s, p), d in zip(reps, data)]
    per_epoch = math.ceil(cfg.n_train / cfg.batch_size)
    amp, G, M = ctx.amp, len(reps), len(widths)

    @torch.no_grad()
    def errors(model, xs, ys) -> np.ndarray:   # (G, M, 3): error, soft error, loss
        n, eb = xs[0].shape[0], cfg.eval_batch
        total = torch.zeros(G, M, 3, device=ys[0].device)
        for i in range(0, n, eb):
            yb = torch.stack([y[i:i + eb] for y in ys])                          # (G, b)
            with amp():
                logits = model(torch.cat([x[i:i + eb] for x in xs]))              # (G, M, b, C)
            total += loop._sums(logits, yb[:, None, :].expand(G, M, yb.shape[1]))
        return (total / n).cpu().numpy()

    def finish(model, history) -> dict:
        test = errors(model, [d[2] for d in data], [d[3] for d in data])
        train = errors(model, [d[0] for d in data], [d[1] for d in data])
        out = {}
        for g, (s, p) in enumerate(reps):
            for m, k in enumerate(widths):
                out[_member(cfg, k, s, p)] = {"test_error": float(test[g, m, 0]), "test_soft_error": float(test[g, m, 1]),
                                              "train_error": float(train[g, m, 0]), "k": k, "n": cfg.n_train,
                                              "noise": p, "seed": s}
        return out

    flops = 0.0 if device.type == "meta" else 3.0 * model.flops_per_row()
    return Plan(model=model, make_optimizer=lambda params: ctx.optimizer("adam", params, lr=cfg.lr),
                steps=per_epoch * cfg.epochs, batch_fn=batched.stack_batches(fns), loss_fn=WidthSweepMLP.loss,
                flops_per_sample=flops, finish=finish, conv=False, group=True)


def plan(ctx, unit: Unit) -> Plan:
    """The unit's members: split, noisy labels, initialised ResNet (packed if a pack) or MLP, data order."""
    if unit.spec.get("mlp_sweep"):
        return _plan_mlp_sweep(ctx, unit)
    cfg, device = ctx.cfg, ctx.device
    splits = ctx.once("splits", lambda: load_splits(cfg.dataset, cfg.data_dir, device))   # {split: ((N,C,H,W), (N,))}
    num_classes = class_count(splits) if device.type != "meta" else 10
    in_ch = next(iter(splits.values()))[0].shape[1]
    in_shape = tuple(next(iter(splits.values()))[0].shape[1:])
    n_max = cfg.n_train if cfg.sweep == "model" else max(cfg.sample_sizes)
    keys, pack = unit.spec["keys"], unit.spec["pack"]
    group = len(keys) > 1
    members, flops = [], []
    for v, s, p in keys:
        k, n = (v, cfg.n_train) if cfg.sweep == "model" else (cfg.width, v)
        x_tr, y_tr, x_te, y_te = _member_data(ctx, splits, s, p, n_max, n, num_classes)
        model = seeded_init(_build(cfg, k, num_classes, in_shape), s, "init", k, device=ctx.init_device)
        if cfg.model != "mlp" and ctx.channels_last and not group and device.type == "cuda":
            x_tr, x_te = (t.contiguous(memory_format=torch.channels_last) for t in (x_tr, x_te))
        batch, per_epoch = loop.epoch_batches(x_tr, y_tr, cfg.batch_size, *_order_key(cfg, s, p, v))
        flops.append(0.0 if device.type == "meta" else 3.0 * forward_flops(model, tuple(x_tr.shape[1:])))
        members.append({"model": model, "batch": batch, "steps": per_epoch * cfg.epochs, "k": k, "n": n,
                        "x_tr": x_tr, "y_tr": y_tr, "x_te": x_te, "y_te": y_te, "key": (v, s, p)})
    K = packing.pack_width(pack, _multiple(ctx)) if cfg.sweep == "model" else cfg.width
    padded = group and (len(pack) > 1 or K != max(pack))
    if padded and device.type == "meta":   # shape checks: the padded networks themselves (embed copies values)
        models = [seeded_init(lambda: PreActResNet18k(K, num_classes, in_ch), device="meta") for _ in members]
    elif padded:
        big = seeded_init(lambda: PreActResNet18k(K, num_classes, in_ch), 0, "pack-template")
        models = [packing.embed(u["model"], big) for u in members]
    else:
        models = [u["model"] for u in members]
    amp = ctx.amp

    def finish(model, history) -> dict:
        if group:
            if padded and device.type != "meta":   # the padding must still be exactly zero
                for i, u in enumerate(members):
                    packing.extract(model.member(i), u["model"])
            test = loop.evaluate_group(model, [u["x_te"] for u in members], [u["y_te"] for u in members],
                                       cfg.eval_batch, amp=amp)
            train = loop.evaluate_group(model, [u["x_tr"] for u in members], [u["y_tr"] for u in members],
                                        cfg.eval_batch, amp=amp)
        else:
            u = members[0]
            test = [loop.evaluate(model, u["x_te"], u["y_te"], cfg.eval_batch, amp=amp)]
            train = [loop.evaluate(model, u["x_tr"], u["y_tr"], cfg.eval_batch, amp=amp)]
        out = {}
        for u, a, b in zip(members, test, train):
            v, s, p = u["key"]
            out[_member(cfg, v, s, p)] = {"test_error": a["error"], "test_soft_error": a["soft_error"],
                                          "train_error": b["error"], "k": u["k"], "n": u["n"], "noise": p, "seed": s}
        return out

    return Plan(model=batched.BatchedModels(models) if group else models[0],
                make_optimizer=lambda params: ctx.optimizer("adam", params, lr=cfg.lr), steps=members[0]["steps"],
                batch_fn=batched.stack_batches([u["batch"] for u in members]) if group else members[0]["batch"],
                loss_fn=batched.member_loss(len(members)) if group else torch.nn.functional.cross_entropy,
                flops_per_sample=float(np.mean(flops)), finish=finish, conv=cfg.model != "mlp", group=group)


def train_unit(ctx, unit: Unit) -> dict:
    return driver.train_plan(ctx, unit, plan(ctx, unit))


# --------------------------------------------------------------------------- statistic, decision

def measurements(ctx, members: dict) -> dict:
    cfg, seeds, xs = ctx.cfg, list(ctx.seeds), list(_xs(ctx.cfg))

    def grid(key):   # (seeds, noise levels, sweep points)
        return np.array([[[members[_member(cfg, v, s, p)][key] for v in xs] for p in cfg.label_noise] for s in seeds])

    err = grid("test_error")
    return {"x": xs, "x_name": "k" if cfg.sweep == "model" else "n", "label_noise": list(cfg.label_noise),
            "seeds": seeds, "test_error": err.tolist(), "train_error": grid("train_error").tolist(),
            "mean_test_error": err.mean(axis=0).tolist()}


def _tick_labels(xs, min_gap: float = 0.5) -> list[str]:
    """Tick labels on a log2 axis: a value is written only if it lies >= ``min_gap`` octaves from the
    last written one (dense sweeps would overprint), the largest always.

    >>> _tick_labels([2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 64])
    ['2', '4', '6', '', '12', '', '24', '', '40', '', '64']
    """
    out, last = [], None
    for i, v in enumerate(xs):
        keep = last is None or math.log2(v / last) >= min_gap - 1e-9
        if i == len(xs) - 1 and not keep and out:   # the largest value wins over its neighbour
            out[-1 - next(j for j, t in enumerate(reversed(out)) if t)] = ""
            keep = True
        out.append(str(v) if keep else "")
        last = v if keep else last
    return out


def figure(result: dict, out_dir) -> list[str]:
    """Test error vs the sweep variable, one line per noise level, seed range as a band, and a
    dotted line at each noise level's interpolation threshold (mean train error <= 1%)."""
    m = result["measurements"]
    err = np.array(m["test_error"])     # (seeds, noise, x)
    train = np.array(m["train_error"])  # (seeds, noise, x)

    def draw(ax):
        labelled = False
        for i, p in enumerate(m["label_noise"]):
            (line,) = ax.plot(m["x"], err[:, i].mean(0), marker="o", ms=3, label=f"label noise {p:.0%}")
            ax.fill_between(m["x"], err[:, i].min(0), err[:, i].max(0), alpha=0.25, lw=0)
            thr = interpolation_threshold(m["x"], train[:, i].tolist())
            if thr is not None:   # where the mean train error first reaches <= 1%
                ax.axvline(thr, color=line.get_color(), ls=":", lw=0.8,
                           label=None if labelled else "interpolation threshold (train error <= 1%)")
                labelled = True
        ax.set_xscale("log", base=2)
        ax.set_xticks(m["x"], _tick_labels(m["x"]))
        ax.minorticks_off()
        model = (result.get("config") or {}).get("model", "resnet18k")
        width = "MLP hidden width k" if model == "mlp" else "ResNet-18 width k"
        ax.set_xlabel(width if m["x_name"] == "k" else "training samples n")
        ax.set_ylabel("test error")
        ax.legend(frameon=False)

    return results.save_figure(draw, out_dir, "deep_double_descent")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, **kw) -> dict:
    """Run this job (:func:`gpu_validation.driver.run`)."""
    return driver.run(sys.modules[__name__], profile, seed, device, out_dir, resume, **kw)
