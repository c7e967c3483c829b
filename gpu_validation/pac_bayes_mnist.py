"""A non-vacuous PAC-Bayes bound for a trained network on MNIST (risk certificate).

Claim (seed 003; Dziugaite & Roy 2017, "Computing nonvacuous generalization bounds for deep
(stochastic) neural networks with many more parameters than training data"; Perez-Ortiz,
Rivasplata, Shawe-Taylor & Szepesvari 2021, "Tighter risk certificates for neural networks",
JMLR 22): optimising a Gaussian posterior Q = N(mu, diag sigma^2) around a trained network
against a PAC-Bayes objective gives a *non-vacuous* bound (< 1) on the test error of Q, and
the bound holds: the held-out error of Q does not exceed it.

Recipe (PBB, mperezortiz/PBB: ``pbb/utils.py`` ``runexp``, ``pbb/bounds.py``, ``pbb/models.py``;
"f_classic" objective, data-dependent prior):

1. split the data into a prior set, a bound set (n samples) and an evaluation set;
2. train the prior mean w_P on the prior set: PBB's ``NNet4l`` (784-600-600-600-10, ReLU,
   truncated-normal init with std 1/sqrt(fan_in) cut at +-2 std, zero biases, dropout 0.2 after
   each hidden layer) by SGD lr 0.005 momentum 0.99 (``small`` / ``full``); prior
   P = N(w_P, sigma_P^2 I) for each sigma_P in a grid of k values (the reported one is the best,
   charged ln k: ``theory.pac_bayes.maurer_bound(..., k)``);
3. optimise Q, initialised at (w_P, sigma_P), by SGD lr 0.001 momentum 0.95 on
   E_Q[bounded cross-entropy]/ln(1/p_min) + sqrt((KL(Q||P) + ln(2 sqrt n/delta)) / (2n)),
   p_min = 1e-5, reparameterised weights with one draw per batch, on the prior and bound sets
   together (``posterior_data="all"``, as PBB: Q may depend on any data; the bound's empirical
   risk uses the bound set only);
4. certificate: the empirical risk of Q on the bound set is estimated from ``mc_samples`` weight
   draws and upper-bounded by the sample-convergence bound kl^-1(R_mc, ln(2/delta')/m) (Langford &
   Caruana 2001), then ``maurer_bound(R_upper, KL, n, delta, k)``; it holds with probability
   >= 1 - delta - delta' (delta = 0.025, delta' = 0.01 as PBB).

Baselines (same sigma_P grid, same MC draws, same delta / delta' / ln k accounting, KL = 0):
``prior_only_bound``, the certificate of Q = P around the trained prior mean (what the posterior
step has to beat: PBB's posterior is worth its KL only if it lowers the certificate below this),
and ``untrained_prior_bound``, Q = P around the untrained initialisation (the data-free anchor).

Faithful to PBB (checked against mperezortiz/PBB ``running_example.py``, ``pbb/utils.py``): the
784-600-600-600-10 net with PBB's init and dropout 0.2 for the prior, SGD lr 0.005 momentum 0.99 for
70 prior epochs, SGD lr 0.001 momentum 0.95 for the posterior, batch 250, p_min 1e-5, delta 0.025,
delta' 0.01, the prior learned on a data split disjoint from the bound set, the posterior trained on
all data. Deviations, kept: a grid of prior scales charged ln k (PBB fixes sigma_P = 0.03; ``cpu``
uses 0.03 alone); the objective's n is the bound set's size (PBB uses the size of the posterior's
training set); PBB's paper splits 60k MNIST training images 50/50 (``perc_prior = 0.5``), ``cpu`` and
``small`` split the packaged 10k MNIST *test* images 5,000 / 4,000 / 1,000 (no training files ship),
``full`` 30k / 30k of a user's MNIST directory; MC draws for the certificate: PBB's paper 150,000
(``full``), its running example 1,000, ``small`` 10,000, ``cpu`` 300 (the MC slack kl^-1 term is
then ~0.06 at an error of 0.06; CPU cost); posterior epochs: PBB 100 (``small``, ``full``), ``cpu``
50 (CPU cost); ``smoke`` keeps Adam, one hidden layer of 100 and 20 draws (it must finish in about
a second on a CPU).

Decision (:func:`claimcheck.gpu_validation.rules.decide`, applied by the driver): passed if the bound is < 1 and not
contradicted by the evaluation set (the one-sided Clopper-Pearson lower limit at alpha = 1e-6 of
Q's held-out error stays <= the bound); failed if vacuous or violated. Reported beside the seed 003
anchor: the compression bound of Lotfi et al. 2022 on MNIST, 11.6% (n = 60,000; a different bound).

Speed: the posterior's weight noise is drawn on the device, all parameters in one call, from a
generator re-seeded per step (resume draws the same noise); the certificate evaluates
``mc_batch`` weight draws at once (``vmap``) and counts errors on the device (one host read).

    claimcheck gpu pac_bayes_mnist --profile smoke   # CPU, ~1 s: 1000/1000/500 digits, MLP 784-100-10
    claimcheck gpu pac_bayes_mnist --profile cpu     # CPU evidence, ~15 min: PBB's net, sigma_P 0.03, 300 draws
    claimcheck gpu pac_bayes_mnist --profile small   # one GPU: 5000/4000/1000, PBB's 784-600-600-600-10
    claimcheck gpu pac_bayes_mnist --profile full --data-dir MNIST_DIR   # 30k/30k/10k

Evidence: ``cpu`` (``gpu_validation/evidence/pac_bayes_mnist/``, shared 2-core CPU, one thread,
1,963 s wall, 621 s CPU): passed -- certificate 0.122 (MC risk of Q 0.049 on the 4,000 bound
points, 0.101 after the 300-draw kl-inverse; KL 0.03 nats), held-out error of Q 0.048 (prior mean
net 0.038), untrained-prior certificate 0.960; but the posterior step adds nothing: with PBB's SGD
(lr 0.001, momentum 0.95, 50 epochs) Q stays at KL 0.03 nats from P and its certificate equals the
trained prior's own (Q = P: 0.122, difference -0.0002). The certificate's slack is the Monte Carlo
term (0.049 -> 0.101 at 300 draws), which ``small``'s 10,000 draws shrink. ``small`` and ``full``
have not been run on a GPU.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats as sps
from torch import nn
from torch.func import functional_call, vmap

from claimcheck.gpu_validation import driver, loop, results, rules
from claimcheck.gpu_validation.data import load_splits, split
from claimcheck.gpu_validation.driver import JobConfig, Unit
from claimcheck.gpu_validation.models import MLP, forward_flops
from claimcheck.gpu_validation.run import atomic_torch_save, derive_seed, generator, jsonable, seeded_init

JOB = "pac_bayes_mnist"
CLAIM_ID = "gpu.pac_bayes_mnist.nonvacuous"
ANCHOR_MNIST = 0.116  # seed 003 table: compression bound on MNIST (Lotfi et al. 2022)


@dataclass(frozen=True)
class Config(JobConfig):
    n_seeds: int = 1                        # one certificate per run (run other seeds separately)
    ckpt_every: int = 500
    data_dir: str | None = None             # MNIST IDX directory; None: the packaged MNIST test set
    n_prior: int = 1000                     # samples that train the prior mean
    n_bound: int = 1000                     # samples the bound is computed on (n)
    n_eval: int = 500                       # held-out samples that test the bound
    hidden: tuple[int, ...] = (100,)        # MLP hidden widths (PBB: 600, 600, 600)
    init: str = "pbb"                       # MLP init: pbb (truncated normal) | torch
    prior_dropout: float = 0.0              # dropout of the prior net (PBB: 0.2)
    prior_optimizer: str = "adam"           # sgd | adam (PBB: sgd, lr 0.005, momentum 0.99)
    prior_lr: float = 1e-3
    prior_momentum: float = 0.0
    prior_epochs: int = 3                   # epochs for the prior mean
    posterior_optimizer: str = "adam"       # sgd | adam (PBB: sgd, lr 0.001, momentum 0.95)
    posterior_lr: float = 1e-3
    posterior_momentum: float = 0.0
    posterior_epochs: int = 2               # epochs for the posterior
    posterior_data: str = "all"             # all (prior + bound sets, PBB) | bound
    batch_size: int = 128                   # samples per step (PBB: 250)
    prior_sigmas: tuple[float, ...] = (0.03,)  # grid of prior std devs (k = its length, charged ln k)
    p_min: float = 1e-4                     # bounded cross-entropy: probabilities clamped at p_min (PBB: 1e-5)
    delta: float = 0.025                    # confidence of the PAC-Bayes bound (PBB: 0.025)
    delta_mc: float = 0.01                  # confidence of the Monte Carlo estimate of E_Q R_hat (PBB: 0.01)
    mc_samples: int = 20                    # weight draws for the certificate
    mc_batch: int = 16                      # weight draws evaluated together (vmap)
    eval_batch: int = 4096                  # rows per forward in the certificate


_PBB = dict(hidden=(600, 600, 600), prior_dropout=0.2, prior_optimizer="sgd", prior_lr=0.005, prior_momentum=0.99,
            posterior_optimizer="sgd", posterior_lr=0.001, posterior_momentum=0.95, batch_size=250, p_min=1e-5)
PROFILES = {
    "smoke": Config(profile="smoke"),
    # cpu: the CPU evidence: PBB's network and optimisers on the `small` data split, PBB's sigma_P = 0.03
    # alone (k = 1), 50 posterior epochs (PBB: 100) and 300 MC draws (PBB's example: 1,000; paper:
    # 150,000) to fit ~15 min of one core; PILOTS.md measured the MC and posterior costs
    "cpu": Config(profile="cpu", n_prior=5000, n_bound=4000, n_eval=1000, prior_epochs=70, posterior_epochs=50,
                  prior_sigmas=(0.03,), mc_samples=300, mc_batch=16, **_PBB),
    # small (one GPU, ~10 min): PBB's recipe (100 posterior epochs) with a grid of 3 prior scales and
    # 10,000 MC draws, so the Monte Carlo slack (~0.11 at 100 draws, ~0.03 at 1,000) is ~0.005
    "small": Config(profile="small", n_prior=5000, n_bound=4000, n_eval=1000, prior_epochs=70, posterior_epochs=100,
                    prior_sigmas=(0.01, 0.03, 0.1), mc_samples=10_000, mc_batch=64, **_PBB),
    "full": Config(profile="full", n_prior=30000, n_bound=30000, n_eval=10000, prior_epochs=70, posterior_epochs=100,
                   prior_sigmas=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1), mc_samples=150_000, mc_batch=64, ckpt_every=2000,
                   **_PBB),
}


def validate(cfg: Config) -> None:
    if cfg.n_seeds != 1:
        raise ValueError(f"n_seeds={cfg.n_seeds}, must be 1 (one certificate per run; run other seeds with --seed)")
    for name in ("prior_optimizer", "posterior_optimizer"):
        if getattr(cfg, name) not in ("sgd", "adam"):
            raise ValueError(f"{name}={getattr(cfg, name)!r}, must be 'sgd' or 'adam'")
    if cfg.posterior_data not in ("all", "bound"):
        raise ValueError(f"posterior_data={cfg.posterior_data!r}, must be 'all' or 'bound'")
    if not cfg.prior_sigmas or min(cfg.prior_sigmas) <= 0:
        raise ValueError(f"prior_sigmas={cfg.prior_sigmas}, must be a non-empty tuple of values > 0")
    if not 0 < cfg.p_min < 1:
        raise ValueError(f"p_min={cfg.p_min}, must be in (0, 1)")
    if cfg.mc_samples < 1 or cfg.mc_batch < 1:
        raise ValueError(f"mc_samples={cfg.mc_samples}, mc_batch={cfg.mc_batch}: must be >= 1")


class GaussianPosterior(nn.Module):
    """Q = N(mu, diag softplus(rho)^2) over the weights of ``base``; prior P = N(w_P, sigma_P^2 I).

    ``forward`` draws one weight sample -- all parameters in one ``randn`` on the parameters'
    device -- from a generator re-seeded with (seed, sigma_P, ``self.step``), so a resumed run
    draws the same noise at the same step.
    """

    def __init__(self, base: nn.Module, sigma_prior: float, seed: int):
        super().__init__()
        object.__setattr__(self, "base", base)  # not a submodule: its own weights are not trained here
        self.sigma_prior, self.seed, self.step = sigma_prior, seed, 0
        rho0 = math.log(math.expm1(sigma_prior))  # softplus(rho0) = sigma_prior
        named = list(base.named_parameters())
        self.keys = {n: n.replace(".", "__") for n, _ in named}
        self.shapes = {n: p.shape for n, p in named}
        self.mu = nn.ParameterDict({self.keys[n]: nn.Parameter(p.detach().clone()) for n, p in named})
        self.rho = nn.ParameterDict({self.keys[n]: nn.Parameter(torch.full_like(p, rho0)) for n, p in named})
        for n, p in named:
            self.register_buffer("prior__" + self.keys[n], p.detach().clone())
        self.size = sum(p.numel() for _, p in named)
        self._gen: torch.Generator | None = None

    def kl(self) -> torch.Tensor:
        """KL(Q || P) in nats for diagonal Gaussians."""
        total = 0.0
        sp = self.sigma_prior
        for n, k in self.keys.items():
            s = F.softplus(self.rho[k])
            total = total + (torch.log(sp / s) + (s**2 + (self.mu[k] - getattr(self, "prior__" + k)) ** 2) / (2 * sp**2) - 0.5).sum()
        return total

    def noise(self, *parts) -> torch.Tensor:
        """One flat standard-normal draw of all parameters, on the device, seeded by ``parts``."""
        device = next(iter(self.mu.values())).device
        if self._gen is None or self._gen.device != device:
            self._gen = torch.Generator(device=device)
        self._gen.manual_seed(derive_seed(self.seed, *parts))
        return torch.randn(self.size, generator=self._gen, device=device)

    def weights(self, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """mu + sigma * eps, split into the base network's parameters (eps: (P,) or (K, P))."""
        out, i = {}, 0
        lead = eps.shape[:-1]
        for n, k in self.keys.items():
            size = self.mu[k].numel()
            e = eps[..., i:i + size].reshape(*lead, *self.shapes[n])
            out[n] = self.mu[k] + F.softplus(self.rho[k]) * e
            i += size
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.base, self.weights(self.noise("posterior", self.sigma_prior, self.step)), (x,))


class _MeanNet(nn.Module):
    """``base`` evaluated at the posterior mean mu (the deterministic network)."""

    def __init__(self, base: nn.Module, post: GaussianPosterior):
        super().__init__()
        object.__setattr__(self, "_base", base)
        self._w = {n: post.mu[k] for n, k in post.keys.items()}

    def forward(self, x):
        return functional_call(self._base, self._w, (x,))


def units(ctx) -> list[Unit]:
    return [Unit(f"certificate-sigma{s:g}", (f"sigma{s:g}",), s) for s in ctx.cfg.prior_sigmas]


def _data(ctx) -> dict:
    """Prior / bound / eval sets: from the train split when the directory has one (full MNIST), the
    eval set from the test split; else all three from the test set."""
    cfg, seed = ctx.cfg, ctx.run.seed

    def build():
        splits = load_splits("mnist", cfg.data_dir, ctx.device)      # (N, 1, 28, 28)
        if "train" in splits:
            (x_tr, y_tr), (x_ev, y_ev) = splits["train"], splits["test"]
            i_p, i_b = split(x_tr.shape[0], (cfg.n_prior, cfg.n_bound), generator(seed, "split"))
            (i_e,) = split(x_ev.shape[0], (cfg.n_eval,), generator(seed, "eval"))
            sets = {"prior": (x_tr[i_p], y_tr[i_p]), "bound": (x_tr[i_b], y_tr[i_b]), "eval": (x_ev[i_e], y_ev[i_e])}
            used = {"prior_and_bound": "train split", "eval": "test split"}
        else:
            x_all, y_all = splits["test"]
            i_p, i_b, i_e = split(x_all.shape[0], (cfg.n_prior, cfg.n_bound, cfg.n_eval), generator(seed, "split"))
            sets = {"prior": (x_all[i_p], y_all[i_p]), "bound": (x_all[i_b], y_all[i_b]), "eval": (x_all[i_e], y_all[i_e])}
            used = {"prior_and_bound": "test split (no training files)", "eval": "test split"}
        return {**sets, "used": used}

    return ctx.once("data", build)


def _base_net(ctx, in_dim: int) -> nn.Module:
    """The seed's initial network (the prior mean before training; the same draw every time)."""
    cfg = ctx.cfg
    return seeded_init(lambda: MLP(in_dim, cfg.hidden, 10, init=cfg.init, dropout=cfg.prior_dropout), ctx.run.seed,
                       "init", device=ctx.init_device).to(ctx.device)


def _prior(ctx) -> tuple[nn.Module, float]:
    """The prior mean network (trained once per process; stored so a resumed run reuses it)."""
    cfg, rn = ctx.cfg, ctx.run

    def build():
        d = _data(ctx)
        xp, yp = d["prior"]
        in_dim = int(np.prod(xp.shape[1:]))
        base = _base_net(ctx, in_dim)
        flops = 3.0 * forward_flops(base, tuple(xp.shape[1:]))
        path = None if rn.dir is None else rn.dir / "ckpt" / "prior-mean.pt"
        if rn.resume and path is not None and path.is_file():
            from claimcheck.gpu_validation import rundir

            base.load_state_dict(rundir.load_checkpoint(path, ctx.device, keys=()))  # weights_only; corrupt -> named
        else:
            batch, per_epoch = loop.epoch_batches(xp, yp, cfg.batch_size, rn.seed, "prior-order")
            opt_kw = {"lr": cfg.prior_lr} | ({"momentum": cfg.prior_momentum} if cfg.prior_optimizer == "sgd" else {})
            loop.train(ctx, base, ctx.optimizer(cfg.prior_optimizer, base.parameters(), **opt_kw), unit="prior",
                       steps=per_epoch * cfg.prior_epochs, batch_fn=batch, flops_per_sample=flops,
                       ckpt_every=cfg.ckpt_every)
            if path is not None:
                atomic_torch_save(base.state_dict(), path)
        base.eval()   # dropout off: the posterior and its certificate use the plain network
        return base, flops

    return ctx.once("prior", build)


@torch.no_grad()
def mc_errors(ctx, post: GaussianPosterior, sets: list[tuple[torch.Tensor, torch.Tensor]], tag) -> np.ndarray:
    """Error of ``mc_samples`` weight draws of Q on each set: (len(sets), mc_samples).

    Draw j comes from a generator seeded by (tag, j) whatever ``mc_batch`` is; ``mc_batch`` draws
    are evaluated at once (``vmap`` over the draws), the counts stay on the device until the end.
    """
    cfg = ctx.cfg
    base = post.base

    def logits_of(w, x):
        return functional_call(base, w, (x,))

    batched_logits = vmap(logits_of, in_dims=(0, None))
    counts = torch.zeros(len(sets), cfg.mc_samples, device=ctx.device)
    for j0 in range(0, cfg.mc_samples, cfg.mc_batch):
        js = range(j0, min(cfg.mc_samples, j0 + cfg.mc_batch))
        w = post.weights(torch.stack([post.noise(*tag, j) for j in js]))      # each (K, ...)
        for si, (x, y) in enumerate(sets):
            for i in range(0, x.shape[0], cfg.eval_batch):
                with ctx.amp():
                    out = batched_logits(w, x[i:i + cfg.eval_batch])              # (K, b, 10)
                counts[si, j0:j0 + len(js)] += (out.argmax(-1) != y[i:i + cfg.eval_batch]).sum(-1)
    return (counts.cpu().numpy() / np.array([x.shape[0] for x, _ in sets])[:, None])


def train_unit(ctx, unit: Unit) -> dict:
    """Optimise Q for one prior scale and compute its certificate."""
    from claimcheck.theory.pac_bayes import kl_inverse_upper, maurer_bound, mcallester_bound

    cfg, rn = ctx.cfg, ctx.run
    sigma_p = unit.spec
    d = _data(ctx)
    base, flops = _prior(ctx)
    post = GaussianPosterior(base, sigma_p, rn.seed).to(ctx.device)
    x_post, y_post = d["bound"] if cfg.posterior_data == "bound" else (
        torch.cat([d["prior"][0], d["bound"][0]]), torch.cat([d["prior"][1], d["bound"][1]]))
    batch, per_epoch = loop.epoch_batches(x_post, y_post, cfg.batch_size, rn.seed, "posterior-order")
    n = cfg.n_bound
    conf = math.log(2 * math.sqrt(n) / cfg.delta)

    def post_batch(step):
        post.step = step
        return batch(step)

    def objective(logits, y):  # f_classic of Perez-Ortiz et al. 2021, eq. (11)
        p = logits.float().softmax(-1).gather(1, y[:, None]).clamp_min(cfg.p_min)
        risk = (-p.log()).mean() / math.log(1 / cfg.p_min)
        return risk + torch.sqrt((post.kl() + conf) / (2 * n))

    opt_kw = {"lr": cfg.posterior_lr} | ({"momentum": cfg.posterior_momentum} if cfg.posterior_optimizer == "sgd" else {})
    loop.train(ctx, post, ctx.optimizer(cfg.posterior_optimizer, post.parameters(), **opt_kw), unit=unit.name,
               steps=per_epoch * cfg.posterior_epochs, batch_fn=post_batch, flops_per_sample=flops,
               ckpt_every=cfg.ckpt_every, loss_fn=objective)
    post.eval()
    with torch.no_grad():
        kl = float(post.kl())
    k = len(cfg.prior_sigmas)

    def certify(q: GaussianPosterior, sets: list, kl_q: float) -> tuple[dict, np.ndarray | None]:
        """The certificate of ``q``: MC risk on the bound set (same draws, same delta' accounting),
        its kl-inverse upper limit, then Maurer's bound with KL(q || P) = ``kl_q`` and the ln k charge."""
        errs = mc_errors(ctx, q, sets, ("certificate", sigma_p))
        r_mc = float(np.mean(errs[0]))
        r_upper = float(kl_inverse_upper(r_mc, math.log(2 / cfg.delta_mc) / cfg.mc_samples))
        return ({"kl": kl_q, "emp_risk_mc": r_mc, "emp_risk_upper": r_upper,
                 "bound": float(maurer_bound(r_upper, kl_q, n, cfg.delta, k=k)),
                 "mcallester": float(mcallester_bound(r_upper, kl_q, n, cfg.delta, k=k))},
                errs[1] if len(sets) > 1 else None)

    cert, errs_e = certify(post, [d["bound"], d["eval"]], kl)
    # the two baselines (same sigma_P, same draws and accounting, KL = 0): Q = P around the trained
    # prior mean (what the posterior step must beat) and Q = P around the untrained initialisation
    # (Q = P: KL = 0 exactly, not the float32 sum of a million rounding errors)
    prior_only, prior_only_eval = certify(GaussianPosterior(base, sigma_p, rn.seed).to(ctx.device), [d["bound"], d["eval"]],
                                          0.0)
    untrained = _base_net(ctx, int(np.prod(d["bound"][0].shape[1:])))
    untrained.eval()
    untrained_cert, _ = certify(GaussianPosterior(untrained, sigma_p, rn.seed).to(ctx.device), [d["bound"]], 0.0)
    mean_eval = loop.evaluate(_MeanNet(base, post), *d["eval"], amp=ctx.amp)
    prior_eval = loop.evaluate(base, *d["eval"], amp=ctx.amp)
    return {f"sigma{sigma_p:g}": {
        "sigma_prior": sigma_p, "kl": kl, **{k_: v for k_, v in cert.items() if k_ != "kl"},
        "eval_error_Q": float(np.mean(errs_e)), "eval_error_mean_net": mean_eval["error"],
        "prior_mean_eval_error": prior_eval["error"],
        "prior_only": {**prior_only, "eval_error_Q": float(np.mean(prior_only_eval))},
        "untrained_prior": untrained_cert,
        "prior_only_bound": prior_only["bound"], "untrained_prior_bound": untrained_cert["bound"],
        "data": d["used"]}}


def measurements(ctx, members: dict) -> dict:
    cands = [members[f"sigma{s:g}"] for s in ctx.cfg.prior_sigmas]
    return {"candidates": cands, "bound": rules.certificate({"candidates": cands}),
            # baselines: the best over the same prior-scale grid, with the same ln k charge
            "prior_only_bound": float(min(c["prior_only_bound"] for c in cands)),
            "untrained_prior_bound": float(min(c["untrained_prior_bound"] for c in cands)),
            "prior_mean_eval_error": cands[0]["prior_mean_eval_error"],
            "anchor_mnist_compression_bound": ANCHOR_MNIST, "data": cands[0]["data"]}


def figure(result: dict, out_dir) -> list[str]:
    """Bound per prior scale next to the held-out error of Q and the seed 003 anchor."""
    m = result["measurements"]
    c = m["candidates"]

    def draw(ax):
        xs = np.arange(len(c))
        base = all("prior_only_bound" in r for r in c)
        w = 0.2 if base else 0.4
        groups = [("bound", "certificate of Q (posterior)"), ("eval_error_Q", "held-out error of Q")]
        if base:
            groups += [("prior_only_bound", "certificate of Q = P (trained prior)"),
                       ("untrained_prior_bound", "certificate of Q = P (untrained)")]
        off = (np.arange(len(groups)) - (len(groups) - 1) / 2) * w
        n_eval = (result.get("config") or {}).get("n_eval")
        for o, (key, label) in zip(off, groups):
            v = np.array([r[key] for r in c])
            # held-out error: binomial standard error; certificates are upper limits, drawn as bars
            err = np.sqrt(v * (1 - v) / n_eval) if key == "eval_error_Q" and n_eval else None
            ax.bar(xs + o, v, width=w, label=label, yerr=err, capsize=1.5)
        ax.axhline(m["anchor_mnist_compression_bound"], color="k", ls="--", lw=0.8, label="seed 003 anchor (11.6%)")
        ax.set_xticks(xs, [f"{r['sigma_prior']:g}" for r in c])
        ax.set_xlabel("prior std $\\sigma_P$")
        ax.set_ylabel("error / bound")
        ax.set_ylim(0, 1.3)
        ax.legend(frameon=False, fontsize=5, ncol=2, loc="upper center")

    return results.save_figure(draw, out_dir, "pac_bayes_mnist")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, **kw) -> dict:
    """Run this job (:func:`gpu_validation.driver.run`)."""
    return driver.run(sys.modules[__name__], profile, seed, device, out_dir, resume, **kw)
