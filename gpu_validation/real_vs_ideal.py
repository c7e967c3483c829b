"""Real World vs Ideal World (the Deep Bootstrap): SGD on n reused samples vs fresh samples.

Claim (Nakkiran, Neyshabur & Sedghi 2021, "The Deep Bootstrap Framework: Good Online
Learners are Good Offline Generalizers", ICLR, Sec. 3 / Fig. 1): train the same network
with the same optimizer for the same number of steps in the *Real World* (n samples reused
for many epochs) and in the *Ideal World* (a fresh batch from the distribution at every
step). While the Real World has not yet (nearly) fit its training set -- train error >= 1% --
the two worlds' test soft-errors stay close. Soft error = 1 - E[p_y(x)], the expected error
of a prediction sampled from the softmax (:func:`gpu_validation.loop.evaluate`).

Statistic (:func:`claimcheck.gpu_validation.rules.statistic`): per seed, the largest
``|SoftErr_real(t) - SoftErr_ideal(t)|`` over the window of evaluation steps t at which the
seed-mean Real World train error is >= 1%. Decision (:func:`claimcheck.gpu_validation.rules.decide`,
applied by the driver): the Student t upper confidence limit over seeds below ``gap_tolerance``
(the paper's gaps are a few percent; 0.05 is our choice).

Data ("infinite data" sources):

* ``teacher`` -- x ~ N(0, I_d), y = argmax of a fixed random ReLU teacher network; fresh
  samples are drawn at every step (seeded by step): truly unlimited.
* ``mnist1d`` -- MNIST-1D (Greydanus 2020), a pool of ``steps x batch`` never-reused samples
  generated up front by the vectorised generator :mod:`gpu_validation.mnist1d` (seconds).
* ``cifar5m`` -- CIFAR-5m ``.npz`` parts (arrays ``X`` (N, 32, 32, 3) uint8 and ``Y``) in a user
  directory (``--data-dir``). The images stay **uint8 on the device** (5M images are 15 GB as
  uint8, ~61 GB as float32) and each batch is converted when it is used, with the reference
  normalisation (x/255 - 0.5) / 0.5; the NHWC -> NCHW permute is channels_last for free.

Faithful to the reference code (preetum/deep-bootstrap-code, ``inftrain/train.py``): SGD, lr 0.1,
momentum 0, batch 128, cosine schedule, cross-entropy, no augmentation, and ``drop_last=True`` for
the Real World loader: every batch has 128 samples (n = 4000 gives 31 full batches an epoch; the
32 samples left over wait for another epoch's order). Deviations, kept: the cosine schedule is
stepped every optimizer step (the reference steps it once per epoch, ``batches_per_lr_step`` =
an epoch); the test sets are held-out samples of the same source (the reference also reports the
CIFAR-10 test set); evaluation at ``n_evals`` geometrically spaced steps; MLPs on teacher data and
mnist1d stand in for the ResNet-18 of the paper below the ``full`` profile.

    claimcheck gpu real_vs_ideal --profile smoke   # CPU, ~1 s, teacher data, MLP
    claimcheck gpu real_vs_ideal --profile cpu     # CPU evidence, ~2.5 CPU min: mnist1d, n = 2000, lr 0.2, 3 seeds
    claimcheck gpu real_vs_ideal --profile small   # one GPU (estimate: minutes), mnist1d, 4000 steps, 5 seeds
    claimcheck gpu real_vs_ideal --profile full --data-dir CIFAR5M_DIR   # ResNet-18, n = 50k

Evidence (``gpu_validation/evidence/real_vs_ideal/``, profile ``cpu``, shared 2-core CPU, one
thread: 441 s wall, 140 s CPU): passed -- the Real World reaches train error < 1% at step ~1033;
until then (window up to step 742) the seed-mean soft-error gap stays <= 0.024 while the Real
World's train/test gap is 0.41; at step 2000 the gap is 0.056 (Ideal test error 0.28 vs Real 0.44).
The ``small`` profile (n = 4000 at lr 0.1 before) never reached its stopping time in the CPU pilot;
it now follows the ``cpu`` design. ``small`` and ``full`` have not run on a GPU.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from claimcheck.gpu_validation import batched, driver, loop, results
from claimcheck.gpu_validation.driver import JobConfig, Plan, Unit
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, forward_flops
from claimcheck.gpu_validation.run import UsageError, derive_seed, generator, seeded_init

JOB = "real_vs_ideal"
CLAIM_ID = "gpu.real_vs_ideal.soft_error_gap"
SOURCES = ("teacher", "mnist1d", "cifar5m")
WORLDS = ("real", "ideal")
SEED_KEYS = ("soft_error_real", "soft_error_ideal", "train_error_real", "test_error_real", "test_error_ideal")


@dataclass(frozen=True)
class Config(JobConfig):
    source: str = "teacher"          # teacher | mnist1d | cifar5m
    data_dir: str | None = None      # cifar5m parts (.npz with X, Y)
    n_real: int = 256                # Real World training samples
    n_test: int = 2000               # test samples
    steps: int = 80                  # SGD steps in each world
    batch_size: int = 128            # samples per step (reference: 128; Real World drop_last)
    lr: float = 0.1                  # initial SGD lr, cosine decay to 0, momentum 0
    model: str = "mlp"               # mlp | resnet18k
    hidden: tuple[int, ...] = (256, 256)  # MLP hidden widths
    width_k: int = 64                # ResNet-18 k (model="resnet18k")
    teacher_dim: int = 20            # teacher input dimension d
    teacher_hidden: int = 32         # teacher hidden width
    num_classes: int = 10
    n_evals: int = 8                 # evaluation steps (geometric spacing)
    eval_batch: int = 1024           # rows per member per evaluation forward
    gap_tolerance: float = 0.05      # claim: bootstrap gap <= this while train error >= 1%
    train_error_floor: float = 0.01  # "Real World still training" threshold (paper: 1%)


PROFILES = {
    # smoke: unit by unit (its checkpoint layout is what the resume tests interrupt);
    # tests/test_gpu_batched.py runs it batched
    "smoke": Config(profile="smoke", batched=False),
    # cpu: the CPU evidence (PILOTS.md: Real World interpolates at step ~1033, in-window gap 0.033 +- 0.006)
    "cpu": Config(profile="cpu", source="mnist1d", n_real=2000, n_test=4000, steps=2000, lr=0.2, hidden=(512, 512),
                  n_evals=24, n_seeds=3, batched=False),
    # small (one GPU, ~10 min): the cpu design with twice the steps (the longer cosine keeps lr high
    # longer; ~3,000 steps of separation after the stopping time) and 5 seeds in one group
    "small": Config(profile="small", source="mnist1d", n_real=2000, n_test=4000, steps=4000, lr=0.2, hidden=(512, 512),
                    n_evals=30, n_seeds=5),
    # ResNet-18 k = 64 fills a GPU alone: one by one
    "full": Config(profile="full", source="cifar5m", n_real=50000, n_test=10000, steps=40000, model="resnet18k",
                   n_evals=20, n_seeds=3, ckpt_every=2000, batched=False),
}


def validate(cfg: Config) -> None:
    if cfg.source not in SOURCES:
        raise ValueError(f"source={cfg.source!r}, must be one of {list(SOURCES)}")
    if cfg.model not in ("mlp", "resnet18k"):
        raise ValueError(f"model={cfg.model!r}, must be 'mlp' or 'resnet18k'")
    if cfg.model == "resnet18k" and cfg.source != "cifar5m":
        raise ValueError(f"model='resnet18k' needs images: source='cifar5m', got source={cfg.source!r}")
    for name in ("n_real", "n_test", "steps", "batch_size", "n_evals"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name}={getattr(cfg, name)}, must be >= 1")
    if cfg.n_real < cfg.batch_size:
        raise ValueError(f"n_real={cfg.n_real} < batch_size={cfg.batch_size}: the Real World has no full batch")


def eval_steps(cfg: Config) -> list[int]:
    """``n_evals`` geometrically spaced steps in [1, steps], and ``steps``."""
    n = max(cfg.n_evals, 2)
    return sorted({max(1, int(round(cfg.steps ** (i / (n - 1))))) for i in range(n)} | {cfg.steps})


def units(ctx) -> list[Unit]:
    """Batched: one group of both worlds x all seeds; else one unit per (world, seed)."""
    names = [f"{w}-seed{s}" for s in ctx.seeds for w in WORLDS]
    if ctx.group(conv=ctx.cfg.model != "mlp"):
        return [Unit(batched.group_id("worlds", ctx.seeds), tuple(names))]
    return [Unit(n, (n,)) for n in names]


# --------------------------------------------------------------------------- data

def _mnist1d_pool(num: int, rep_seed: int) -> tuple[np.ndarray, np.ndarray]:
    from claimcheck.gpu_validation import mnist1d

    return mnist1d.make(num, seed=derive_seed(rep_seed, "mnist1d") % 2**63)


def _cifar5m(directory, num: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``num`` CIFAR-5m images (uint8, (num, 32, 32, 3)) and labels, reading parts in order."""
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
            x = d["X"]
            if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
                raise UsageError(f"{f}: X has dtype {x.dtype} and shape {x.shape}, must be uint8 (N, 32, 32, 3)")
            xs.append(x[:num - have]), ys.append(d["Y"][:num - have])
        have += len(ys[-1])
        if have >= num:
            break
    if have < num:
        raise UsageError(f"cifar5m in {directory!r} has {have} samples, the run needs {num} "
                         f"(n_real + n_test + steps x batch_size)")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def cifar5m_batch(x: torch.Tensor, channels_last: bool = True) -> torch.Tensor:
    """uint8 (B, 32, 32, 3) -> float (B, 3, 32, 32) in [-1, 1] (the reference's normalisation);
    channels_last in memory (the NHWC permute, free), else made NCHW-contiguous (CPU)."""
    out = x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return out if channels_last else out.contiguous()


def data(ctx, rep_seed: int) -> dict:
    """Real set, test set and the Ideal World's batch function of one replicate, on the device."""
    cfg, device, B = ctx.cfg, ctx.device, ctx.cfg.batch_size

    def build():
        out = {"transform": None}
        if cfg.source == "teacher":
            teacher = seeded_init(lambda: MLP(cfg.teacher_dim, (cfg.teacher_hidden,), cfg.num_classes), rep_seed,
                                  "teacher").to(device)

            def draw(m: int, *parts):
                x = torch.randn(m, cfg.teacher_dim, generator=generator(rep_seed, *parts)).to(device)
                with torch.no_grad():
                    return x, teacher(x).argmax(-1)

            out["real"], out["test"] = draw(cfg.n_real, "real"), draw(cfg.n_test, "test")
            out["ideal"] = lambda step: draw(B, "ideal", step)   # fresh samples, seeded by step
            return out
        total = cfg.n_real + cfg.n_test + cfg.steps * B
        x, y = _mnist1d_pool(total, rep_seed) if cfg.source == "mnist1d" else _cifar5m(cfg.data_dir, total)
        x, y = torch.as_tensor(x).to(device), torch.as_tensor(y).to(device)
        if cfg.source == "cifar5m":
            cl = ctx.channels_last
            out["transform"] = lambda v: cifar5m_batch(v, channels_last=cl)
        t = out["transform"] or (lambda v: v)
        out["real"] = (x[:cfg.n_real], y[:cfg.n_real])
        out["test"] = (x[cfg.n_real:cfg.n_real + cfg.n_test], y[cfg.n_real:cfg.n_real + cfg.n_test])
        off = cfg.n_real + cfg.n_test
        out["ideal"] = lambda step: (t(x[off + step * B: off + (step + 1) * B]), y[off + step * B: off + (step + 1) * B])
        return out

    if not ctx.group(conv=cfg.model != "mlp"):   # one replicate at a time: keep only its data
        for key in [k for k in ctx.cache if isinstance(k, tuple) and k[0] == "data" and k[1] != rep_seed]:
            del ctx.cache[key]
    return ctx.once(("data", rep_seed), build)


def _model(cfg: Config, d: dict, device) -> tuple:
    xb, _ = d["ideal"](0)
    in_shape = tuple(xb.shape[1:])
    if cfg.model == "mlp":
        return (lambda: MLP(int(np.prod(in_shape)), cfg.hidden, cfg.num_classes)), in_shape
    return (lambda: PreActResNet18k(cfg.width_k, cfg.num_classes, in_shape[0])), in_shape


def plan(ctx, unit: Unit) -> Plan:
    """The unit's networks (the same init in both worlds of a seed: paired), batches and evaluations."""
    cfg = ctx.cfg
    keys = [(m.split("-seed")[0], int(m.split("-seed")[1])) for m in unit.members]
    ds = [data(ctx, s) for _, s in keys]
    build, in_shape = _model(cfg, ds[0], ctx.device)
    models = [seeded_init(build, s, "init", device=ctx.init_device) for _, s in keys]
    flops = 0.0 if ctx.init_device == "meta" else 3.0 * forward_flops(models[0], in_shape)
    fns = []
    for (world, s), d in zip(keys, ds):
        if world == "real":
            fns.append(loop.epoch_batches(*d["real"], cfg.batch_size, s, "order", drop_last=True,
                                          transform=d["transform"])[0])
        else:
            fns.append(d["ideal"])
    group = len(keys) > 1
    amp = ctx.amp

    def ev(step: int, model) -> dict:
        tr = ds[0]["transform"]
        if group:
            test = loop.evaluate_group(model, [d["test"][0] for d in ds], [d["test"][1] for d in ds], cfg.eval_batch,
                                       amp=amp, transform=tr)
            train = loop.evaluate_group(model, [d["real"][0] for d in ds], [d["real"][1] for d in ds], cfg.eval_batch,
                                        amp=amp, transform=tr)
        else:
            test = [loop.evaluate(model, *ds[0]["test"], cfg.eval_batch, amp=amp, transform=tr)]
            train = [loop.evaluate(model, *ds[0]["real"], cfg.eval_batch, amp=amp, transform=tr)]
        return {"members": [{"test_error": a["error"], "test_soft_error": a["soft_error"], "train_error": b["error"]}
                            for a, b in zip(test, train)]}

    def finish(model, history) -> dict:
        return {name: {"history": h} for name, h in zip(unit.members, batched.split_history(history, len(keys)))}

    return Plan(model=batched.BatchedModels(models) if group else models[0],
                make_optimizer=lambda p: ctx.optimizer("sgd", p, lr=cfg.lr, momentum=0.0),
                steps=cfg.steps, batch_fn=batched.stack_batches(fns) if group else fns[0],
                loss_fn=batched.member_loss(len(keys)) if group else torch.nn.functional.cross_entropy,
                lr_fn=lambda step: 0.5 * cfg.lr * (1 + math.cos(math.pi * step / cfg.steps)),   # cosine decay
                flops_per_sample=flops, eval_fn=ev, eval_steps=eval_steps(cfg), finish=finish,
                conv=cfg.model != "mlp", group=group)


def train_unit(ctx, unit: Unit) -> dict:
    return driver.train_plan(ctx, unit, plan(ctx, unit))


# --------------------------------------------------------------------------- statistic, decision

def measurements(ctx, members: dict) -> dict:
    cfg, seeds = ctx.cfg, list(ctx.seeds)

    def curve(world, key):  # (seeds, evals)
        return np.array([[h[key] for h in members[f"{world}-seed{s}"]["history"]] for s in seeds])

    train_real = curve("real", "train_error")
    return {"eval_steps": eval_steps(cfg), "seeds": seeds,
            "soft_error_real": curve("real", "test_soft_error").tolist(),
            "soft_error_ideal": curve("ideal", "test_soft_error").tolist(),
            "train_error_real": train_real.tolist(),
            "test_error_real": curve("real", "test_error").tolist(),
            "test_error_ideal": curve("ideal", "test_error").tolist(),
            "window": (train_real.mean(axis=0) >= cfg.train_error_floor).tolist()}


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

    return results.save_figure(draw, out_dir, "real_vs_ideal")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, **kw) -> dict:
    """Run this job (:func:`gpu_validation.driver.run`)."""
    return driver.run(sys.modules[__name__], profile, seed, device, out_dir, resume, **kw)
