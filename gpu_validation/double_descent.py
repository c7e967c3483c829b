"""Deep double descent: ResNet-18k width sweep (or sample-size sweep) under label noise.

Claim (Nakkiran, Kaplun, Bansal, Yang, Barak & Sutskever 2020, "Deep Double Descent: Where
Bigger Models and More Data Hurt", Fig. 1/4, Sec. 4): test error vs ResNet-18 width k has an
interpolation peak when the training labels are noisy, and the peak is attenuated (or gone)
without label noise. Setting: pre-activation ResNet-18k (stage widths k, 2k, 4k, 8k;
:class:`gpu_validation.models.PreActResNet18k`), Adam lr 1e-4, batch 128, label noise = a
uniformly random *wrong* label for a fixed fraction of training points, drawn once.

Statistic. For a test-error curve e(x_1..x_m) (x = width, or n in the sample-wise variant)
the *peak prominence* is ``max_{1<i<m} min(e_i - min_{j<i} e_j, e_i - min_{j>i} e_j)``: how
far the highest interior bump rises above both the best smaller and the best larger model;
it is <= 0 for a monotone curve. It is computed on the seed-averaged curve; the claim
statistic is ``min(P_noisy, P_noisy - P_clean)`` (P_noisy at the largest noise level,
P_clean at noise 0) with a percentile-bootstrap CI over seeds: passed if the CI lies above 0.

Profiles (expected times are estimates: no GPU was available when this was written)::

    claimcheck gpu deep_double_descent --profile smoke   # CPU, ~2 s: 8x8 digits, k in {1,2,4}
    claimcheck gpu deep_double_descent --profile small   # one GPU, ~10 min (estimate): MNIST test set
    claimcheck gpu deep_double_descent --profile full --data-dir cifar-10-batches-py  # cluster

The smoke profile only checks that the pipeline runs end to end and yields a well-formed
verdict: 6 Adam steps on 256 digits cannot show the peak, and with 2 seeds the verdict is
always "underpowered". ``small`` trains each width to (near) interpolation on
4,000 MNIST digits; the peak there is expected but unmeasured. ``full`` is the paper's
CIFAR-10 setting (k = 1..64, 4K epochs; data augmentation omitted).

Speed: the seeds x noise levels of a width k <= ``batched_max_k`` train as one group
(:mod:`gpu_validation.batched`), and in the model-wise sweep so do several such widths,
each zero-padded to its pack's widest (:mod:`gpu_validation.packing`, ``pack_max_waste``).

Sample-wise variant (Nakkiran et al. 2020, Sec. 7): ``sweep="sample"`` fixes the width
``width`` and sweeps the training-set size ``sample_sizes`` instead.

Evidence: smoke only (CPU, torch 2.13, 2 seeds: "underpowered" by design). ``small`` and
``full`` have not been run: no GPU was available when this suite was built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from claimcheck.gpu_validation import batched, common, packing
from claimcheck.gpu_validation.common import Run
from claimcheck.gpu_validation.data import class_count, load_splits, train_test
from claimcheck.gpu_validation.models import PreActResNet18k

JOB = "deep_double_descent"
CLAIM_ID = "gpu.deep_double_descent.peak"


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    dataset: str = "digits"                 # digits | mnist | cifar10 (see gpu_validation.data)
    data_dir: str | None = None             # IDX or CIFAR-10 directory; None: the project's copy
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
    n_seeds: int = 2                        # replicates (init, split, noise, order); CI over them
    ckpt_every: int = 500                   # optimizer steps between checkpoints
    compile: bool = False                   # torch.compile (CUDA only; sequential units only)
    batched: bool = True                    # train the seeds x noise levels of a sweep point as one group
    batched_max_k: int = 16                 # ... for ResNet widths k <= this (a wider net fills a GPU alone)
    pack_max_waste: float = 2.0             # model sweep: pack widths <= batched_max_k into one group, each
                                            # padded to the pack's widest (gpu_validation.packing); 1: no packing
    stop_after_steps: int | None = None     # interrupt after this many steps (tests of resume)


PROFILES = {
    "smoke": Config(profile="smoke"),
    "small": Config(profile="small", dataset="mnist", widths=(1, 2, 4, 6, 8, 12, 16, 32, 64), n_train=4000,
                    n_test=6000, label_noise=(0.0, 0.2), epochs=100, n_seeds=3, sample_sizes=(500, 1000, 2000, 4000)),
    "full": Config(profile="full", dataset="cifar10", widths=tuple(range(1, 65)), n_train=50000, n_test=10000,
                   label_noise=(0.0, 0.1, 0.2), epochs=4000, n_seeds=3, ckpt_every=2000,
                   sample_sizes=(5000, 10000, 20000, 30000, 40000, 50000)),
}


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


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    cfg, name = common.resolve_config(PROFILES, profile, overrides)
    if cfg.sweep not in ("model", "sample"):
        raise ValueError(f"sweep={cfg.sweep!r}, must be 'model' or 'sample'")
    if not cfg.pack_max_waste >= 1:
        raise ValueError(f"pack_max_waste={cfg.pack_max_waste}, must be >= 1 (1: no packing of different widths)")
    device = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=device, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    splits = load_splits(cfg.dataset, cfg.data_dir, device)             # {split: ((N, C, H, W), (N,))}
    num_classes = class_count(splits)
    in_ch = next(iter(splits.values()))[0].shape[1]
    xs = cfg.widths if cfg.sweep == "model" else cfg.sample_sizes
    n_max = cfg.n_train if cfg.sweep == "model" else max(cfg.sample_sizes)

    def setup(rep_seed: int, noise: float, xval: int) -> dict:
        """One unit's split, noisy labels, initialised model and data order."""
        x_tr, y_clean, x_te, y_te = train_test(splits, n_max, cfg.n_test, common.generator(rep_seed, "split"))
        k, n = (xval, cfg.n_train) if cfg.sweep == "model" else (cfg.width, xval)
        x_tr, y_clean = x_tr[:n], y_clean[:n]
        y_tr = common.label_noise(y_clean.cpu(), noise, num_classes, common.generator(rep_seed, "noise", noise)).to(device)
        model = common.seeded_init(lambda: PreActResNet18k(k, num_classes, in_ch), rep_seed, "init", k)
        flops = common.train_flops_per_sample(model, tuple(x_tr.shape[1:]))
        if device.type == "cuda":
            x_tr, x_te = x_tr.contiguous(memory_format=torch.channels_last), x_te.contiguous(memory_format=torch.channels_last)
        batch, per_epoch = common.epoch_batches(x_tr, y_tr, cfg.batch_size, rep_seed, "order", noise, xval)

        def measure(model) -> dict:
            test = common.evaluate(model, x_te, y_te, device)
            train = common.evaluate(model, x_tr, y_tr, device)
            return {"test_error": test["error"], "test_soft_error": test["soft_error"], "train_error": train["error"],
                    "k": k, "n": n, "noise": noise, "seed": rep_seed}

        return {"model": model, "flops": flops, "batch": batch, "steps": per_epoch * cfg.epochs, "measure": measure, "k": k}

    def train_unit(rep_seed: int, noise: float, xval: int) -> dict:
        u = setup(rep_seed, noise, xval)
        model = common.prepare_model(u["model"], device, conv=True, compile=cfg.compile)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        unit = f"{cfg.sweep}{xval}-noise{noise:g}-seed{rep_seed}"
        rn.train(model, opt, unit=unit, steps=u["steps"], batch_fn=u["batch"], flops_per_sample=u["flops"],
                 ckpt_every=cfg.ckpt_every)
        return u["measure"](model)

    def train_pack(pack: list[int]) -> dict:
        """All seeds x noise levels x sweep points of a pack as one group (gpu_validation.batched).

        A model-wise pack of several widths is trained padded to its widest width
        (gpu_validation.packing); the group's FLOPs (and MFU) count the padded arithmetic.
        """
        keys = [(v, s, p) for v in pack for s in seeds for p in cfg.label_noise]
        us = [setup(s, p, v) for v, s, p in keys]
        widest = us[[v for v, _, _ in keys].index(max(pack))]
        models = [u["model"] for u in us]
        if len(pack) > 1:
            models = [packing.embed(m, widest["model"]) for m in models]
        members, _ = batched.train_group(
            rn, models, lambda params: torch.optim.Adam(params, lr=cfg.lr),
            unit=batched.group_id(f"{cfg.sweep}{packing.pack_tag(pack)}", seeds), steps=us[0]["steps"],
            batch_fns=[u["batch"] for u in us], device=device, flops_per_sample=widest["flops"],
            ckpt_every=cfg.ckpt_every)
        if len(pack) > 1:
            members = [packing.extract(m, u["model"]) for m, u in zip(members, us)]
        return {"members": {f"{cfg.sweep}{v}-noise{p:g}-seed{s}": u["measure"](m) for (v, s, p), u, m in zip(keys, us, members)}}

    seeds = [seed + r for r in range(cfg.n_seeds)]
    units = {}
    k_of = (lambda v: v) if cfg.sweep == "model" else (lambda v: cfg.width)  # noqa: E731
    grouped = [v for v in xs if cfg.batched and k_of(v) <= cfg.batched_max_k]
    packs = (packing.plan_packs(grouped, max_waste=cfg.pack_max_waste) if cfg.sweep == "model" and grouped
             else [[v] for v in grouped])
    for pack in packs:
        done = batched.unpack(rn.unit(batched.group_id(f"{cfg.sweep}{packing.pack_tag(pack)}", seeds),
                                      lambda: train_pack(pack)))
        for xval in pack if done else ():
            for rep_seed in seeds:
                for noise in cfg.label_noise:
                    units[(rep_seed, noise, xval)] = done[f"{cfg.sweep}{xval}-noise{noise:g}-seed{rep_seed}"]
    for rep_seed in seeds:
        for noise in cfg.label_noise:
            for xval in xs:
                if xval in grouped:
                    continue
                uid = f"{cfg.sweep}{xval}-noise{noise:g}-seed{rep_seed}"
                units[(rep_seed, noise, xval)] = rn.unit(uid, lambda: train_unit(rep_seed, noise, xval))
    if rn.partial:
        return rn.finish(None, {})
    # test error curves: (seeds, noise levels, sweep points)
    err = np.array([[[units[(s, p, v)]["test_error"] for v in xs] for p in cfg.label_noise] for s in seeds])
    train_err = np.array([[[units[(s, p, v)]["train_error"] for v in xs] for p in cfg.label_noise] for s in seeds])
    noisy = int(np.argmax(cfg.label_noise))
    clean = cfg.label_noise.index(0.0) if 0.0 in cfg.label_noise and len(cfg.label_noise) > 1 else None

    def stat(e):  # e: (seeds, noise, sweep) -> min(P_noisy, P_noisy - P_clean)
        m = e.mean(axis=0)
        p_noisy = prominence(m[noisy])
        return p_noisy if clean is None else min(p_noisy, p_noisy - prominence(m[clean]))

    b = common.bootstrap(err, stat, seed=seed)
    per_noise = {f"{p:g}": common.bootstrap(err[:, i], lambda e: prominence(e.mean(axis=0)), seed=seed)
                 for i, p in enumerate(cfg.label_noise)}
    mean_curve = err.mean(axis=0)
    peak_at = {}
    for i, p in enumerate(cfg.label_noise):   # peak location with a bootstrap CI over seeds, next to
        loc = common.bootstrap(err[:, i], lambda e: float(peak_index(e.mean(axis=0))), seed=seed)  # the threshold
        peak_at[f"{p:g}"] = {"x": xs[peak_index(mean_curve[i])], "ci_low": xs[int(math.floor(loc["ci_low"]))],
                             "ci_high": xs[int(math.ceil(loc["ci_high"]))],
                             "interpolation_threshold": interpolation_threshold(xs, train_err[:, i])}
    verdict = common.sign_verdict(
        CLAIM_ID, b, statistic="min(peak prominence with noise, its excess over no noise)", seed=seed,
        params={"dataset": cfg.dataset, "sweep": cfg.sweep, "x": list(xs), "label_noise": list(cfg.label_noise),
                "epochs": cfg.epochs, "n_train": cfg.n_train},
        profile=name, extra={"prominence_by_noise": per_noise, "peak_at": peak_at},
    )
    measurements = {"x": list(xs), "x_name": "k" if cfg.sweep == "model" else "n", "label_noise": list(cfg.label_noise),
                    "seeds": seeds, "test_error": err.tolist(), "train_error": train_err.tolist(),
                    "mean_test_error": mean_curve.tolist()}
    return rn.finish(verdict, measurements, figure=figure if figures else None)


def figure(result: dict, out_dir) -> list[str]:
    """Test error vs the sweep variable, one line per noise level, seed range as a band, and a
    dotted line at each noise level's interpolation threshold (mean train error <= 1%)."""
    m = result["measurements"]
    err = np.array(m["test_error"])  # (seeds, noise, x)

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

    return common.save_figure(draw, out_dir, "deep_double_descent")
