"""A non-vacuous PAC-Bayes bound for a trained network on MNIST (risk certificate).

Claim (seed 003; Dziugaite & Roy 2017, "Computing nonvacuous generalization bounds for deep
(stochastic) neural networks with many more parameters than training data"; Perez-Ortiz,
Rivasplata, Shawe-Taylor & Szepesvari 2021, "Tighter risk certificates for neural networks",
JMLR 22): optimising a Gaussian posterior Q = N(mu, diag sigma^2) around a trained network
against a PAC-Bayes objective gives a *non-vacuous* bound (< 1) on the test error of Q, and
the bound holds: the held-out error of Q does not exceed it.

Recipe (PBB, "f_classic" objective, data-dependent prior):

1. split the data into a prior set, a bound set (n samples) and an evaluation set;
2. train the prior mean w_P on the prior set (the prior may depend on data the bound does
   not use); prior P = N(w_P, sigma_P^2 I) for each sigma_P in a grid of k values (the
   reported one is the best, charged ln k: ``theory.pac_bayes.maurer_bound(..., k)``);
3. optimise Q on the bound set: E_Q[bounded cross-entropy]/ln(1/p_min) +
   sqrt((KL(Q||P) + ln(2 sqrt n/delta)) / (2n)), reparameterised weights, one draw per batch;
4. certificate: the empirical risk of Q is estimated from m weight draws and upper-bounded
   by the sample-convergence bound kl^-1(R_mc, ln(2/delta')/m) (Langford & Caruana 2001),
   then ``maurer_bound(R_upper, KL, n, delta, k)``; it holds with prob. >= 1 - delta - delta'.

Verdict: passed if the bound is < 1 and not contradicted by the evaluation set (the
one-sided Clopper-Pearson lower limit at alpha = 1e-6 of Q's held-out error stays <= the
bound); failed if the bound is vacuous or violated. Reported beside the seed 003 anchor: the
compression bound of Lotfi et al. 2022 on MNIST, 11.6% (n = 60,000; a different bound).

Data: the MNIST directory (default ``../shared/data/mnist``: the real 10k *test* set only,
split here into prior/bound/eval). With ``--data-dir`` pointing at a full MNIST IDX
directory (train + test files), ``full`` uses the 60k training images for prior and bound
and the 10k test images for evaluation.

    claimcheck gpu pac_bayes_mnist --profile smoke   # CPU, ~1 s: 1000/1000/500 digits, MLP 784-100-10
    claimcheck gpu pac_bayes_mnist --profile small   # one GPU, ~2 min (estimate): 5000/4000/1000, MLP 784-600-600-10
    claimcheck gpu pac_bayes_mnist --profile full --data-dir MNIST_DIR   # 30k/30k/10k

Evidence: smoke only (CPU, torch 2.13, seed 0: certificate 0.661 for a held-out error of Q of
0.225, n = 1000). ``small`` and ``full`` have not been run: no GPU was available when this
suite was built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats as sps
from torch import nn
from torch.func import functional_call

from claimcheck.estimate import Estimate
from claimcheck.verdict import Status, Verdict
from claimcheck.gpu_validation import common
from claimcheck.gpu_validation.common import Run
from claimcheck.gpu_validation.data import load_splits, split
from claimcheck.gpu_validation.models import MLP

JOB = "pac_bayes_mnist"
CLAIM_ID = "gpu.pac_bayes_mnist.nonvacuous"
ANCHOR_MNIST = 0.116  # seed 003 table: compression bound on MNIST (Lotfi et al. 2022)


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    data_dir: str | None = None             # MNIST IDX directory; None: ../shared/data/mnist
    n_prior: int = 1000                     # samples that train the prior mean
    n_bound: int = 1000                     # samples the bound is computed on (n)
    n_eval: int = 500                       # held-out samples that test the bound
    hidden: tuple[int, ...] = (100,)        # MLP hidden widths
    prior_epochs: int = 3                   # Adam epochs for the prior mean
    prior_lr: float = 1e-3
    posterior_epochs: int = 2               # Adam epochs for the posterior
    posterior_lr: float = 1e-3
    batch_size: int = 128                   # samples per step
    prior_sigmas: tuple[float, ...] = (0.03,)  # grid of prior std devs (k = its length, charged ln k)
    p_min: float = 1e-4                     # bounded cross-entropy: probabilities clamped at p_min
    delta: float = 0.025                    # confidence of the PAC-Bayes bound (PBB: 0.025)
    delta_mc: float = 0.01                  # confidence of the Monte Carlo estimate of E_Q R_hat
    mc_samples: int = 20                    # weight draws for the certificate
    ckpt_every: int = 500                   # steps between checkpoints
    compile: bool = False
    stop_after_steps: int | None = None


PROFILES = {
    "smoke": Config(profile="smoke"),
    "small": Config(profile="small", n_prior=5000, n_bound=4000, n_eval=1000, hidden=(600, 600), prior_epochs=30,
                    posterior_epochs=30, prior_sigmas=(0.01, 0.03, 0.1), mc_samples=1000),
    "full": Config(profile="full", n_prior=30000, n_bound=30000, n_eval=10000, hidden=(600, 600), prior_epochs=100,
                   posterior_epochs=100, prior_sigmas=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1), mc_samples=10000,
                   ckpt_every=2000),
}


class GaussianPosterior(nn.Module):
    """Q = N(mu, diag softplus(rho)^2) over the weights of ``base``; prior P = N(w_P, sigma_P^2 I).

    ``forward`` draws one weight sample from a generator seeded by (seed, ``self.step``), so a
    resumed run draws the same noise at the same step.
    """

    def __init__(self, base: nn.Module, sigma_prior: float, seed: int):
        super().__init__()
        object.__setattr__(self, "base", base)  # not a submodule: its own weights are not trained here
        self.sigma_prior, self.seed, self.step = sigma_prior, seed, 0
        rho0 = math.log(math.expm1(sigma_prior))  # softplus(rho0) = sigma_prior
        names = [n for n, _ in base.named_parameters()]
        self.keys = {n: n.replace(".", "__") for n in names}
        self.mu = nn.ParameterDict({self.keys[n]: nn.Parameter(p.detach().clone()) for n, p in base.named_parameters()})
        self.rho = nn.ParameterDict({self.keys[n]: nn.Parameter(torch.full_like(p, rho0)) for n, p in base.named_parameters()})
        for n, p in base.named_parameters():
            self.register_buffer("prior__" + self.keys[n], p.detach().clone())

    def kl(self) -> torch.Tensor:
        """KL(Q || P) in nats for diagonal Gaussians."""
        total = 0.0
        sp = self.sigma_prior
        for n, k in self.keys.items():
            s = F.softplus(self.rho[k])
            total = total + (torch.log(sp / s) + (s**2 + (self.mu[k] - getattr(self, "prior__" + k)) ** 2) / (2 * sp**2) - 0.5).sum()
        return total

    def sample(self, gen: torch.Generator) -> dict[str, torch.Tensor]:
        out = {}
        for n, k in self.keys.items():
            eps = torch.randn(self.mu[k].shape, generator=gen).to(self.mu[k].device)
            out[n] = self.mu[k] + F.softplus(self.rho[k]) * eps
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.base, self.sample(common.generator(self.seed, "posterior", self.sigma_prior, self.step)), (x,))


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    from claimcheck.theory.pac_bayes import kl_inverse_upper, maurer_bound, mcallester_bound

    cfg, name = common.resolve_config(PROFILES, profile, overrides)
    device = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=device, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    # data: (N, 1, 28, 28); prior and bound sets from the train split when the directory has one
    # (a full MNIST directory), the held-out set from the test split; else all three from the test set
    splits = load_splits("mnist", cfg.data_dir, device)
    if "train" in splits:
        (x_tr, y_tr), (x_ev_all, y_ev_all) = splits["train"], splits["test"]
        i_p, i_b = split(x_tr.shape[0], (cfg.n_prior, cfg.n_bound), common.generator(seed, "split"))
        (i_e,) = split(x_ev_all.shape[0], (cfg.n_eval,), common.generator(seed, "eval"))
        xp, yp, xb, yb, xe, ye = x_tr[i_p], y_tr[i_p], x_tr[i_b], y_tr[i_b], x_ev_all[i_e], y_ev_all[i_e]
        data_used = {"prior_and_bound": "train split", "eval": "test split"}
    else:
        x_all, y_all = splits["test"]
        i_p, i_b, i_e = split(x_all.shape[0], (cfg.n_prior, cfg.n_bound, cfg.n_eval), common.generator(seed, "split"))
        xp, yp, xb, yb, xe, ye = x_all[i_p], y_all[i_p], x_all[i_b], y_all[i_b], x_all[i_e], y_all[i_e]
        data_used = {"prior_and_bound": "test split (no training files)", "eval": "test split"}
    in_dim = int(np.prod(xp.shape[1:]))
    B = cfg.batch_size

    def batches(x, y, tag):
        return common.epoch_batches(x, y, B, seed, tag)

    # 1-2. prior mean, trained on the prior set (stored so a resumed run reuses it)
    base = common.seeded_init(lambda: MLP(in_dim, cfg.hidden, 10), seed, "init")
    flops = common.train_flops_per_sample(base, tuple(xp.shape[1:]))
    base = common.prepare_model(base, device)
    prior_file = None if rn.dir is None else rn.dir / "ckpt" / "prior-mean.pt"
    if rn.resume and prior_file is not None and prior_file.is_file():
        base.load_state_dict(torch.load(prior_file, map_location=device, weights_only=True))
    else:
        batch, per_epoch = batches(xp, yp, "prior-order")
        rn.train(base, torch.optim.Adam(base.parameters(), lr=cfg.prior_lr), unit="prior", steps=per_epoch * cfg.prior_epochs,
                 batch_fn=batch, flops_per_sample=flops, ckpt_every=cfg.ckpt_every)
        if prior_file is not None:
            common.atomic_torch_save(base.state_dict(), prior_file)
    prior_eval = common.evaluate(base, xe, ye, device)
    k = len(cfg.prior_sigmas)
    n = cfg.n_bound
    conf = math.log(2 * math.sqrt(n) / cfg.delta)

    def certify(sigma_p: float) -> dict:
        post = GaussianPosterior(base, sigma_p, seed).to(device)
        batch, per_epoch = batches(xb, yb, "posterior-order")

        def post_batch(step):
            post.step = step
            return batch(step)

        def objective(logits, y):  # f_classic of Perez-Ortiz et al. 2021, eq. (11)
            p = logits.float().softmax(-1).gather(1, y[:, None]).clamp_min(cfg.p_min)
            risk = (-p.log()).mean() / math.log(1 / cfg.p_min)
            return risk + torch.sqrt((post.kl() + conf) / (2 * n))

        rn.train(post, torch.optim.Adam(post.parameters(), lr=cfg.posterior_lr), unit=f"posterior-sigma{sigma_p:g}",
                 steps=per_epoch * cfg.posterior_epochs, batch_fn=post_batch, flops_per_sample=flops,
                 ckpt_every=cfg.ckpt_every, loss_fn=objective)
        with torch.no_grad():
            kl = float(post.kl())
            errs_b, errs_e = [], []
            for j in range(cfg.mc_samples):  # Monte Carlo over weight draws (a fixed seeded sequence)
                w = post.sample(common.generator(seed, "certificate", sigma_p, j))
                for x, y, errs in ((xb, yb, errs_b), (xe, ye, errs_e)):
                    wrong = 0
                    for i in range(0, x.shape[0], 4096):
                        with common.autocast(device):
                            wrong += int((functional_call(base, w, (x[i:i + 4096],)).argmax(-1) != y[i:i + 4096]).sum())
                    errs.append(wrong / x.shape[0])
            mean_eval = common.evaluate(_MeanNet(base, post), xe, ye, device)
        r_mc = float(np.mean(errs_b))
        r_upper = float(kl_inverse_upper(r_mc, math.log(2 / cfg.delta_mc) / cfg.mc_samples))
        return {"sigma_prior": sigma_p, "kl": kl, "emp_risk_mc": r_mc, "emp_risk_upper": r_upper,
                "bound": float(maurer_bound(r_upper, kl, n, cfg.delta, k=k)),
                "mcallester": float(mcallester_bound(r_upper, kl, n, cfg.delta, k=k)),
                "eval_error_Q": float(np.mean(errs_e)), "eval_error_mean_net": mean_eval["error"]}

    cands = [rn.unit(f"certificate-sigma{s:g}", lambda s=s: certify(s)) for s in cfg.prior_sigmas]
    if rn.partial:
        return rn.finish(None, {})
    best = min(cands, key=lambda c: c["bound"])
    bound, ev = best["bound"], best["eval_error_Q"]
    wrong = round(ev * cfg.n_eval)
    cp_low = float(sps.beta.ppf(1e-6, wrong, cfg.n_eval - wrong + 1)) if wrong > 0 else 0.0
    se = math.sqrt(max(ev * (1 - ev), 1e-12) / cfg.n_eval)
    if bound >= 1:
        status, detail = Status.FAILED, f"bound {bound:.4f} >= 1: vacuous"
    elif cp_low > bound:
        status, detail = Status.FAILED, f"held-out error of Q {ev:.4f} (CP lower limit {cp_low:.4f}) exceeds the bound {bound:.4f}: violated"
    else:
        status, detail = Status.PASSED, (f"risk certificate {bound:.4f} < 1 (k = {k} prior scales, delta = {cfg.delta}+{cfg.delta_mc}); "
                                          f"held-out error of Q {ev:.4f} <= bound; seed 003 anchor (compression, MNIST): {ANCHOR_MNIST:.1%}")
    verdict = Verdict(
        claim_id=CLAIM_ID, status=status, prediction=bound, estimate=Estimate(ev, se, cfg.n_eval),
        z=(ev - bound) / se, alpha=1e-6, seed=seed, budget=name, detail=detail,
        params={"n_prior": cfg.n_prior, "n_bound": n, "n_eval": cfg.n_eval, "hidden": list(cfg.hidden), "k": k},
        extra=common.jsonable({"best": best, "candidates": cands, "anchor_mnist_compression_bound": ANCHOR_MNIST,
                               "eval_cp_lower": cp_low}),
    )
    measurements = {"candidates": cands, "bound": bound, "prior_mean_eval_error": prior_eval["error"],
                    "anchor_mnist_compression_bound": ANCHOR_MNIST, "data": data_used}
    return rn.finish(verdict, measurements, figure=figure if figures else None)


def figure(result: dict, out_dir) -> list[str]:
    """Bound per prior scale next to the held-out error of Q and the seed 003 anchor."""
    m = result["measurements"]
    c = m["candidates"]

    def draw(ax):
        xs = np.arange(len(c))
        ax.bar(xs - 0.2, [r["bound"] for r in c], width=0.4, label="PAC-Bayes bound (kl-inverse)")
        ax.bar(xs + 0.2, [r["eval_error_Q"] for r in c], width=0.4, label="held-out error of Q")
        ax.axhline(m["anchor_mnist_compression_bound"], color="k", ls="--", lw=0.8, label="seed 003 anchor (11.6%)")
        ax.set_xticks(xs, [f"{r['sigma_prior']:g}" for r in c])
        ax.set_xlabel("prior std $\\sigma_P$")
        ax.set_ylabel("error / bound")
        ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize=6)

    return common.save_figure(draw, out_dir, "pac_bayes_mnist")


class _MeanNet(nn.Module):
    """``base`` evaluated at the posterior mean mu (the deterministic network)."""

    def __init__(self, base: nn.Module, post: GaussianPosterior):
        super().__init__()
        object.__setattr__(self, "_base", base)
        self._w = {n: post.mu[k] for n, k in post.keys.items()}

    def forward(self, x):
        return functional_call(self._base, self._w, (x,))
