"""Deep double descent: ResNet-18k width sweep (or sample-size sweep) under label noise.

Claim (Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever 2020, "Deep Double Descent: Where
Bigger Models and More Data Hurt", Fig. 1/4, Sec. 4): test error vs ResNet-18 width k has an
interpolation peak when the training labels are noisy, and the peak is attenuated (or gone)
without label noise. Setting: pre-activation ResNet-18k (stage widths k, 2k, 4k, 8k;
:class:`gpu_validation.models.PreActResNet18k`, as the reference ``resnet18k``), Adam lr 1e-4,
batch 128, label noise = a uniformly random *wrong* label for a fixed fraction of training
points, drawn once.

Statistic (:func:`statistic`). For a test-error curve e(x_1..x_m) (x = width, or n in the
sample-wise variant) the *peak prominence* is ``max_{1<i<m} min(e_i - min_{j<i} e_j, e_i -
min_{j>i} e_j)``: how far the highest interior bump rises above both the best smaller and the best
larger model; it is <= 0 for a monotone curve. On the seed-averaged curves the statistic is
``min(P_noisy, P_noisy - P_clean)`` (P_noisy at the largest noise level, P_clean at noise 0).
Decision (:func:`verdict`, to be replaced by the check engine): passed if its percentile-bootstrap
CI over seeds lies above 0.

Profiles (``small`` / ``full`` times are estimates: no GPU has run them)::

    claimcheck gpu deep_double_descent --profile smoke   # CPU, ~2 s: 8x8 digits, k in {1,2,4}
    claimcheck gpu deep_double_descent --profile small   # one GPU: MNIST test set, 4k training digits
    claimcheck gpu deep_double_descent --profile full --data-dir cifar-10-batches-py  # cluster

The smoke profile only checks the pipeline: 6 Adam steps on 256 digits cannot show the peak, and
with 2 seeds the verdict is always "underpowered". Deviations from the paper, kept: no data
augmentation in ``full`` (the paper's CIFAR-10 runs use random crops and flips); ``small`` uses
MNIST (1 channel, 28x28) instead of CIFAR-10.

Speed: on CUDA (``batched=None``) the seeds x noise levels of a width k <= ``batched_max_k`` train
as one group (:mod:`gpu_validation.batched`), and in the model-wise sweep so do several such
widths, each zero-padded to its pack's widest rounded up to a multiple of ``pack_multiple``
(:mod:`gpu_validation.packing`). On CPU they train one by one (vmap'ed ResNet groups were 0.6-0.9x as
fast there: benchmarks/results/gpu_batched.md).
MFU counts the members' true FLOPs, not the padding.

Sample-wise variant (Nakkiran et al. 2020, Sec. 7): ``sweep="sample"`` fixes the width
``width`` and sweeps the training-set size ``sample_sizes`` instead.

Evidence: smoke only (CPU: 2 seeds, "underpowered" by design). ``small`` and ``full`` have not
been run.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import torch

from claimcheck.gpu_validation import batched, driver, loop, packing, results
from claimcheck.gpu_validation.data import class_count, load_splits, train_test
from claimcheck.gpu_validation.driver import JobConfig, Plan, Unit
from claimcheck.gpu_validation.models import PreActResNet18k, forward_flops
from claimcheck.gpu_validation.run import generator, seeded_init

JOB = "deep_double_descent"
CLAIM_ID = "gpu.deep_double_descent.peak"
SEED_KEYS = ("test_error", "train_error")


@dataclass(frozen=True)
class Config(JobConfig):
    n_seeds: int = 2                        # replicates (init, split, noise, order); CI over them
    ckpt_every: int = 500
    dataset: str = "digits"                 # digits | mnist | cifar10 (see gpu_validation.data)
    data_dir: str | None = None             # IDX or CIFAR-10 directory; None: the packaged MNIST test set
    sweep: str = "model"                    # "model": widths; "sample": sample_sizes at fixed width
    widths: tuple[int, ...] = (1, 2, 4)     # ResNet-18 k (stage widths k, 2k, 4k, 8k)
    width: int = 8                          # k of the sample-wise sweep
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


PROFILES = {
    "smoke": Config(profile="smoke"),
    "small": Config(profile="small", dataset="mnist", widths=(1, 2, 4, 6, 8, 12, 16, 32, 64), n_train=4000,
                    n_test=6000, label_noise=(0.0, 0.2), epochs=100, n_seeds=3, sample_sizes=(500, 1000, 2000, 4000)),
    "full": Config(profile="full", dataset="cifar10", widths=tuple(range(1, 65)), n_train=50000, n_test=10000,
                   label_noise=(0.0, 0.1, 0.2), epochs=4000, n_seeds=3, ckpt_every=2000,
                   sample_sizes=(5000, 10000, 20000, 30000, 40000, 50000)),
}


def validate(cfg: Config) -> None:
    if cfg.sweep not in ("model", "sample"):
        raise ValueError(f"sweep={cfg.sweep!r}, must be 'model' or 'sample'")
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


def units(ctx) -> list[Unit]:
    """Groups (packs of widths x seeds x noise levels) for widths <= batched_max_k when batched,
    then one unit per (seed, noise, x) for the rest."""
    cfg, seeds = ctx.cfg, list(ctx.seeds)
    xs = _xs(cfg)
    k_of = (lambda v: v) if cfg.sweep == "model" else (lambda v: cfg.width)  # noqa: E731
    grouped = [v for v in xs if ctx.group(conv=True) and k_of(v) <= cfg.batched_max_k]
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


def plan(ctx, unit: Unit) -> Plan:
    """The unit's members: split, noisy labels, initialised ResNet (packed if a pack), data order."""
    cfg, device = ctx.cfg, ctx.device
    splits = ctx.once("splits", lambda: load_splits(cfg.dataset, cfg.data_dir, device))   # {split: ((N,C,H,W), (N,))}
    num_classes = class_count(splits) if device.type != "meta" else 10
    in_ch = next(iter(splits.values()))[0].shape[1]
    n_max = cfg.n_train if cfg.sweep == "model" else max(cfg.sample_sizes)
    keys, pack = unit.spec["keys"], unit.spec["pack"]
    group = len(keys) > 1
    members, flops = [], []
    for v, s, p in keys:
        x_tr, y_clean, x_te, y_te = train_test(splits, n_max, cfg.n_test, generator(s, "split"))
        k, n = (v, cfg.n_train) if cfg.sweep == "model" else (cfg.width, v)
        x_tr, y_clean = x_tr[:n], y_clean[:n]
        if device.type == "meta":
            y_tr = y_clean
        else:
            y_tr = loop.label_noise(y_clean.cpu(), p, num_classes, generator(s, "noise", p)).to(device)
        model = seeded_init(lambda: PreActResNet18k(k, num_classes, in_ch), s, "init", k, device=ctx.init_device)
        if ctx.channels_last and not group and device.type == "cuda":
            x_tr, x_te = (t.contiguous(memory_format=torch.channels_last) for t in (x_tr, x_te))
        batch, per_epoch = loop.epoch_batches(x_tr, y_tr, cfg.batch_size, s, "order", p, v)
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
                flops_per_sample=float(np.mean(flops)), finish=finish, conv=True, group=group)


def train_unit(ctx, unit: Unit) -> dict:
    return driver.train_plan(ctx, unit, plan(ctx, unit))


# --------------------------------------------------------------------------- statistic, decision

def _bumps(curve: np.ndarray) -> np.ndarray:
    """Interior bump heights min(e_i - min_{j<i} e_j, e_i - min_{j>i} e_j), i = 1..m-2."""
    e = np.asarray(curve, dtype=float)
    if e.size < 3:
        raise ValueError(f"curve has {e.size} points, must have >= 3 to have an interior peak")
    return np.array([min(e[i] - e[:i].min(), e[i] - e[i + 1:].min()) for i in range(1, e.size - 1)])


def peak_index(curve: np.ndarray) -> int:
    """Index of the highest interior bump of ``curve`` (the peak that :func:`prominence` measures).

    >>> peak_index(np.array([0.5, 0.4, 0.6, 0.3]))
    2
    """
    return 1 + int(np.argmax(_bumps(curve)))


def interpolation_threshold(xs, train_error: np.ndarray, tol: float = 0.01):
    """Smallest sweep value whose seed-mean training error is <= ``tol`` (None if none):
    Nakkiran et al.'s interpolation threshold, where the test-error peak is expected.

    >>> interpolation_threshold([1, 2, 4], np.array([[0.3, 0.005, 0.0]]))
    2
    """
    m = np.asarray(train_error, dtype=float).mean(axis=0)
    hits = np.flatnonzero(m <= tol)
    return None if hits.size == 0 else xs[int(hits[0])]


def prominence(curve: np.ndarray) -> float:
    """Height of the highest interior bump above the best earlier and the best later point.

    >>> prominence(np.array([0.5, 0.4, 0.6, 0.3]))
    0.19999999999999996
    >>> prominence(np.array([0.5, 0.4, 0.3])) <= 0
    True
    """
    return float(_bumps(curve).max())


def measurements(ctx, members: dict) -> dict:
    cfg, seeds, xs = ctx.cfg, list(ctx.seeds), list(_xs(ctx.cfg))

    def grid(key):   # (seeds, noise levels, sweep points)
        return np.array([[[members[_member(cfg, v, s, p)][key] for v in xs] for p in cfg.label_noise] for s in seeds])

    err = grid("test_error")
    return {"x": xs, "x_name": "k" if cfg.sweep == "model" else "n", "label_noise": list(cfg.label_noise),
            "seeds": seeds, "test_error": err.tolist(), "train_error": grid("train_error").tolist(),
            "mean_test_error": err.mean(axis=0).tolist()}



def statistic(cfg: Config, m: dict) -> dict:
    """The measurement the verdict decides on: :func:`gpu_validation.rules.statistic` (per-seed values,
    preconditions, missing keys; see the rule table there).

    >>> sorted(statistic(Config(), {}))
    ['claim', 'info', 'missing', 'notes', 'requires', 'thresholds']
    """
    import dataclasses

    from claimcheck.gpu_validation import rules

    return rules.statistic(JOB, dataclasses.asdict(cfg), m)


def verdict(cfg: Config, m: dict, *, seed: int, profile: str):
    """The decision: :func:`gpu_validation.rules.decide` (Student t over seeds; preconditions -> underpowered)."""
    import dataclasses

    from claimcheck.gpu_validation import rules

    return rules.decide(JOB, dataclasses.asdict(cfg), m, seed=seed, profile=profile)


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
            thr = interpolation_threshold(m["x"], train[:, i])
            if thr is not None:   # where the mean train error first reaches <= 1%
                ax.axvline(thr, color=line.get_color(), ls=":", lw=0.8,
                           label=None if labelled else "interpolation threshold (train error <= 1%)")
                labelled = True
        ax.set_xscale("log", base=2)
        ax.set_xticks(m["x"], [str(v) for v in m["x"]])
        ax.minorticks_off()
        ax.set_xlabel("ResNet-18 width k" if m["x_name"] == "k" else "training samples n")
        ax.set_ylabel("test error")
        ax.legend(frameon=False)

    return results.save_figure(draw, out_dir, "deep_double_descent")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, **kw) -> dict:
    """Run this job (:func:`gpu_validation.driver.run`)."""
    return driver.run(sys.modules[__name__], profile, seed, device, out_dir, resume, **kw)
