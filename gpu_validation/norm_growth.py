"""Norm-based complexity grows with the training set while test error falls (MNIST, trained to margin).

Claim (Nagarajan & Kolter 2019, "Uniform convergence may be unable to explain generalization
in deep learning", NeurIPS, Sec. 2 / Fig. 1; seed 004): train a 5-layer ReLU network of width
500 on n MNIST points with SGD (lr 0.1, batch 64, no momentum or weight decay) until at most
0.1% of the training points have a logit margin f_y(x) - max_{j != y} f_j(x) below 10
(DESIGN.md, "the MNIST experiment"). As n grows the test error *decreases*, but the
distance from initialisation ||W - W_0||_F *increases* -- so a generalization bound that
scales with it grows with n, in the wrong direction. This is the deep-network counterpart of
the linear claim ``uniform_convergence.weight_norm`` (E||w - w_0||^2 grows with n).

Statistic: per seed, the least-squares slopes of log ||W - W_0||_F and of log(test error)
on log n (the weight matrices of all layers, biases excluded); the claim statistic is
``min(mean slope of the distance, -mean slope of the test error)`` with a percentile-bootstrap
CI over seeds: passed if the CI lies above 0. The product of the layers' spectral norms is
reported too. If a network misses the margin rule within ``max_steps`` the verdict is
"underpowered" (precondition not met).

    claimcheck gpu norm_growth --profile smoke   # CPU, ~2 s: digits, width 64, margin 2 on 99%
    claimcheck gpu norm_growth --profile small   # one GPU, minutes (estimate): MNIST test set, width 500, margin 10
    claimcheck gpu norm_growth --profile full --data-dir MNIST_DIR   # full MNIST, n up to 60k

Evidence: smoke only (CPU, torch 2.13). ``small`` and ``full`` have not been run: no GPU was
available when this job was written.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from claimcheck.gpu_validation import common
from claimcheck.gpu_validation.common import Run
from claimcheck.gpu_validation.data import class_count, load_splits, train_test
from claimcheck.gpu_validation.models import MLP

JOB = "norm_growth"
CLAIM_ID = "gpu.norm_growth.wrong_direction"


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    dataset: str = "digits"                # digits | mnist (see gpu_validation.data)
    data_dir: str | None = None
    ns: tuple[int, ...] = (100, 200, 400)  # training-set sizes
    n_test: int = 600                      # held-out test samples (shared by every n of a seed)
    width: int = 64                        # hidden width (paper: 500)
    depth: int = 5                         # linear layers (paper: 5)
    lr: float = 0.2                        # SGD step size (paper: 0.1; 0.2 reaches the smoke margin in ~60 epochs)
    batch_size: int = 64                   # (paper: 64)
    margin: float = 2.0                    # logit margin to reach (paper: 10)
    miss_fraction: float = 0.01            # stop when at most this fraction of S misses the margin (paper: 0.1%)
    max_steps: int = 3000                  # guard: stop after this many SGD steps (the verdict is then "underpowered")
    n_seeds: int = 3
    ckpt_every: int = 2000                 # steps between checkpoints
    compile: bool = False                  # torch.compile (CUDA only)
    stop_after_steps: int | None = None


PROFILES = {
    "smoke": Config(profile="smoke"),
    "small": Config(profile="small", dataset="mnist", ns=(500, 1000, 2000, 4000, 8000), n_test=2000, width=500,
                    lr=0.1, margin=10.0, miss_fraction=0.001, max_steps=200_000),
    "full": Config(profile="full", dataset="mnist", ns=(4000, 8000, 16000, 32000, 60000), n_test=10000, width=500,
                   lr=0.1, margin=10.0, miss_fraction=0.001, max_steps=2_000_000),
}


def weight_matrices(model: nn.Module) -> list[torch.Tensor]:
    """The Linear layers' weight matrices, input to output."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def distance_from_init(model: nn.Module, init: list[torch.Tensor]) -> float:
    """||W - W_0||_F over all weight matrices together: sqrt(sum_l ||W_l - W_l^0||_F^2)."""
    return math.sqrt(sum(float(((w.detach().float() - w0.float()) ** 2).sum()) for w, w0 in zip(weight_matrices(model), init)))


def spectral_product(model: nn.Module) -> float:
    """prod_l ||W_l||_2 (largest singular values)."""
    return float(np.prod([float(torch.linalg.matrix_norm(w.detach().float(), ord=2)) for w in weight_matrices(model)]))


@torch.no_grad()
def margin_miss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, margin: float, device) -> float:
    """Fraction of (x, y) whose logit margin f_y - max_{j != y} f_j is below ``margin``."""
    miss = 0
    for i in range(0, x.shape[0], 4096):
        with common.autocast(device):
            f = model(x[i:i + 4096]).float()
        fy = f.gather(1, y[i:i + 4096, None]).squeeze(1)
        other = f.scatter(1, y[i:i + 4096, None], float("-inf")).amax(1)
        miss += int((fy - other < margin).sum())
    return miss / x.shape[0]


def log_slope(ns, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of log(values) on log(ns), per row of ``values`` (seeds, len(ns)).

    >>> float(log_slope([1, 2, 4], np.array([[3.0, 6.0, 12.0]]))[0])
    1.0
    """
    lx = np.log(np.asarray(ns, dtype=float))
    ly = np.log(np.asarray(values, dtype=float))
    lx = lx - lx.mean()
    return (ly - ly.mean(axis=1, keepdims=True)) @ lx / (lx @ lx)


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    cfg, name = common.resolve_config(PROFILES, profile, overrides)
    if len(cfg.ns) < 2 or any(b <= a for a, b in zip(cfg.ns, cfg.ns[1:])):
        raise ValueError(f"ns={cfg.ns}, must be >= 2 strictly increasing sizes (slopes need two)")
    if cfg.depth < 2:
        raise ValueError(f"depth={cfg.depth}, must be >= 2 linear layers")
    device = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=device, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    splits = load_splits(cfg.dataset, cfg.data_dir, device)
    num_classes = class_count(splits)
    seeds = [seed + r for r in range(cfg.n_seeds)]

    def train_unit(rep_seed: int, n: int) -> dict:
        # nested training sets: S_n is the first n rows of one random order per seed
        x_tr, y_tr, x_te, y_te = train_test(splits, max(cfg.ns), cfg.n_test, common.generator(rep_seed, "split"))
        x_tr, y_tr = x_tr[:n], y_tr[:n]
        in_dim = int(np.prod(x_tr.shape[1:]))
        model = common.seeded_init(lambda: MLP(in_dim, (cfg.width,) * (cfg.depth - 1), num_classes), rep_seed, "init", n)
        init = [w.detach().clone() for w in weight_matrices(model)]
        flops = common.train_flops_per_sample(model, tuple(x_tr.shape[1:]))
        model = common.prepare_model(model, device, compile=cfg.compile)
        init = [w.to(device) for w in init]
        batch, per_epoch = common.epoch_batches(x_tr, y_tr, cfg.batch_size, rep_seed, "order", n)

        def evaluate(step: int) -> dict:
            return {"miss": margin_miss(model, x_tr, y_tr, cfg.margin, device)}

        history = rn.train(model, torch.optim.SGD(model.parameters(), lr=cfg.lr), unit=f"n{n}-seed{rep_seed}",
                           steps=cfg.max_steps, batch_fn=batch, flops_per_sample=flops,
                           eval_fn=evaluate, eval_steps=[*range(per_epoch, cfg.max_steps + 1, per_epoch), cfg.max_steps],
                           ckpt_every=cfg.ckpt_every, stop_fn=lambda step, ev: ev["miss"] <= cfg.miss_fraction)
        test = common.evaluate(model, x_te, y_te, device)
        return {"n": n, "seed": rep_seed, "test_error": test["error"], "train_miss": history[-1]["miss"],
                "steps": history[-1]["step"], "epochs": history[-1]["step"] / per_epoch, "reached_margin": history[-1]["miss"] <= cfg.miss_fraction,
                "distance_from_init": distance_from_init(model, init), "spectral_product": spectral_product(model)}

    units = {(s, n): rn.unit(f"n{n}-seed{s}", lambda s=s, n=n: train_unit(s, n)) for s in seeds for n in cfg.ns}
    if rn.partial:
        return rn.finish(None, {})

    def grid(key):   # (seeds, ns)
        return np.array([[units[(s, n)][key] for n in cfg.ns] for s in seeds], dtype=float)

    dist, test_err, spec = grid("distance_from_init"), grid("test_error"), grid("spectral_product")
    # a seed whose test error is 0 at some n has no log; the floor 1/(2 n_test) keeps the slope defined
    slopes = np.stack([log_slope(cfg.ns, dist), log_slope(cfg.ns, np.maximum(test_err, 0.5 / cfg.n_test))], axis=1)
    b = common.bootstrap(slopes, lambda s: min(s[:, 0].mean(), -s[:, 1].mean()), seed=seed)
    missed = [f"n={n} seed={s}" for (s, n), u in units.items() if not u["reached_margin"]]
    verdict = common.sign_verdict(
        CLAIM_ID, b, statistic="min(slope of log ||W - W0||_F on log n, -slope of log test error)", seed=seed,
        params={"dataset": cfg.dataset, "ns": list(cfg.ns), "width": cfg.width, "depth": cfg.depth, "margin": cfg.margin},
        profile=name, unmet=(f"margin {cfg.margin:g} not reached within {cfg.max_steps} steps ({', '.join(missed)}); "
                             "raise max_steps" if missed else None),
        extra={"slope_distance": slopes[:, 0].tolist(), "slope_test_error": slopes[:, 1].tolist(),
               "slope_spectral_product": log_slope(cfg.ns, spec).tolist()},
    )
    measurements = {"ns": list(cfg.ns), "seeds": seeds, "distance_from_init": dist.tolist(), "test_error": test_err.tolist(),
                    "spectral_product": spec.tolist(), "steps": grid("steps").tolist(), "epochs": grid("epochs").tolist(), "train_miss": grid("train_miss").tolist()}
    return rn.finish(verdict, measurements, figure=figure if figures else None)


def figure(result: dict, out_dir) -> list[str]:
    """Distance from initialisation (left axis) and test error (right axis) vs n (log x; seed mean and range)."""
    m = result["measurements"]
    ns, dist, err = np.array(m["ns"]), np.array(m["distance_from_init"]), np.array(m["test_error"])

    def draw(ax):
        (l1,) = ax.plot(ns, dist.mean(0), marker="o", ms=3, label=r"$\|W - W_0\|_F$ (left axis)")
        ax.fill_between(ns, dist.min(0), dist.max(0), alpha=0.25, lw=0, color=l1.get_color())
        ax.set_xscale("log")
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.minorticks_off()
        ax.set_xlabel("training samples n")
        ax.set_ylabel(r"$\|W - W_0\|_F$")
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        (l2,) = ax2.plot(ns, err.mean(0), marker="s", ms=3, color="C1", label="test error (right axis)")
        ax2.fill_between(ns, err.min(0), err.max(0), alpha=0.25, lw=0, color="C1")
        ax2.set_ylabel("test error")
        ax.legend(handles=[l1, l2], frameon=False, fontsize=6, loc="upper center")

    return common.save_figure(draw, out_dir, "norm_growth")
