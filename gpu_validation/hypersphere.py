"""Hypersphere experiment of Nagarajan & Kolter (2019): test error falls with n, error on S' stays ~1.

Claim (Nagarajan & Kolter, "Uniform convergence may be unable to explain generalization in deep
learning", NeurIPS 2019, arXiv:1902.04742, Fig. 2 left; sizes as described in seed 004): a 2-layer ReLU net
trained by SGD on two concentric spheres (d = 1000, radii 1 and 1.1, label = which sphere, 100k
hidden units) until 99% of the training points have margin >= 10 has a test error that falls
with n, yet it misclassifies nearly all of S' = the training points projected onto the other
sphere with flipped labels. S' is distributed like a training set, so every two-sided
uniform-convergence bound is >= ~1 (vacuous) while the true gap is small. (Authors' notebook,
locuslab/uniform-convergence-NeurIPS19: "we design the bad dataset S' merely by projecting every
point in S to its opposite hypersphere and flipping its label"; their Lemma 1: if h_S misclassifies
S' completely and S' ~ D^m, then the tightest uniform-convergence bound is >= 1 - eps.)

Definitions (used everywhere below):
  label y in {0, 1}: 0 = inner sphere (radius r_inner), 1 = outer sphere (r_outer); x = r_y g/||g||, g ~ N(0, I_d).
  logits f(x) in R^2; margin(x, y) = f_y(x) - f_{1-y}(x)  (logit difference; error iff margin < 0).
  stop training when the fraction of training points with margin >= cfg.margin is >= cfg.target_fraction.
  S' = {(x_i r_{1-y_i} / r_{y_i}, 1 - y_i)}: each training point projected radially onto the other sphere.

Usage (pure: returns a dict, writes nothing; the suite runner ``hypersphere_job.py`` stores results):

    from claimcheck.gpu_validation import hypersphere as hs
    res = hs.run("smoke", seed=0)                 # CPU, ~3 s
    res = hs.run("small", seed=0, device="cuda")  # one GPU, minutes
    [(r["n"], r["test_error"], r["s_prime_error"]) for r in res["results"]]

Training conventions: SGD (no momentum / weight decay) on minibatches; the margin rule is checked
once per epoch. ``loss``, ``init`` and ``shuffle`` select softmax vs sigmoid cross-entropy, PyTorch
vs Xavier init, and reshuffled vs fixed-order batches; ``small`` and ``full`` use the authors'
notebook conventions (sigmoid, Xavier, fixed order), ``smoke`` keeps softmax / PyTorch init / shuffling.

Evidence (smoke profile, CPU, 1 thread, torch 2.13, seed 0): test error 0.48 -> 0.43 -> 0.24
for n = 64, 256, 1024 (4000 test points each) while the error on S' is 1.0 at every n; ~2 s of training.
Profile ``small`` is the authors' notebook setting, ``full`` the paper's sizes (see PROFILES for which
values are from where); both are unmeasured here.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from claimcheck.theory.validation import check_int, check_real

__all__ = ["HypersphereConfig", "PROFILES", "DivergenceError", "make_data", "project_to_other_sphere", "make_model",
           "margins", "train", "run"]


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or exploding logits."""


@dataclass(frozen=True)
class HypersphereConfig:
    d: int = 100                      # input dimension (paper: 1000)
    width: int = 512                  # hidden ReLU units (paper: 100_000)
    r_inner: float = 1.0              # radius of class 0 (paper: 1.0)
    r_outer: float = 1.2              # radius of class 1 (paper: 1.1; larger gap = fewer samples needed)
    margin: float = 4.0               # logit-difference margin to reach (paper: 10)
    target_fraction: float = 0.99     # stop when this fraction of training points has margin >= margin (paper: 0.99)
    lr: float = 0.5                   # SGD step size, no momentum, no weight decay
    batch_size: int = 32              # SGD minibatch (sampled without replacement each epoch)
    ns: tuple = (64, 256, 1024)       # training-set sizes, increasing
    test_points: int = 4000           # fresh test points per n (SE of the test error <= 0.008)
    max_steps: int = 20_000           # guard: stop (converged=False) after this many SGD steps
    max_logit: float = 1e6            # divergence guard: |logit| beyond this raises DivergenceError
    dtype: str = "float32"            # parameter / data dtype
    loss: str = "softmax"             # "softmax": softmax cross-entropy over the 2 logits; "sigmoid": mean
                                      #   per-logit sigmoid BCE against one-hot targets (authors' notebook)
    init: str = "torch"               # "torch": U(+-1/sqrt(fan_in)) weights and biases; "xavier": Glorot-uniform
                                      #   weights and biases (TF get_variable default, authors' notebook)
    shuffle: bool = True              # True: reshuffle every epoch, last batch may be short; False: fixed
                                      #   order, floor(n / batch_size) full batches per epoch (authors' notebook)

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


PROFILES: dict[str, HypersphereConfig] = {
    # CPU, seconds: small d / width / n, larger radius gap and smaller margin so SGD reaches the
    # stopping rule in a few thousand steps; already shows S' error ~1 with falling test error.
    "smoke": HypersphereConfig(),
    # one GPU: exactly the authors' public notebook, Part 2 (locuslab/uniform-convergence-NeurIPS19,
    # uniform-convergence.ipynb, FLAGS_2): d = 500, radii 1 / 1.2, width 10k, 2 layers, SGD lr 0.5,
    # batch 64, sigmoid cross-entropy, Xavier init, stop when <= 1% of S has margin < 8,
    # n in {1024, ..., 8192}, 4096 test points. (The notebook calls it "a slightly modified
    # version of the hypersphere classification example from the paper".) Unmeasured here.
    "small": HypersphereConfig(d=500, width=10_000, r_outer=1.2, margin=8.0, lr=0.5, batch_size=64,
                               ns=(1024, 2048, 4096, 8192), test_points=4096, max_steps=200_000,
                               loss="sigmoid", init="xavier", shuffle=False),
    # paper scale: d = 1000, radii 1 / 1.1, 100k hidden units, margin 10 on 99% of S (NeurIPS 2019
    # Fig. 2 left, as described in seed 004; the paper's own text was not retrievable here).
    # lr, batch size and the n grid are NOT from the paper: lr / batch / loss / init / order follow the
    # authors' notebook, ns = 2^12..2^16 is our choice. Unmeasured here.
    "full": HypersphereConfig(d=1000, width=100_000, r_outer=1.1, margin=10.0, lr=0.5, batch_size=64,
                              ns=(4096, 8192, 16384, 32768, 65536), test_points=10_000, max_steps=1_000_000,
                              loss="sigmoid", init="xavier", shuffle=False),
}


def _resolve(cfg_or_profile) -> tuple[str, HypersphereConfig]:
    if isinstance(cfg_or_profile, HypersphereConfig):
        return "custom", cfg_or_profile
    if isinstance(cfg_or_profile, str) and cfg_or_profile in PROFILES:
        return cfg_or_profile, PROFILES[cfg_or_profile]
    raise ValueError(f"cfg_or_profile={cfg_or_profile!r}, must be a HypersphereConfig or one of {sorted(PROFILES)}")


def make_data(cfg: HypersphereConfig, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points, labels uniform in {0, 1}, x uniform on the sphere of radius r_y. CPU tensors (n, d), (n,)."""
    n = check_int("n", n, min_value=1)
    dtype = getattr(torch, cfg.dtype)
    y = torch.randint(0, 2, (n,), generator=generator)                         # (n,)
    g = torch.randn(n, cfg.d, generator=generator, dtype=dtype)                 # (n, d)
    r = torch.where(y == 1, cfg.r_outer, cfg.r_inner).to(dtype)                 # (n,)
    return g / g.norm(dim=1, keepdim=True) * r[:, None], y


def project_to_other_sphere(cfg: HypersphereConfig, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """S': each point moved radially onto the other sphere, label flipped."""
    scale = torch.where(y == 1, cfg.r_inner / cfg.r_outer, cfg.r_outer / cfg.r_inner).to(x.dtype)  # (n,)
    return x * scale[:, None], 1 - y


def make_model(cfg: HypersphereConfig, generator: torch.Generator | None = None) -> nn.Sequential:
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


@torch.no_grad()
def margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """margin(x, y) = f_y(x) - f_{1-y}(x) for every row, evaluated in chunks. Shape (n,)."""
    out = []
    for i in range(0, x.shape[0], chunk):
        f = model(x[i:i + chunk])                                               # (b, 2)
        yy = y[i:i + chunk]
        out.append(f.gather(1, yy[:, None])[:, 0] - f.gather(1, (1 - yy)[:, None])[:, 0])
    return torch.cat(out)


def _error(model, x, y) -> float:
    return float((margins(model, x, y) < 0).float().mean())


def train(cfg: HypersphereConfig, n: int, seed: int, device: "str | torch.device | None" = None) -> dict:
    """Train one net on n points with SGD until the margin rule holds; measure train / test / S' errors.

    Deterministic given (cfg, n, seed) on a given device. Raises DivergenceError on a
    non-finite loss or |logits| > cfg.max_logit; stops with converged=False at cfg.max_steps.
    """
    n = check_int("n", n, min_value=2)
    seed = check_int("seed", seed, min_value=0)
    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed * 1_000_003 + n)                    # data, init and order all from here
    x, y = make_data(cfg, n, g)
    xt, yt = make_data(cfg, cfg.test_points, g)
    model = make_model(cfg, g).to(device)
    x, y, xt, yt = x.to(device), y.to(device), xt.to(device), yt.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    if cfg.loss == "softmax":
        loss_fn = nn.CrossEntropyLoss()
    else:                                                                       # mean BCE over (b, 2) one-hot targets
        bce = nn.BCEWithLogitsLoss()
        loss_fn = lambda logits, labels: bce(logits, nn.functional.one_hot(labels, 2).to(logits.dtype))  # noqa: E731
    n_used = n if cfg.shuffle else (n // cfg.batch_size) * cfg.batch_size
    if n_used == 0:
        raise ValueError(f"n={n} < batch_size={cfg.batch_size} with shuffle=False: no full batch to train on")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    steps, epochs, converged = 0, 0, False
    while True:
        frac = float((margins(model, x, y) >= cfg.margin).float().mean())
        if frac >= cfg.target_fraction:
            converged = True
            break
        if steps >= cfg.max_steps:
            break
        perm = (torch.randperm(n, generator=g) if cfg.shuffle else torch.arange(n)).to(device)  # (n,)
        worst = torch.zeros((), device=device)                                  # max |logit| this epoch (no per-step sync)
        for i in range(0, n_used, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            logits = model(x[idx])                                              # (b, 2)
            loss = loss_fn(logits, y[idx])
            worst = torch.maximum(worst, torch.nan_to_num(logits.detach().abs().max() + 0 * loss.detach(), nan=math.inf))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            if steps >= cfg.max_steps:
                break
        epochs += 1
        if float(worst) > cfg.max_logit:                                        # one sync per epoch
            raise DivergenceError(f"hypersphere n={n} seed={seed}: max|logit| = {float(worst):.3g} > max_logit="
                                  f"{cfg.max_logit:g} or a non-finite loss by step {steps}; lower lr={cfg.lr}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    xs, ys = project_to_other_sphere(cfg, x, y)
    return {
        "n": n,
        "test_error": _error(model, xt, yt),
        "s_prime_error": _error(model, xs, ys),
        "train_error": _error(model, x, y),
        "margin_fraction": frac,
        "converged": converged,
        "steps": steps,
        "epochs": epochs,
        "seconds": seconds,
        "samples_per_s": steps * cfg.batch_size / seconds if seconds > 0 else float("nan"),
        "test_points": cfg.test_points,
    }


def run(cfg_or_profile="smoke", seed: int = 0, device: "str | torch.device | None" = None) -> dict:
    """Train at every n of the profile; per-n results plus parallel lists (n, test_error, s_prime_error).

    Pure: no files written. ``device=None`` uses CUDA when available, else CPU.
    """
    name, cfg = _resolve(cfg_or_profile)
    seed = check_int("seed", seed, min_value=0)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    results = [train(cfg, n, seed, device) for n in cfg.ns]
    return {
        "profile": name,
        "config": dataclasses.asdict(cfg),
        "seed": seed,
        "device": str(device),
        "torch": torch.__version__,
        "results": results,
        "n": [r["n"] for r in results],
        "test_error": [r["test_error"] for r in results],
        "s_prime_error": [r["s_prime_error"] for r in results],
    }
