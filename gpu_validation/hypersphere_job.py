"""Hypersphere (Nagarajan & Kolter): test error falls with n while the error on S' stays ~1.

Claim (Nagarajan & Kolter 2019, "Uniform convergence may be unable to explain generalization
in deep learning", NeurIPS, Sec. 3 / Fig. 1; seed 004): a 2-layer ReLU network trained on
two concentric hyperspheres (d = 1000, radii 1 and 1.1, 100k hidden units, until 99% of the
training points have margin >= 10) generalises better as n grows, yet misclassifies nearly
all of S' -- the training points projected onto the other sphere with flipped labels -- so
every two-sided uniform-convergence bound on the training set is >= ~1 (vacuous).

The experiment itself lives in ``gpu_validation/hypersphere.py`` (its own ``PROFILES`` and a
pure ``run(cfg_or_profile, seed, device) -> dict`` with per-n test and S' errors); this file
wraps it as a suite job: one unit per replicate seed (stored, resumable), a result file, and
a verdict. Statistic (per seed, then averaged over seeds; percentile bootstrap over seeds):
``min(err_S'(n_max) - 1/2, err_test(n_min) - err_test(n_max))`` -- positive iff S' is
misclassified more often than chance at the largest n *and* the test error fell from the
smallest to the largest n. Passed if its CI lies above 0.

    claimcheck gpu hypersphere --profile smoke   # CPU, ~3 s (d = 100, width 512, n in {64, 256}, 3 seeds)
    claimcheck gpu hypersphere --profile small   # one GPU, ~10-30 min (estimate)
    claimcheck gpu hypersphere --profile full    # the paper's d = 1000, width 100k

Evidence: smoke only (CPU, torch 2.13, 3 seeds: S' error 1.0 at n = 64 and 256, test error
0.49 -> 0.43; passed). ``small`` and ``full`` have not been run: no GPU was available when
this suite was built.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from claimcheck.gpu_validation import common
from claimcheck.gpu_validation.common import Run

JOB = "hypersphere"
CLAIM_ID = "gpu.hypersphere.sprime_error"


@dataclass(frozen=True)
class Config:
    profile: str = "custom"
    inner_profile: str = "smoke"       # profile of gpu_validation.hypersphere
    n_seeds: int = 3                   # replicates (seed, seed+1, ...)
    inner_overrides: tuple = ()        # ((field, value), ...) applied to the inner config
    stop_after_steps: int | None = None  # unused (the inner run is atomic per seed)


PROFILES = {
    # the inner smoke profile at two sizes and 1000 test points per size: ~1 s per seed on one CPU thread
    "smoke": Config(profile="smoke", inner_profile="smoke", n_seeds=3, inner_overrides=(("ns", (64, 256)), ("test_points", 1000))),
    "small": Config(profile="small", inner_profile="small", n_seeds=3),
    "full": Config(profile="full", inner_profile="full", n_seeds=3),
}

_N_KEYS = ("n", "ns", "n_train", "n_trains", "sizes", "n_values")
_TEST_KEYS = ("test_error", "test_errors", "err_test", "error_test", "test")
_SPRIME_KEYS = ("s_prime_error", "sprime_error", "error_s_prime", "s_prime_errors", "sprime_errors", "err_s_prime",
                "error_sprime", "sprime", "s_prime")


def _pick(d: dict, keys):
    for k in keys:
        if k in d:
            return d[k]
    return None


def extract_curves(res: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, test error, S' error) per training-set size from a ``hypersphere.run`` result.

    Accepts parallel lists at the top level (or under ``"per_n"``/``"results"``/``"curves"``),
    or a list of per-n dicts under one of those keys.
    """
    containers = [res] + [res[k] for k in ("per_n", "results", "curves", "measurements") if k in res]
    for c in containers:
        if isinstance(c, dict):
            n, te, sp = _pick(c, _N_KEYS), _pick(c, _TEST_KEYS), _pick(c, _SPRIME_KEYS)
            if n is not None and te is not None and sp is not None:
                return np.asarray(n, float).ravel(), np.asarray(te, float).ravel(), np.asarray(sp, float).ravel()
            if isinstance(c, dict) and all(isinstance(v, dict) for v in c.values()) and c:
                try:  # {n: {"test_error": .., "s_prime_error": ..}}
                    items = sorted((float(k), v) for k, v in c.items())
                    return (np.array([k for k, _ in items]), np.array([_pick(v, _TEST_KEYS) for _, v in items], float),
                            np.array([_pick(v, _SPRIME_KEYS) for _, v in items], float))
                except (TypeError, ValueError):
                    pass
        if isinstance(c, list) and c and isinstance(c[0], dict):
            return (np.array([_pick(r, _N_KEYS) for r in c], float), np.array([_pick(r, _TEST_KEYS) for r in c], float),
                    np.array([_pick(r, _SPRIME_KEYS) for r in c], float))
    raise ValueError(f"hypersphere.run returned keys {sorted(res)}; expected per-n 'n', 'test_error' and 's_prime_error'")


def run(profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, **overrides) -> dict:
    from claimcheck.gpu_validation import hypersphere as hs  # the experiment (another module's API)

    mine = {k: v for k, v in overrides.items() if k in {f.name for f in dataclasses.fields(Config)}}
    inner_over = {k: v for k, v in overrides.items() if k not in mine}
    cfg, name = common.resolve_config(PROFILES, profile, mine)
    inner = hs.PROFILES[cfg.inner_profile]
    inner_over = {**dict(cfg.inner_overrides), **inner_over}
    if inner_over:
        if dataclasses.is_dataclass(inner):
            inner = dataclasses.replace(inner, **inner_over)
        else:
            inner = {**inner, **inner_over}
    cfg = dataclasses.replace(cfg, inner_overrides=tuple(sorted(inner_over.items())))
    dev = common.select_device(device)
    rn = Run(JOB, name, cfg, seed=seed, device=dev, out_dir=out_dir, resume=resume, progress=progress, shard=shard)
    seeds = [seed + r for r in range(cfg.n_seeds)]

    def unit(s):
        t0 = time.perf_counter()
        try:
            res = hs.run(inner, seed=s, device=str(dev))
        except RuntimeError as exc:
            if type(exc).__name__ == "DivergenceError":
                raise common.DivergenceError(str(exc)) from exc
            raise
        n, te, sp = extract_curves(res)
        per_n = res.get("results", []) if isinstance(res.get("results"), list) else []
        converged = [bool(r.get("converged", True)) for r in per_n]
        batch = getattr(inner, "batch_size", 1) if not isinstance(inner, dict) else inner.get("batch_size", 1)
        samples = sum(int(r.get("steps", 0)) * batch for r in per_n)
        seconds = sum(float(r.get("seconds", 0.0)) for r in per_n)
        return {"n": n.tolist(), "test_error": te.tolist(), "s_prime_error": sp.tolist(), "converged": converged,
                "samples": samples, "train_s": seconds, "wall_s": time.perf_counter() - t0, "raw": common.jsonable(res)}

    def flops_per_sample() -> float:
        """2-layer ReLU net d -> width -> 2: 3 x forward FLOPs = 3 x 2 (d width + 2 width)."""
        d, w = getattr(inner, "d", 0), getattr(inner, "width", 0)
        return 6.0 * (d * w + 2 * w)

    units = {}
    for s in seeds:
        units[s] = rn.unit(f"seed{s}", lambda s=s: unit(s))
        if units[s] is not None and f"seed{s}" not in rn.units_resumed:  # count only training done by this process
            rn.account(units[s]["samples"], units[s]["train_s"], flops_per_sample())
    if rn.partial:
        return rn.finish(None, {})
    not_converged = [s for s in seeds if not all(units[s].get("converged", [True]))]
    n = np.array(units[seeds[0]]["n"])
    te = np.array([units[s]["test_error"] for s in seeds])   # (seeds, sizes)
    sp = np.array([units[s]["s_prime_error"] for s in seeds])
    order = np.argsort(n)
    n, te, sp = n[order], te[:, order], sp[:, order]
    per_seed = np.stack([sp[:, -1] - 0.5, te[:, 0] - te[:, -1]], axis=1)  # (seeds, 2)
    b = common.bootstrap(per_seed, lambda a: float(a.mean(axis=0).min()), seed=seed)
    verdict = common.sign_verdict(
        CLAIM_ID, b, statistic="min(S' error at n_max - 1/2, test-error drop n_min -> n_max)", seed=seed,
        params={"inner_profile": cfg.inner_profile, "n": n.tolist()}, profile=name,
        unmet=(f"training did not reach the margin rule for seed(s) {not_converged} (max_steps hit)" if not_converged else None),
        extra={"s_prime_error_at_n_max": float(sp[:, -1].mean()), "test_error_n_min": float(te[:, 0].mean()),
               "test_error_n_max": float(te[:, -1].mean())},
    )
    return rn.finish(verdict, {"n": n.tolist(), "test_error": te.tolist(), "s_prime_error": sp.tolist(), "seeds": seeds,
                                 "inner_wall_s": [units[s]["wall_s"] for s in seeds]}, figure=figure if figures else None)


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

    return common.save_figure(draw, out_dir, "hypersphere")
