"""Hypersphere (Nagarajan & Kolter 2019): test error falls with n while the error on S' stays ~1.

Claim (Nagarajan & Kolter, "Uniform convergence may be unable to explain generalization in deep
learning", NeurIPS 2019, arXiv:1902.04742, Fig. 2 left; seed 004): a 2-layer ReLU net trained by
SGD on two concentric spheres (d = 1000, radii 1 and 1.1, label = which sphere, 100k hidden units)
until 99% of the training points have margin >= 10 has a test error that falls with n, yet it
misclassifies nearly all of S' = the training points projected onto the other sphere with flipped
labels. S' is distributed like a training set, so every two-sided uniform-convergence bound is
>= ~1 (vacuous) while the true gap is small (their Lemma 1).

Definitions:
  label y in {0, 1}: 0 = inner sphere (radius r_inner), 1 = outer sphere (r_outer); x = r_y g/||g||, g ~ N(0, I_d).
  logits f(x) in R^2; margin(x, y) = f_y(x) - f_{1-y}(x)  (logit difference; error iff margin < 0).
  stop training a network when the fraction of its training points with margin >= ``margin`` is
  >= ``target_fraction`` (checked after every epoch).
  S' = {(x_i r_{1-y_i} / r_{y_i}, 1 - y_i)}: each training point projected radially onto the other sphere.

Statistic (:func:`claimcheck.gpu_validation.rules.statistic`): ``min(mean_s S'-error(n_max) - 1/2, mean_s (test error(n_min) -
test error(n_max)))``: positive iff S' is misclassified more often than chance at the largest n
*and* the test error fell. Decision (:func:`claimcheck.gpu_validation.rules.decide`, applied by the driver): passed
if its percentile-bootstrap CI over seeds lies above 0; underpowered if a network missed the
margin rule within ``max_steps``.

Faithful to the authors' notebook (locuslab/uniform-convergence-NeurIPS19, ``uniform-convergence.ipynb``,
Part 2, ``FLAGS_2``; profile ``small``): d = 500, radii 1 / 1.2, width 10k, 2 layers with biases,
SGD lr 0.5, batch 64, mean sigmoid cross-entropy on one-hot labels, Xavier/Glorot-uniform weights
and biases (``tf.get_variable`` default), batches in a fixed order with the last partial batch
dropped, the margin rule checked after each epoch, **one initialisation per seed reused for every
n** (``initial_weights_2`` is restored before each experiment), one test set shared by every n and
an independent training set per n. ``full`` is the paper's size (d = 1000, radii 1 / 1.1, width
100k, margin 10); its lr, batch, loss, init and order follow the notebook and its n grid is our
choice. Deviations, kept: several seeds (the notebook runs one); the margin rule and the errors
are measured on all n points (the notebook's ``perform_op_over_data`` sees the floor(n / batch)
full batches only); ``smoke`` keeps softmax cross-entropy, PyTorch's init and reshuffled batches
(floor(n / batch) full batches per epoch). ``cpu`` (the committed evidence) is the notebook's
Part-2 recipe at d = 200 and width 1000 (notebook: 500 and 10k), n = 256..2048 (notebook:
1024..8192): at the notebook's Part-1 size d = 100 the net learns the radial rule once n >> d
(CPU pilot: S' error 0.50 at n = 4096), so the S' phenomenon needs n <= ~10 d. ``small`` uses
n = 512..4096 (<= ~8 d) for the same reason.

Speed: every (seed, n) network of a run trains in one batched SGD loop (``batched=None``, on CUDA
and on CPU, where it was 1.8-2.3x as fast as one network at a time: benchmarks/results/gpu_batched.md):
stacked weights (M, d, width), one ``baddbmm`` per layer, each network's own data order and its own
stopping epoch (a network that reaches its margin leaves the stack); TF32 matmuls on CUDA
(``precision="tf32"``; ``"bf16"`` autocasts the matmuls, margins are read in fp32). The host reads
the loss and the margins once per epoch end.

    claimcheck gpu hypersphere --profile smoke   # CPU (d = 100, width 512, n in {64, 256, 1024}, 3 seeds)
    claimcheck gpu hypersphere --profile cpu     # CPU evidence, ~6 CPU min (d = 200, width 1000, 3 seeds)
    claimcheck gpu hypersphere --profile small   # one GPU: the notebook's Part-2 setting, n <= ~8 d, 5 seeds
    claimcheck gpu hypersphere --profile full    # the paper's d = 1000, width 100k

Evidence: smoke (CPU, 1 thread): S' error ~1 at every n while the test error falls (the tests
check it with Clopper-Pearson limits). ``cpu`` (``gpu_validation/evidence/hypersphere/``, shared
2-core CPU, one thread, 774 s wall, 230 s CPU): passed -- S' error 1.000 for every seed and n while
the test error falls 0.477 -> 0.425 -> 0.349 -> 0.248 (n = 256 -> 2048, 3 seeds, SD <= 0.013);
S' - test at n = 2048: 0.752 (SD 0.011); every network reached margin 8 on 99% of S (2,200-7,100
SGD steps). ``small`` and ``full`` have not been run on a GPU.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from claimcheck.theory.validation import check_int, check_real
from claimcheck.gpu_validation import driver, results
from claimcheck.gpu_validation.driver import JobConfig, Unit
from claimcheck.gpu_validation.run import DivergenceError, Run, generator

JOB = "hypersphere"
CLAIM_ID = "gpu.hypersphere.sprime_error"
SEED_KEYS = ("test_error", "s_prime_error")

__all__ = ["JOB", "CLAIM_ID", "Config", "HypersphereConfig", "PROFILES", "DivergenceError", "make_data",
           "project_to_other_sphere", "make_model", "Stacked2Layer", "margins", "train", "sweep", "run"]


@dataclass(frozen=True)
class Config(JobConfig):
    d: int = 100                      # input dimension (paper: 1000)
    width: int = 512                  # hidden ReLU units (paper: 100_000)
    r_inner: float = 1.0              # radius of class 0 (paper: 1.0)
    r_outer: float = 1.2              # radius of class 1 (paper: 1.1; larger gap = fewer samples needed)
    margin: float = 4.0               # logit-difference margin to reach (paper: 10)
    target_fraction: float = 0.99     # stop when this fraction of training points has margin >= margin
    lr: float = 0.5                   # SGD step size, no momentum, no weight decay
    batch_size: int = 32              # SGD minibatch
    ns: tuple = (64, 256, 1024)       # training-set sizes, increasing
    test_points: int = 4000           # test points, shared by every n of a seed (SE of the test error <= 0.008)
    max_steps: int = 20_000           # guard: a network stops (converged=False) after this many SGD steps
    max_logit: float = 1e6            # divergence guard: |logit| beyond this raises DivergenceError
    dtype: str = "float32"            # parameter / data dtype
    loss: str = "softmax"             # "softmax": softmax cross-entropy over the 2 logits; "sigmoid": mean
                                      #   per-logit sigmoid BCE against one-hot targets (authors' notebook)
    init: str = "torch"               # "torch": U(+-1/sqrt(fan_in)) weights and biases; "xavier": Glorot-uniform
                                      #   weights and biases (TF get_variable default, authors' notebook)
    shuffle: bool = True              # True: a fresh order every epoch; False: the same order (authors' notebook);
                                      #   either way floor(n / batch_size) full batches per epoch

    def __post_init__(self):
        check_int("d", self.d, min_value=2)
        check_int("width", self.width, min_value=1)
        check_real("r_inner", self.r_inner, min_value=0, include_min=False)
        check_real("r_outer", self.r_outer, min_value=self.r_inner, include_min=False)
        check_real("margin", self.margin, min_value=0, include_min=False)
        check_real("target_fraction", self.target_fraction, min_value=0, max_value=1, include_min=False)
        check_real("lr", self.lr, min_value=0, include_min=False)
        check_int("batch_size", self.batch_size, min_value=1)
        check_int("test_points", self.test_points, min_value=1)
        check_int("max_steps", self.max_steps, min_value=1)
        check_real("max_logit", self.max_logit, min_value=0, include_min=False)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={self.dtype!r}, must be one of 'float32', 'float64'")
        if self.loss not in ("softmax", "sigmoid"):
            raise ValueError(f"loss={self.loss!r}, must be one of 'softmax', 'sigmoid'")
        if self.init not in ("torch", "xavier"):
            raise ValueError(f"init={self.init!r}, must be one of 'torch', 'xavier'")
        if not isinstance(self.shuffle, bool):
            raise ValueError(f"shuffle={self.shuffle!r}, must be True or False")
        ns = tuple(self.ns)
        if not ns:
            raise ValueError("ns=(), must be a non-empty increasing tuple of sizes >= 2")
        for n in ns:
            check_int("ns[i]", n, min_value=2)
        if any(b <= a for a, b in zip(ns, ns[1:])):
            raise ValueError(f"ns={ns}, must be strictly increasing")
        object.__setattr__(self, "ns", ns)


HypersphereConfig = Config
"""The experiment's configuration (the job's ``Config``)."""

PROFILES: dict[str, Config] = {
    # CPU, seconds: small d / width / n, larger radius gap and smaller margin so SGD reaches the
    # stopping rule in a few thousand steps; already shows S' error ~1 with falling test error.
    "smoke": Config(profile="smoke"),
    # cpu: the CPU evidence (PILOTS.md): the notebook's Part-2 recipe (sigmoid loss, Xavier, fixed
    # order, lr 0.5, batch 64, margin 8 on 99%) at d = 200, width 1000, n = 256..2048 (n <= 10 d, where
    # S' error was 1.000 for every seed while the test error halved; at n = 41 d the net learns the
    # radial rule and S' error falls to ~0.5). ~6 CPU min.
    "cpu": Config(profile="cpu", d=200, width=1000, r_outer=1.2, margin=8.0, lr=0.5, batch_size=64,
                  ns=(256, 512, 1024, 2048), test_points=4096, max_steps=400_000, loss="sigmoid", init="xavier",
                  shuffle=False, n_seeds=3),
    # one GPU (~10 min): the authors' public notebook, Part 2 (FLAGS_2): d = 500, radii 1 / 1.2, width
    # 10k, 2 layers, SGD lr 0.5, batch 64, sigmoid cross-entropy, Xavier init, stop when <= 1% of S has
    # margin < 8, 4096 test points; n in {512, ..., 4096} (n <= ~8 d, the range where the CPU pilot at
    # d = 200 kept S' error at 1; the notebook's 8192 = 16 d may already be past it), 5 seeds.
    "small": Config(profile="small", d=500, width=10_000, r_outer=1.2, margin=8.0, lr=0.5, batch_size=64,
                    ns=(512, 1024, 2048, 4096), test_points=4096, max_steps=400_000, loss="sigmoid", init="xavier",
                    shuffle=False, precision="tf32", n_seeds=5),
    # paper scale: d = 1000, radii 1 / 1.1, 100k hidden units, margin 10 on 99% of S (Fig. 2 left).
    # lr, batch size, loss, init and order follow the notebook; ns = 2^12..2^16 is our choice.
    "full": Config(profile="full", d=1000, width=100_000, r_outer=1.1, margin=10.0, lr=0.5, batch_size=64,
                   ns=(4096, 8192, 16384, 32768, 65536), test_points=10_000, max_steps=1_000_000, loss="sigmoid",
                   init="xavier", shuffle=False, precision="tf32"),
}


def validate(cfg: Config) -> None:
    if min(cfg.ns) < cfg.batch_size:
        raise ValueError(f"ns={cfg.ns}: every n needs at least one full batch of batch_size={cfg.batch_size}")


# --------------------------------------------------------------------------- data and model

def make_data(cfg: Config, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points, labels uniform in {0, 1}, x uniform on the sphere of radius r_y. CPU tensors (n, d), (n,)."""
    n = check_int("n", n, min_value=1)
    dtype = getattr(torch, cfg.dtype)
    y = torch.randint(0, 2, (n,), generator=generator)                         # (n,)
    g = torch.randn(n, cfg.d, generator=generator, dtype=dtype)                 # (n, d)
    r = torch.where(y == 1, cfg.r_outer, cfg.r_inner).to(dtype)                 # (n,)
    return g / g.norm(dim=1, keepdim=True) * r[:, None], y


def project_to_other_sphere(cfg: Config, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """S': each point moved radially onto the other sphere, label flipped."""
    scale = torch.where(y == 1, cfg.r_inner / cfg.r_outer, cfg.r_outer / cfg.r_inner).to(x.dtype)  # (n,)
    return x * scale[:, None], 1 - y


def make_model(cfg: Config, generator: torch.Generator | None = None) -> nn.Sequential:
    """d -> width (ReLU) -> 2 logits, drawn from ``generator``.

    init="torch": weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default);
    init="xavier": weights U(-a, a), a = sqrt(6 / (fan_in + fan_out)), and biases Glorot-uniform as a
    (1, fan_out) variable, a = sqrt(6 / (1 + fan_out)) (TF ``get_variable`` default; authors' notebook).
    """
    dtype = getattr(torch, cfg.dtype)
    model = nn.Sequential(nn.Linear(cfg.d, cfg.width, dtype=dtype), nn.ReLU(), nn.Linear(cfg.width, 2, dtype=dtype))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            fan_in, fan_out = layer.in_features, layer.out_features
            if cfg.init == "torch":
                bw = bb = 1.0 / math.sqrt(fan_in)
            else:
                bw, bb = math.sqrt(6.0 / (fan_in + fan_out)), math.sqrt(6.0 / (1 + fan_out))
            nn.init.uniform_(layer.weight, -bw, bw, generator=generator)
            nn.init.uniform_(layer.bias, -bb, bb, generator=generator)
    return model


class Stacked2Layer(nn.Module):
    """M two-layer ReLU networks as stacked tensors: W1 (M, d, width), b1 (M, 1, width),
    W2 (M, width, 2), b2 (M, 1, 2); ``forward(x (M, B, d)) -> (M, B, 2)`` with two ``baddbmm``.

    >>> cfg = Config(d=3, width=4)
    >>> nets = [make_model(cfg, torch.Generator().manual_seed(i)) for i in range(2)]
    >>> x = torch.randn(2, 5, 3)
    >>> bool(torch.allclose(Stacked2Layer.of(nets)(x)[1], nets[1](x[1]), atol=1e-6))
    True
    """

    def __init__(self, M: int, d: int, width: int, dtype=torch.float32, device=None):
        super().__init__()
        kw = {"dtype": dtype, "device": device}
        self.W1 = nn.Parameter(torch.empty(M, d, width, **kw))
        self.b1 = nn.Parameter(torch.empty(M, 1, width, **kw))
        self.W2 = nn.Parameter(torch.empty(M, width, 2, **kw))
        self.b2 = nn.Parameter(torch.empty(M, 1, 2, **kw))

    @classmethod
    def of(cls, nets: list[nn.Sequential]) -> "Stacked2Layer":
        w = nets[0][0].weight
        out = cls(len(nets), w.shape[1], w.shape[0], w.dtype, w.device)
        with torch.no_grad():
            out.W1.copy_(torch.stack([m[0].weight.T for m in nets]))
            out.b1.copy_(torch.stack([m[0].bias[None] for m in nets]))
            out.W2.copy_(torch.stack([m[2].weight.T for m in nets]))
            out.b2.copy_(torch.stack([m[2].bias[None] for m in nets]))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.baddbmm(self.b1, x, self.W1).relu_()                # (M, B, width)
        return torch.baddbmm(self.b2, h, self.W2)                     # (M, B, 2)

    def keep(self, rows: list[int]) -> None:
        """Keep only the networks ``rows`` (the others have finished)."""
        with torch.no_grad():
            for name in ("W1", "b1", "W2", "b2"):
                setattr(self, name, nn.Parameter(getattr(self, name)[rows].clone()))


@torch.no_grad()
def margins(model, x: torch.Tensor, y: torch.Tensor, chunk: int = 8192, amp=contextlib.nullcontext) -> torch.Tensor:
    """margin(x, y) = f_y(x) - f_{1-y}(x) for every row, in chunks, on the device. Shape (n,).

    ``model``: an ``nn.Sequential`` (x (n, d)) or a one-network :class:`Stacked2Layer`."""
    out = []
    for i in range(0, x.shape[0], chunk):
        xb = x[i:i + chunk]
        with amp():
            f = (model(xb[None])[0] if isinstance(model, Stacked2Layer) else model(xb)).float()   # (b, 2)
        yy = y[i:i + chunk]
        out.append(f.gather(1, yy[:, None])[:, 0] - f.gather(1, (1 - yy)[:, None])[:, 0])
    return torch.cat(out)


# --------------------------------------------------------------------------- the batched trainer

def _member_sets(cfg: Config, seed: int, n: int):
    """The training set of (seed, n): independent for every n (the notebook draws one per size)."""
    return make_data(cfg, n, generator(seed, "hypersphere-train", n))


def _test_set(cfg: Config, seed: int):
    """The seed's test set, shared by every n (the notebook's ``test_inputs_2``)."""
    return make_data(cfg, cfg.test_points, generator(seed, "hypersphere-test"))


def _init(cfg: Config, seed: int) -> nn.Sequential:
    """The seed's initial network, the same for every n (the notebook restores ``initial_weights_2``)."""
    return make_model(cfg, generator(seed, "hypersphere-init"))


def _loss(cfg: Config, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over the M networks of each network's mean loss on its batch (logits (M, B, 2))."""
    B = logits.shape[1]
    if cfg.loss == "softmax":
        return F.cross_entropy(logits.reshape(-1, 2).float(), y.reshape(-1), reduction="sum") / B
    target = F.one_hot(y, 2).to(torch.float32)
    return F.binary_cross_entropy_with_logits(logits.float(), target, reduction="sum") / (2 * B)


def train_members(ctx, members: list[tuple[int, int]]) -> list[dict]:
    """Train the networks ``members = [(seed, n), ...]`` together until each meets the margin rule.

    Network (s, n) starts from seed s's initialisation, trains on its own training set in its own
    order, and stops at the end of the first epoch after which its margin rule holds (or at
    ``max_steps``); it then leaves the stack and is measured. Raises DivergenceError on a non-finite
    loss or |logits| > ``max_logit`` (read once per epoch end).
    """
    cfg, rn, device = ctx.cfg, ctx.run, ctx.device
    dtype = getattr(torch, cfg.dtype)
    B, M, d = cfg.batch_size, len(members), cfg.d
    meta = device.type == "meta"
    steps_per_epoch = [n // B for _, n in members]
    if min(steps_per_epoch) < 1:
        raise ValueError(f"ns={[n for _, n in members]}: every n needs a full batch of batch_size={B}")
    n_max = max(n for _, n in members)
    X = torch.zeros(M, n_max, d, dtype=dtype, device=device)
    Y = torch.zeros(M, n_max, dtype=torch.long, device=device)
    tests, sets = {}, []
    for i, (s, n) in enumerate(members):
        x, y = _member_sets(cfg, s, n)
        X[i, :n], Y[i, :n] = x.to(device), y.to(device)
        sets.append((x.to(device), y.to(device)))
        if s not in tests:
            xt, yt = _test_set(cfg, s)
            tests[s] = (xt.to(device), yt.to(device))
    if meta:
        model = Stacked2Layer(M, d, cfg.width, dtype, device)
        init_norm = [float("nan")] * M
    else:
        model = Stacked2Layer.of([_init(cfg, s) for s, _ in members]).to(device)
        init_norm = model.W1.detach().flatten(1).norm(dim=1).tolist()   # a fingerprint of each start
    flops = 6.0 * (d * cfg.width + 2 * cfg.width)                   # 3 x forward FLOPs per sample
    active = list(range(M))
    E = torch.tensor(steps_per_epoch, device=device)
    orders = torch.arange(n_max, device=device).repeat(M, 1)        # (M, n_max): row i = member i's order
    if cfg.shuffle:
        for i, (s, n) in enumerate(members):
            orders[i, :n] = torch.randperm(n, generator=generator(s, "hypersphere-order", n, 0)).to(device)
    ar = torch.arange(B, device=device)
    out: list[dict | None] = [None] * M
    bad = torch.zeros((), dtype=torch.bool, device=device)
    worst = torch.zeros((), device=device)
    t, untimed = 0, 0
    t0 = time.perf_counter()
    while active:
        rows = torch.tensor(active, device=device)
        idx = orders[rows].gather(1, ((t % E[rows]) * B)[:, None] + ar)            # (Ma, B)
        xb = X[rows].gather(1, idx[..., None].expand(-1, -1, d))                    # (Ma, B, d)
        yb = Y[rows].gather(1, idx)                                                 # (Ma, B)
        timed = untimed >= ctx.warmup_steps
        untimed += 1
        if timed:
            rn.timer.start()
        with ctx.amp():
            logits = model(xb)                                                      # (Ma, B, 2)
        loss = _loss(cfg, logits, yb)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            torch._foreach_add_(list(model.parameters()), grads, alpha=-cfg.lr)     # plain SGD
        if timed:
            rn.timer.stop()
        t += 1
        rn.count_step(len(active) * B, len(active) * B * flops, timed)
        if meta:
            return [{"shape": tuple(logits.shape)}]
        with torch.no_grad():
            bad |= ~torch.isfinite(loss.detach())
            worst = torch.maximum(worst, torch.nan_to_num(logits.detach().abs().amax().float(), nan=math.inf))
        ends = [j for j, i in enumerate(active) if t % steps_per_epoch[i] == 0]
        if ends or t >= cfg.max_steps:
            if bool(bad) or float(worst) > cfg.max_logit:                           # one sync per epoch end
                raise DivergenceError(f"hypersphere {[members[i] for i in active]}: max|logit| = {float(worst):.3g} > "
                                      f"max_logit={cfg.max_logit:g} or a non-finite loss by step {t}; lower lr={cfg.lr}")
            done = []
            for j in ends if t < cfg.max_steps else range(len(active)):
                i = active[j]
                net = _slice(model, j)
                frac = float((margins(net, *sets[i], amp=ctx.amp) >= cfg.margin).float().mean())
                if frac >= cfg.target_fraction or t >= cfg.max_steps:
                    out[i] = _measure(cfg, ctx, net, sets[i], tests[members[i][0]], members[i], frac,
                                      converged=frac >= cfg.target_fraction, steps=t, epochs=t // steps_per_epoch[i])
                    done.append(j)
                elif cfg.shuffle:
                    s, n = members[i]
                    orders[i, :n] = torch.randperm(n, generator=generator(s, "hypersphere-order", n,
                                                                          t // steps_per_epoch[i])).to(device)
            if done:
                keep = [j for j in range(len(active)) if j not in done]
                active = [active[j] for j in keep]
                if active:
                    model.keep(keep)
        rn.check_interrupt()
    seconds = time.perf_counter() - t0
    for r, w in zip(out, init_norm):
        r.update(seconds=seconds, init_w1_norm=w)
    return out


def _slice(model: Stacked2Layer, j: int) -> Stacked2Layer:
    one = Stacked2Layer.__new__(Stacked2Layer)
    nn.Module.__init__(one)
    for name in ("W1", "b1", "W2", "b2"):
        one.register_parameter(name, nn.Parameter(getattr(model, name)[j:j + 1].detach(), requires_grad=False))
    return one


def _error(net, x, y, amp) -> float:
    return float((margins(net, x, y, amp=amp) < 0).float().mean())


def _measure(cfg, ctx, net, train_set, test_set, member, frac, *, converged, steps, epochs) -> dict:
    x, y = train_set
    xs, ys = project_to_other_sphere(cfg, x, y)
    return {"n": member[1], "seed": member[0], "test_error": _error(net, *test_set, ctx.amp),
            "s_prime_error": _error(net, xs, ys, ctx.amp), "train_error": _error(net, x, y, ctx.amp),
            "margin_fraction": frac, "converged": converged, "steps": steps, "epochs": epochs,
            "test_points": cfg.test_points}


def _context(cfg: Config, seed: int, device) -> driver.Context:
    """A context for running the experiment outside the driver (no files)."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return driver.Context(Run(JOB, cfg.profile, cfg, seed=seed, device=dev, out_dir=None, progress=False), cfg, (seed,))


def train(cfg: Config, n: int, seed: int, device: "str | torch.device | None" = None) -> dict:
    """Train the one network (seed, n) until the margin rule holds; its train / test / S' errors.

    Deterministic given (cfg, n, seed) on a given device. Raises DivergenceError on a non-finite
    loss or |logits| > cfg.max_logit; stops with converged=False at cfg.max_steps.
    """
    n = check_int("n", n, min_value=2)
    seed = check_int("seed", seed, min_value=0)
    if n < cfg.batch_size:
        raise ValueError(f"n={n} < batch_size={cfg.batch_size}: no full batch to train on")
    return train_members(_context(cfg, seed, device), [(seed, n)])[0]


def sweep(cfg_or_profile="smoke", seed: int = 0, device: "str | torch.device | None" = None) -> dict:
    """One seed at every n of a profile (all n trained together): per-n results plus parallel
    lists (n, test_error, s_prime_error). Pure: no files written."""
    if isinstance(cfg_or_profile, Config):
        name, cfg = "custom", cfg_or_profile
    elif isinstance(cfg_or_profile, str) and cfg_or_profile in PROFILES:
        name, cfg = cfg_or_profile, PROFILES[cfg_or_profile]
    else:
        raise ValueError(f"cfg_or_profile={cfg_or_profile!r}, must be a Config or one of {sorted(PROFILES)}")
    seed = check_int("seed", seed, min_value=0)
    res = train_members(_context(cfg, seed, device), [(seed, n) for n in cfg.ns])
    return {"profile": name, "config": dataclasses.asdict(cfg), "seed": seed, "device": str(device),
            "torch": torch.__version__, "results": res, "n": [r["n"] for r in res],
            "test_error": [r["test_error"] for r in res], "s_prime_error": [r["s_prime_error"] for r in res]}


# --------------------------------------------------------------------------- the job

def units(ctx) -> list[Unit]:
    """Batched: all (seed, n) networks as one unit; else one unit per (seed, n)."""
    keys = [(s, n) for s in ctx.seeds for n in ctx.cfg.ns]
    names = tuple(f"n{n}-seed{s}" for s, n in keys)
    if ctx.group(conv=False):
        return [Unit(f"all-seeds{ctx.seeds[0]}-{ctx.seeds[-1]}", names, tuple(keys))]
    return [Unit(m, (m,), (k,)) for m, k in zip(names, keys)]


def train_unit(ctx, unit: Unit) -> dict:
    return dict(zip(unit.members, train_members(ctx, list(unit.spec))))


def measurements(ctx, members: dict) -> dict:
    cfg, seeds = ctx.cfg, list(ctx.seeds)

    def grid(key):   # (seeds, ns)
        return [[members[f"n{n}-seed{s}"][key] for n in cfg.ns] for s in seeds]

    return {"n": list(cfg.ns), "seeds": seeds, "test_error": grid("test_error"), "s_prime_error": grid("s_prime_error"),
            "train_error": grid("train_error"), "steps": grid("steps"), "converged": grid("converged")}


def figure(result: dict, out_dir) -> list[str]:
    """Test error and S' error vs n (seed mean, range as band)."""
    m = result["measurements"]

    def draw(ax):
        for key, label in (("test_error", "test error"), ("s_prime_error", "error on $S'$")):
            a = np.array(m[key])
            ax.plot(m["n"], a.mean(0), marker="o", ms=3, label=label)
            ax.fill_between(m["n"], a.min(0), a.max(0), alpha=0.25, lw=0)
        ax.set_xscale("log")
        ax.set_xticks(m["n"], [str(int(v)) for v in m["n"]])
        ax.minorticks_off()
        ax.set_xlabel("training samples n")
        ax.set_ylabel("error")
        ax.legend(frameon=False)

    return results.save_figure(draw, out_dir, "hypersphere")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, **kw) -> dict:
    """Run this job (:func:`gpu_validation.driver.run`)."""
    return driver.run(sys.modules[__name__], profile, seed, device, out_dir, resume, **kw)
