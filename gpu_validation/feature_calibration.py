"""Feature calibration of an interpolating network trained on noisy-binary labels.

Claim (Nakkiran & Bansal 2020, "Distributional Generalization: A New Kind of
Generalization", arXiv:2009.08092, Sec. 3, Fig. 1 "Noisy-binary CIFAR"; seed 002): give a
point of class c the binary label 1 with probability p_c (drawn once, for the training set
only) and train a network to *interpolate* these labels. On test points of class c the
network predicts 1 at a rate close to p_c -- it reproduces the noise distribution (feature
calibration) -- although the Bayes-optimal classifier predicts 0 everywhere (all p_c < 1/2).
The exact 1-NN version of this claim is in ``theory/distributional.py``.

Statistic: the calibration slope b of the per-class test rates on p_c
(:func:`sims.distributional.calibration_table`; b = 1 for exact calibration, b = 0 for the
Bayes classifier), averaged over seeds with a percentile-bootstrap CI. The claim passes when
the CI lies above 1/2 (closer to calibration than to Bayes), fails when it lies below.
Rates: p_c = p_max c / 9 (:func:`theory.distributional.linear_rates`).

    claimcheck gpu feature_calibration --profile smoke   # CPU, ~1 s: digits, MLP 64-256-256-2
    claimcheck gpu feature_calibration --profile small   # one GPU, ~1 min (estimate): MNIST test set, ResNet-18 k=16
    claimcheck gpu feature_calibration --profile full --data-dir cifar-10-batches-py   # ResNet-18, CIFAR-10

The verdict is "underpowered" (precondition not met) when a network does not interpolate.
The smoke profile checks the pipeline; 3 seeds on 600 digits are not evidence.

Evidence: smoke only (CPU, torch 2.13, 3 seeds: slope ~1.0, but the nets do not fully
interpolate, so "underpowered"). ``small`` and ``full`` have not been run: no GPU was
available when this suite was built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from claimcheck.gpu_validation import batched, common
from claimcheck.gpu_validation.common import Run
from claimcheck.gpu_validation.data import class_count, load_splits, train_test
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, SmallCNN

JOB = "feature_calibration"
CLAIM_ID = "gpu.feature_calibration.slope"


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    dataset: str = "digits"        # digits | mnist | cifar10
    data_dir: str | None = None
    n_train: int = 600             # samples
    n_test: int = 1197             # samples
    p_max: float = 0.4             # p_c = p_max * c / 9
    model: str = "mlp"             # mlp | cnn | resnet18k
    width: int = 256               # MLP hidden width, CNN width or ResNet-18 k
    epochs: int = 20               # passes over the training set
    interpolation_tol: float = 0.0 # the claim needs train error <= this (interpolation)
    batch_size: int = 128          # samples per step
    lr: float = 3e-3               # Adam
    n_seeds: int = 3
    ckpt_every: int = 500          # steps
    compile: bool = False          # torch.compile (CUDA; sequential path only)
    batched: bool = True           # train the seeds together in one forward/backward (gpu_validation.batched)
    stop_after_steps: int | None = None


PROFILES = {
    "smoke": Config(profile="smoke"),
    "small": Config(profile="small", dataset="mnist", n_train=5000, n_test=5000, model="resnet18k", width=16,
                    epochs=100, lr=1e-3, n_seeds=3),
    "full": Config(profile="full", dataset="cifar10", n_train=50000, n_test=10000, model="resnet18k", width=64,
                   epochs=200, lr=1e-3, n_seeds=3, ckpt_every=2000),
}


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    from claimcheck.sims.distributional import calibration_table, noisy_binary_labels
    from claimcheck.theory.distributional import linear_rates

    cfg, name = common.resolve_config(PROFILES, profile, overrides)
    device = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=device, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    splits = load_splits(cfg.dataset, cfg.data_dir, device)   # {split: ((N, C, H, W), classes (N,))}
    num_classes = class_count(splits)
    sample_shape = tuple(next(iter(splits.values()))[0].shape[1:])
    p_c = linear_rates(cfg.p_max, num_classes)
    seeds = [seed + r for r in range(cfg.n_seeds)]

    def setup(rep_seed: int) -> dict:
        """Everything one replicate needs: split, noisy-binary labels, initialised model, data order."""
        x_tr, c_tr, x_te, c_te = train_test(splits, cfg.n_train, cfg.n_test, common.generator(rep_seed, "split"))
        rng = np.random.default_rng(common.derive_seed(rep_seed, "binary-labels"))
        b_tr = torch.as_tensor(noisy_binary_labels(c_tr.cpu().numpy(), p_c, rng)).to(device)  # 0/1, Bernoulli(p_c)
        if cfg.model == "mlp":
            build = lambda: MLP(int(np.prod(sample_shape)), (cfg.width, cfg.width), 2)  # noqa: E731
        elif cfg.model == "cnn":
            build = lambda: SmallCNN(cfg.width, 2, sample_shape[0])  # noqa: E731
        else:
            build = lambda: PreActResNet18k(cfg.width, 2, sample_shape[0])  # noqa: E731
        model = common.seeded_init(build, rep_seed, "init")
        flops = common.train_flops_per_sample(model, tuple(x_tr.shape[1:]))
        batch, per_epoch = common.epoch_batches(x_tr, b_tr, cfg.batch_size, rep_seed, "order")

        return {"model": model, "flops": flops, "batch": batch, "steps": per_epoch * cfg.epochs,
                "x_tr": x_tr, "b_tr": b_tr, "x_te": x_te, "c_te": c_te}

    def measure(model, u: dict) -> dict:
        model.eval()
        with torch.no_grad(), common.autocast(device):
            pred = torch.cat([model(u["x_te"][i:i + 1024]).argmax(-1) for i in range(0, cfg.n_test, 1024)]).cpu().numpy()
        train_err = common.evaluate(model, u["x_tr"], u["b_tr"], device)["error"]
        t = calibration_table(pred, u["c_te"].cpu().numpy(), p_c)
        return {"rate": t["rate"].tolist(), "count": t["count"].tolist(), "slope": t["slope"], "slope_se": t["slope_se"],
                "intercept": t["intercept"], "train_error": train_err}

    def train_unit(rep_seed: int) -> dict:
        u = setup(rep_seed)
        model = common.prepare_model(u["model"], device, conv=cfg.model != "mlp", compile=cfg.compile)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        rn.train(model, opt, unit=f"seed{rep_seed}", steps=u["steps"], batch_fn=u["batch"], flops_per_sample=u["flops"],
                 ckpt_every=cfg.ckpt_every)
        return measure(model, u)

    def train_seeds_batched() -> dict:
        """All seeds as one group (gpu_validation.batched): one forward/backward per step."""
        us = [setup(s) for s in seeds]
        members, _ = batched.train_group(
            rn, [u["model"] for u in us], lambda params: torch.optim.Adam(params, lr=cfg.lr),
            unit=batched.group_id("group", seeds), steps=us[0]["steps"], batch_fns=[u["batch"] for u in us],
            device=device, flops_per_sample=us[0]["flops"], ckpt_every=cfg.ckpt_every)
        return {"members": {f"seed{s}": measure(m, u) for s, m, u in zip(seeds, members, us)}}

    if cfg.batched:
        done = batched.unpack(rn.unit(batched.group_id("group", seeds), train_seeds_batched))
        units = {s: done[f"seed{s}"] for s in seeds} if done else {}
    else:
        units = {s: rn.unit(f"seed{s}", lambda s=s: train_unit(s)) for s in seeds}
    if rn.partial:
        return rn.finish(None, {})
    slopes = np.array([units[s]["slope"] for s in seeds], dtype=float)
    rates = np.array([units[s]["rate"] for s in seeds], dtype=float)   # (seeds, classes)
    train_err = [units[s]["train_error"] for s in seeds]
    b = common.bootstrap(slopes, np.mean, seed=seed)
    verdict = common.sign_verdict(
        CLAIM_ID, b, statistic="calibration slope of test predicted-1 rates on p_c", threshold=0.5, seed=seed,
        params={"dataset": cfg.dataset, "model": cfg.model, "width": cfg.width, "n_train": cfg.n_train, "p_max": cfg.p_max},
        profile=name, unmet=(f"the networks do not interpolate (train error {max(train_err):.3g} > {cfg.interpolation_tol:g}); "
                             f"train longer" if max(train_err) > cfg.interpolation_tol else None),
        extra={"train_error": train_err, "interpolated": bool(max(train_err) == 0.0),
                             "exact_calibration_slope": 1.0, "bayes_slope": 0.0},
    )
    measurements = {"p_c": p_c.tolist(), "rate": rates.tolist(), "slope": slopes.tolist(), "train_error": train_err,
                    "seeds": seeds}
    return rn.finish(verdict, measurements, figure=figure if figures else None)


def figure(result: dict, out_dir) -> list[str]:
    """Per-class test predicted-1 rate vs p_c (mean and range over seeds); the diagonal is exact calibration."""
    m = result["measurements"]
    p, r = np.array(m["p_c"]), np.array(m["rate"])

    def draw(ax):
        ax.plot([0, p.max()], [0, p.max()], color="k", lw=0.8, label="feature calibration (rate = $p_c$)")
        ax.axhline(0, color="0.5", lw=0.8, ls="--", label="Bayes classifier")
        ax.errorbar(p, r.mean(0), yerr=[r.mean(0) - r.min(0), r.max(0) - r.mean(0)], fmt="o", ms=3, label="network (seed range)")
        ax.set_xlabel("training rate $p_c$ of label 1 in class $c$")
        ax.set_ylabel("test rate of predicted 1")
        ax.legend(frameon=False, fontsize=6)

    return common.save_figure(draw, out_dir, "feature_calibration")
