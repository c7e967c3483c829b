"""Real World vs Ideal World (the Deep Bootstrap): SGD on n reused samples vs fresh samples.

Claim (Nakkiran, Neyshabur & Sedghi 2021, "The Deep Bootstrap Framework: Good Online
Learners are Good Offline Generalizers", ICLR, Sec. 3 / Fig. 1): train the same network
with the same optimizer for the same number of steps in the *Real World* (n samples reused
for many epochs) and in the *Ideal World* (a fresh batch from the distribution at every
step). While the Real World has not yet (nearly) fit its training set -- train error >= 1% --
the two worlds' test soft-errors stay close. Soft error = 1 - E[p_y(x)], the expected error
of a prediction sampled from the softmax (:func:`gpu_validation.common.evaluate`).

Statistic: the *bootstrap gap* ``max_t |mean_s (SoftErr_real_s(t) - SoftErr_ideal_s(t))|``
over the evaluation steps t at which the seed-mean Real World train error is >= 1%, with a
percentile-bootstrap CI over seeds; passed if the CI lies below ``gap_tolerance`` (the
paper's gaps are a few percent; the default 0.05 is our choice). The gap after the Real
World interpolates is reported too (it is expected to grow).

Data ("infinite data" sources):

* ``teacher`` -- x ~ N(0, I_d), y = argmax of a fixed random ReLU teacher network; fresh
  samples are drawn on the device at every step (seeded by step): truly unlimited.
* ``mnist1d`` -- the MNIST-1D procedural generator (Greydanus 2020): a pool of
  ``steps x batch`` never-reused samples is generated up front (in parallel processes).
* ``cifar5m`` -- CIFAR-5m-style ``.npz`` parts (arrays ``X`` (N, 32, 32, 3) uint8 and ``Y``)
  in a user directory (``--data-dir``); the Ideal World streams through them.

Optimizer as in the Deep Bootstrap code: SGD, lr 0.1 with cosine decay, momentum 0, batch 128.

    claimcheck gpu real_vs_ideal --profile smoke   # CPU, ~1 s, teacher data, MLP
    claimcheck gpu real_vs_ideal --profile small   # one GPU, ~3 min (estimate), mnist1d, MLP, 5 seeds
    claimcheck gpu real_vs_ideal --profile full --data-dir CIFAR5M_DIR   # ResNet-18, n = 50k

The smoke profile (teacher data, 80 steps, 3 seeds) checks the pipeline; its verdict is not
evidence for the claim at network scale.

Evidence: smoke only (CPU, torch 2.13, teacher data, 3 seeds: gap 0.007 [0.007, 0.019] <= 0.05).
``small`` and ``full`` have not been run: no GPU was available when this suite was built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from claimcheck.gpu_validation import batched, common
from claimcheck.gpu_validation.common import Run
from claimcheck.gpu_validation.models import MLP, PreActResNet18k

JOB = "real_vs_ideal"
CLAIM_ID = "gpu.real_vs_ideal.soft_error_gap"


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    source: str = "teacher"          # teacher | mnist1d | cifar5m
    data_dir: str | None = None      # cifar5m parts (.npz with X, Y)
    n_real: int = 256                # Real World training samples
    n_test: int = 2000               # test samples
    steps: int = 80                  # SGD steps in each world
    batch_size: int = 128            # samples per step (Deep Bootstrap code: 128)
    lr: float = 0.1                  # initial SGD lr, cosine decay to 0, momentum 0
    model: str = "mlp"               # mlp | resnet18k
    hidden: tuple[int, ...] = (256, 256)  # MLP hidden widths
    width_k: int = 64                # ResNet-18 k (model="resnet18k")
    teacher_dim: int = 20            # teacher input dimension d
    teacher_hidden: int = 32         # teacher hidden width
    num_classes: int = 10
    n_evals: int = 8                 # evaluation steps (geometric spacing)
    n_seeds: int = 3
    gap_tolerance: float = 0.05      # claim: bootstrap gap <= this while train error >= 1%
    train_error_floor: float = 0.01  # "Real World still training" threshold (paper: 1%)
    ckpt_every: int = 1000           # steps between checkpoints
    compile: bool = False            # torch.compile (CUDA; sequential path only)
    batched: bool = True             # train both worlds x all seeds as one group (gpu_validation.batched)
    stop_after_steps: int | None = None


PROFILES = {
    # smoke keeps the sequential path: its unit-by-unit checkpoint layout is what the resume
    # tests (tests/test_gpu_infra.py, test_gpu_cli.py) interrupt; tests/test_gpu_batched.py runs it batched
    "smoke": Config(profile="smoke", batched=False),
    "small": Config(profile="small", source="mnist1d", n_real=4000, n_test=4000, steps=2000, hidden=(512, 512),
                    n_evals=12, n_seeds=5),
    "full": Config(profile="full", source="cifar5m", n_real=50000, n_test=10000, steps=40000, model="resnet18k",
                   n_evals=20, n_seeds=3, ckpt_every=2000, batched=False),  # ResNet-18 k=64 fills a GPU alone
}


def _mnist1d_pool(num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``num`` fresh MNIST-1D samples, generated in chunks of 20k (in parallel when many)."""
    from claimcheck.sims.datasets import make_mnist1d

    chunk = 20000
    seeds = [common.derive_seed(seed, "mnist1d", i) % 2**31 for i in range(math.ceil(num / chunk))]
    sizes = [min(chunk, num - i * chunk) for i in range(len(seeds))]
    # mnist1d makes num_samples // 10 samples per class: round each chunk up to a multiple of 10
    # (else the pool falls short and the last Ideal World batches are smaller than batch_size)
    sizes = [max(-(-s // 10) * 10, 20) for s in sizes]
    if len(seeds) == 1:
        parts = [make_mnist1d(seed=seeds[0], num_samples=sizes[0])]
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(len(seeds), mp.cpu_count()), mp_context=mp.get_context("spawn")) as ex:
            parts = list(ex.map(_mnist1d_chunk, seeds, sizes))
    x = np.concatenate([np.concatenate([p["x"], p["x_test"]]) for p in parts])[:num]
    y = np.concatenate([np.concatenate([p["y"], p["y_test"]]) for p in parts])[:num]
    if len(y) < num:
        raise RuntimeError(f"mnist1d generated {len(y)} samples, the run needs {num}")
    return x.astype(np.float32), y


def _mnist1d_chunk(seed: int, size: int) -> dict:
    from claimcheck.sims.datasets import make_mnist1d

    return make_mnist1d(seed=seed, num_samples=size)


def _cifar5m(directory, num: int) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(Path(directory).glob("*.npz")) if directory else []
    if not files:
        raise FileNotFoundError(
            f"source='cifar5m' needs a directory of CIFAR-5m .npz parts (arrays X (N,32,32,3) uint8 and Y) "
            f"via --data-dir; got {directory!r}. CIFAR-5m (Nakkiran et al. 2021) is distributed by its authors "
            f"(github.com/preetum/cifar5m); nothing is downloaded at run time"
        )
    xs, ys, have = [], [], 0
    for f in files:
        with np.load(f, allow_pickle=False) as d:
            xs.append(d["X"]), ys.append(d["Y"])
        have += len(ys[-1])
        if have >= num:
            break
    if have < num:
        raise ValueError(f"cifar5m in {directory!r} has {have} samples, the run needs {num}")
    x = np.concatenate(xs)[:num].astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return (x - x.mean(axis=(0, 2, 3), keepdims=True)) / x.std(axis=(0, 2, 3), keepdims=True), np.concatenate(ys)[:num].astype(np.int64)


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    cfg, name = common.resolve_config(PROFILES, profile, overrides)
    if cfg.source not in ("teacher", "mnist1d", "cifar5m"):
        raise ValueError(f"source={cfg.source!r}, must be 'teacher', 'mnist1d' or 'cifar5m'")
    device = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=device, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    eval_steps = sorted({max(1, int(round(cfg.steps ** (i / (cfg.n_evals - 1))))) for i in range(cfg.n_evals)} | {cfg.steps})
    lr_fn = lambda step: 0.5 * cfg.lr * (1 + math.cos(math.pi * step / cfg.steps))  # noqa: E731  cosine decay
    seeds = [seed + r for r in range(cfg.n_seeds)]
    data_cache: dict[int, tuple] = {}

    def data(rep_seed: int):
        """(x_real, y_real, x_test, y_test, ideal_batch(step)) on the device; fixed by rep_seed."""
        if rep_seed in data_cache:
            return data_cache[rep_seed]
        B = cfg.batch_size
        if cfg.source == "teacher":
            teacher = common.seeded_init(lambda: MLP(cfg.teacher_dim, (cfg.teacher_hidden,), cfg.num_classes),
                                         rep_seed, "teacher").to(device)

            def draw(m: int, *parts):
                x = torch.randn(m, cfg.teacher_dim, generator=common.generator(rep_seed, *parts)).to(device)
                with torch.no_grad():
                    return x, teacher(x).argmax(-1)

            xr, yr = draw(cfg.n_real, "real")
            xt, yt = draw(cfg.n_test, "test")
            ideal = lambda step: draw(B, "ideal", step)  # noqa: E731  fresh samples, seeded by step
        else:
            total = cfg.n_real + cfg.n_test + cfg.steps * B
            if cfg.source == "mnist1d":
                x, y = _mnist1d_pool(total, rep_seed)
            else:
                x, y = _cifar5m(cfg.data_dir, total)
            x, y = torch.as_tensor(x).to(device), torch.as_tensor(y).to(device)
            xr, yr = x[:cfg.n_real], y[:cfg.n_real]
            xt, yt = x[cfg.n_real:cfg.n_real + cfg.n_test], y[cfg.n_real:cfg.n_real + cfg.n_test]
            off = cfg.n_real + cfg.n_test
            ideal = lambda step: (x[off + step * B: off + (step + 1) * B], y[off + step * B: off + (step + 1) * B])  # noqa: E731
        if not cfg.batched:
            data_cache.clear()   # the batched path trains all seeds at once and keeps all their data
        data_cache[rep_seed] = (xr, yr, xt, yt, ideal)
        return data_cache[rep_seed]

    def setup(rep_seed: int, world: str) -> dict:
        """One replicate of one world: initialised model (same init in both worlds: paired), batches."""
        xr, yr, xt, yt, ideal = data(rep_seed)
        in_shape = tuple(xr.shape[1:])
        if cfg.model == "mlp":
            build = lambda: MLP(int(np.prod(in_shape)), cfg.hidden, cfg.num_classes)  # noqa: E731
        else:
            build = lambda: PreActResNet18k(cfg.width_k, cfg.num_classes, in_shape[0])  # noqa: E731
        model = common.seeded_init(build, rep_seed, "init")  # same init in both worlds (paired)
        flops = common.train_flops_per_sample(model, in_shape)
        real_batch, _ = common.epoch_batches(xr, yr, cfg.batch_size, rep_seed, "order")

        def ev(step: int, model) -> dict:
            test, train = common.evaluate(model, xt, yt, device), common.evaluate(model, xr, yr, device)
            return {"test_error": test["error"], "test_soft_error": test["soft_error"], "train_error": train["error"]}

        return {"model": model, "flops": flops, "batch": real_batch if world == "real" else ideal, "ev": ev}

    def train_unit(rep_seed: int, world: str) -> dict:
        u = setup(rep_seed, world)
        model = common.prepare_model(u["model"], device, conv=cfg.model != "mlp", compile=cfg.compile)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.0)
        history = rn.train(model, opt, unit=f"{world}-seed{rep_seed}", steps=cfg.steps, batch_fn=u["batch"],
                           flops_per_sample=u["flops"], lr_fn=lr_fn, eval_fn=lambda step: u["ev"](step, model),
                           eval_steps=eval_steps, ckpt_every=cfg.ckpt_every)
        return {"history": history}

    worlds = ("real", "ideal")

    def train_batched() -> dict:
        """Both worlds x all seeds as one group (gpu_validation.batched): one forward/backward per step."""
        keys = [(s, w) for s in seeds for w in worlds]
        us = [setup(s, w) for s, w in keys]
        _, histories = batched.train_group(
            rn, [u["model"] for u in us], lambda params: torch.optim.SGD(params, lr=cfg.lr, momentum=0.0),
            unit=batched.group_id("worlds", seeds), steps=cfg.steps, batch_fns=[u["batch"] for u in us], device=device,
            flops_per_sample=us[0]["flops"], lr_fn=lr_fn, eval_fns=[u["ev"] for u in us], eval_steps=eval_steps,
            ckpt_every=cfg.ckpt_every)
        return {"members": {f"{w}-seed{s}": {"history": h} for (s, w), h in zip(keys, histories)}}

    if cfg.batched:
        done = batched.unpack(rn.unit(batched.group_id("worlds", seeds), train_batched))
        units = {(s, w): done[f"{w}-seed{s}"] for s in seeds for w in worlds} if done else {}
    else:
        units = {(s, w): rn.unit(f"{w}-seed{s}", lambda: train_unit(s, w)) for s in seeds for w in worlds}
    if rn.partial:
        return rn.finish(None, {})

    def curve(world, key):  # (seeds, evals)
        return np.array([[h[key] for h in units[(s, world)]["history"]] for s in seeds])

    soft_real, soft_ideal = curve("real", "test_soft_error"), curve("ideal", "test_soft_error")
    train_real = curve("real", "train_error")
    gap = soft_real - soft_ideal                                   # (seeds, evals)
    window = train_real.mean(axis=0) >= cfg.train_error_floor      # Real World still training
    params = {"source": cfg.source, "n_real": cfg.n_real, "steps": cfg.steps, "model": cfg.model}
    measurements = {"eval_steps": eval_steps, "seeds": seeds, "soft_error_real": soft_real.tolist(),
                    "soft_error_ideal": soft_ideal.tolist(), "train_error_real": train_real.tolist(),
                    "test_error_real": curve("real", "test_error").tolist(),
                    "test_error_ideal": curve("ideal", "test_error").tolist(), "window": window.tolist()}
    after = float(np.abs(gap.mean(0))[~window].max()) if (~window).any() else None
    if not window.any():
        b = {"value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "se": float("nan"), "n": len(seeds)}
        verdict = common.upper_verdict(CLAIM_ID, {**b, "n": 0}, statistic="bootstrap gap (no step with train error >= 1%)",
                                       tolerance=cfg.gap_tolerance, seed=seed, params=params, profile=name)
    else:
        b = common.bootstrap(gap[:, window], lambda g: float(np.abs(g.mean(axis=0)).max()), seed=seed)
        verdict = common.upper_verdict(
            CLAIM_ID, b, statistic="max |SoftErr_real - SoftErr_ideal| while Real train error >= 1%",
            tolerance=cfg.gap_tolerance, seed=seed, params=params, profile=name,
            extra={"gap_after_interpolation": after, "window_steps": [s for s, w in zip(eval_steps, window) if w]})
    return rn.finish(verdict, measurements, figure=figure if figures else None)


def figure(result: dict, out_dir) -> list[str]:
    """Test soft-error of both worlds and Real World train error vs SGD step (seed mean +- range)."""
    m = result["measurements"]
    t = m["eval_steps"]

    def draw(ax):
        for key, label in (("soft_error_real", "Real World test soft-error"), ("soft_error_ideal", "Ideal World test soft-error"),
                           ("train_error_real", "Real World train error")):
            a = np.array(m[key])
            ax.plot(t, a.mean(0), marker="o", ms=2.5, label=label)
            ax.fill_between(t, a.min(0), a.max(0), alpha=0.25, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("error")
        ax.legend(frameon=False, fontsize=6)

    return common.save_figure(draw, out_dir, "real_vs_ideal")
