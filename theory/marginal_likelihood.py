"""Marginal likelihood of Bayesian linear regression: closed form, chain rule, CLML, Monte Carlo.

Model: y = X w + eps, w ~ N(0, s2 I_d) (``prior_var`` = s2), eps ~ N(0, sigma2 I_n)
(``noise_var`` = sigma2), X (n x d) fixed. Marginally y ~ N(0, K), K = s2 X X^T + sigma2 I.

* LML = log p(y) = -1/2 y^T K^{-1} y - 1/2 log det K - n/2 log 2 pi (:func:`log_marginal_likelihood`),
  computed in the d x d form A = X^T X / sigma2 + I / s2 (matrix determinant lemma + Woodbury).
* Chain rule: log p(y) = sum_i log p(y_i | y_<i), each a Gaussian posterior predictive
  N(x_i^T mu_{i-1}, sigma2 + x_i^T S_{i-1} x_i) (:func:`sequential_log_predictive`).
* CLML: log p(y_{>n-m} | y_{<=n-m}) = LML(all) - LML(first n - m), the likelihood of the last
  m points after the prior has contracted on the first n - m
  (:func:`conditional_log_marginal_likelihood`).
* Monte Carlo: p(y) = E_{w ~ q}[p(y|w) p(w) / q(w)], importance sampling from the prior or
  from a widened posterior, with an SE, in log space (:func:`log_marginal_likelihood_mc`).

Supported ranges (refused with a ValueError naming the parameter outside them): entries of X,
y (and X_test, y_test) of magnitude <= 1e50, prior_var and noise_var in [1e-100, 1e100];
within them every product of the data with the precisions stays finite, so no result is a NaN
or an overflowed inf.

Sources:
  [Bis06]  Bishop, "Pattern Recognition and Machine Learning" (2006), eq. (3.86) (LML of
           Bayesian linear regression) and Sec. 3.3.2 (predictive distribution).
  [Mac03]  MacKay, "Information Theory, Inference, and Learning Algorithms" (2003), Ch. 28
           (Occam factor; the marginal likelihood as a sum of sequential predictive terms).
  [LIBGW22] Lotfi, Izmailov, Benton, Goldblum, Wilson, "Bayesian model selection, the
           marginal likelihood, and generalization", ICML 2022, eq. (1) (chain rule) and
           Sec. 5 (CLML); seed 003 ("marginal likelihood hates diffuse priors").
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.theory.validation import check_bool, check_choice, check_int, check_real, check_rng, check_size

linalg = lazy_module("scipy.linalg")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = [
    "make_regression_data",
    "posterior",
    "log_marginal_likelihood",
    "sequential_log_predictive",
    "conditional_log_marginal_likelihood",
    "log_likelihood",
    "log_marginal_likelihood_mc",
    "predictive_log_density",
    "prior_scale_sweep",
]

_LOG_2PI = math.log(2 * math.pi)


_MAX_DATA = 1e50  # |entries of X, y|: their squares times 1/noise_var (<= 1e100) stay far inside the float range
_VAR_RANGE = (1e-100, 1e100)  # supported prior_var, noise_var: ratios and products of these with the data stay finite


def _check_xy(X, y, names=("X", "y")):
    nx, ny = names
    X = np.asarray(check_real(nx, X, min_value=-_MAX_DATA, max_value=_MAX_DATA), dtype=float)
    y = np.asarray(check_real(ny, y, min_value=-_MAX_DATA, max_value=_MAX_DATA), dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"{ny} has shape {y.shape}, must be a non-empty vector (n,)")
    if X.ndim != 2 or X.shape[0] != y.size or X.shape[1] == 0:
        raise ValueError(f"{nx} has shape {X.shape}, must be (n, d) with d >= 1 and n = len({ny}) = {y.size}")
    return X, y


def _check_vars(prior_var, noise_var):
    lo, hi = _VAR_RANGE
    return (check_real("prior_var", prior_var, min_value=lo, max_value=hi, scalar=True),
            check_real("noise_var", noise_var, min_value=lo, max_value=hi, scalar=True))


def _precision(X, s2, sig2):
    """A = X^T X / sigma2 + I / s2, refused (naming the variances) when it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        A = X.T @ X / sig2 + np.eye(X.shape[1]) / s2
    if not np.isfinite(A).all():
        raise ValueError(f"noise_var={sig2!r}, prior_var={s2!r}: the posterior precision X^T X / noise_var + I / prior_var "
                         "overflows; they must be larger (or X smaller)")
    return A


def make_regression_data(n: int, d: int, *, w_scale: float = 1.0, noise_var: float = 1.0, seed: int = 0,
                         n_test: int = 0, sparse: bool = False):
    """A reproducible synthetic data set: X ~ N(0, I), w* ~ N(0, w_scale^2 I) (or only w*_1
    nonzero if ``sparse``), y = X w* + eps. Returns (X, y, w*) or, with n_test > 0,
    (X, y, w*, X_test, y_test). Same seed -> same arrays. Supported ranges: w_scale <= 1e40 and
    noise_var <= 1e80, so that y stays inside the ``|data| <= 1e50`` the other functions accept
    (and X w* never meets inf - inf = NaN)."""
    n = check_int("n", n, min_value=1, max_value=10**7)
    d = check_int("d", d, min_value=1, max_value=10**5)
    n_test = check_int("n_test", n_test, min_value=0, max_value=10**7)
    check_size("(n + n_test) x d", (n + n_test) * d)
    w_scale = check_real("w_scale", w_scale, min_value=0, max_value=1e40, scalar=True)
    noise_var = check_real("noise_var", noise_var, min_value=0, max_value=1e80, scalar=True)
    sparse = check_bool("sparse", sparse)
    rng = np.random.default_rng(np.random.SeedSequence([check_int("seed", seed, min_value=0), n, d]))
    w = np.zeros(d)
    if sparse:
        w[0] = w_scale
    else:
        w = w_scale * rng.standard_normal(d)
    X = rng.standard_normal((n + n_test, d))
    y = X @ w + math.sqrt(noise_var) * rng.standard_normal(n + n_test)
    if n_test:
        return X[:n], y[:n], w, X[n:], y[n:]
    return X, y, w


def posterior(X, y, prior_var: float, noise_var: float):
    """Posterior mean and covariance of w: S = (X^T X / sigma2 + I / s2)^{-1}, mu = S X^T y / sigma2.

    Source: [Bis06] eq. (3.53)-(3.54).

    >>> mu, S = posterior([[1.0], [1.0]], [1.0, 1.0], prior_var=1.0, noise_var=1.0)
    >>> mu.round(6).tolist(), S.round(6).tolist()
    ([0.666667], [[0.333333]])
    """
    X, y = _check_xy(X, y)
    s2, sig2 = _check_vars(prior_var, noise_var)
    d = X.shape[1]
    A = _precision(X, s2, sig2)
    c = linalg.cho_factor(A, lower=True)
    mu = linalg.cho_solve(c, X.T @ y / sig2)
    S = linalg.cho_solve(c, np.eye(d))
    return mu, 0.5 * (S + S.T)


def log_marginal_likelihood(X, y, prior_var: float, noise_var: float) -> float:
    """Closed-form log evidence log p(y | X, s2, sigma2) of Bayesian linear regression.

    .. math::
        \\log p(y) = -\\tfrac12 y^\\top K^{-1} y - \\tfrac12\\log\\det K - \\tfrac n2 \\log 2\\pi,
        \\qquad K = s^2 X X^\\top + \\sigma^2 I_n,

    evaluated through A = X^T X/sigma2 + I/s2: log det K = n log sigma2 + d log s2 + log det A and
    y^T K^{-1} y = y^T y/sigma2 - b^T A^{-1} b, b = X^T y/sigma2. Source: [Bis06] eq. (3.86).

    >>> round(log_marginal_likelihood([[1.0], [1.0]], [1.0, 1.0], prior_var=1.0, noise_var=1.0), 6)
    -2.720517
    """
    X, y = _check_xy(X, y)
    s2, sig2 = _check_vars(prior_var, noise_var)
    n, d = X.shape
    A = _precision(X, s2, sig2)
    L = linalg.cholesky(A, lower=True)
    b = X.T @ y / sig2
    v = linalg.solve_triangular(L, b, lower=True)
    quad = y @ y / sig2 - v @ v
    logdet_K = n * math.log(sig2) + d * math.log(s2) + 2.0 * float(np.sum(np.log(np.diag(L))))
    return float(-0.5 * quad - 0.5 * logdet_K - 0.5 * n * _LOG_2PI)


def sequential_log_predictive(X, y, prior_var: float, noise_var: float) -> np.ndarray:
    """log p(y_i | y_<i, X) for i = 1..n: the chain-rule terms of the log evidence.

    .. math:: \\log p(y) = \\sum_{i=1}^n \\log \\mathcal N\\big(y_i;\\ x_i^\\top\\mu_{i-1},\\ \\sigma^2 + x_i^\\top S_{i-1} x_i\\big)

    (mu_0 = 0, S_0 = s2 I; rank-one Kalman updates, O(n d^2)). Their sum equals
    :func:`log_marginal_likelihood` to rounding. Source: [LIBGW22] eq. (1); [Bis06] eq. (3.58).

    >>> round(float(sequential_log_predictive([[1.0], [1.0]], [1.0, 1.0], 1.0, 1.0).sum()), 6)
    -2.720517
    """
    X, y = _check_xy(X, y)
    s2, sig2 = _check_vars(prior_var, noise_var)
    n, d = X.shape
    mu = np.zeros(d)
    S = s2 * np.eye(d)
    out = np.empty(n)
    for i in range(n):
        x = X[i]
        Sx = S @ x
        v = sig2 + x @ Sx
        r = y[i] - x @ mu
        out[i] = -0.5 * (_LOG_2PI + math.log(v) + r * r / v)
        g = Sx / v
        mu = mu + g * r
        S = S - np.outer(g, Sx)
        S = 0.5 * (S + S.T)
    return out


def conditional_log_marginal_likelihood(X, y, prior_var: float, noise_var: float, m: int) -> float:
    """CLML: log p(y_{n-m+1..n} | y_{1..n-m}), the evidence of the last m points given the first.

    .. math:: \\mathrm{CLML}_m = \\log p(y) - \\log p(y_{\\le n-m}) = \\sum_{i > n-m} \\log p(y_i \\mid y_{<i})

    (m = n: the full LML). Unlike the LML it does not charge the prior's fit to the first
    n - m points, so a diffuse prior is not penalised for its Occam factor there.
    Source: [LIBGW22] Sec. 5; seed 003 ("let the prior contract before you measure the likelihood").

    >>> round(conditional_log_marginal_likelihood([[1.0], [1.0]], [1.0, 1.0], 1.0, 1.0, m=1), 6)
    -1.205004
    """
    X, y = _check_xy(X, y)
    n = X.shape[0]
    m = check_int("m", m, min_value=1, max_value=n)
    full = log_marginal_likelihood(X, y, prior_var, noise_var)
    if m == n:
        return full
    return full - log_marginal_likelihood(X[: n - m], y[: n - m], prior_var, noise_var)


def log_likelihood(X, y, W, noise_var: float) -> np.ndarray:
    """log p(y | X, w) for each row w of W (shape (S, d)); vectorised over samples."""
    X, y = _check_xy(X, y)
    sig2 = check_real("noise_var", noise_var, min_value=_VAR_RANGE[0], max_value=_VAR_RANGE[1], scalar=True)
    W = np.atleast_2d(np.asarray(check_real("W", W, min_value=-1e200, max_value=1e200), dtype=float))
    if W.ndim != 2 or W.shape[1] != X.shape[1]:
        raise ValueError(f"W has shape {W.shape}, must be (S, d) with d = {X.shape[1]} (one weight vector per row)")
    R = y[None, :] - W @ X.T
    return -0.5 * (np.sum(R * R, axis=1) / sig2 + y.size * (math.log(sig2) + _LOG_2PI))


def _log_normal_iso(W, mean, cov_chol):
    """log N(w; mean, L L^T) for each row of W."""
    d = W.shape[1]
    Z = linalg.solve_triangular(cov_chol, (W - mean).T, lower=True)
    return -0.5 * np.sum(Z * Z, axis=0) - float(np.sum(np.log(np.diag(cov_chol)))) - 0.5 * d * _LOG_2PI


def log_marginal_likelihood_mc(X, y, prior_var: float, noise_var: float, num_samples: int,
                               rng: np.random.Generator, proposal: str = "posterior", widen: float = 2.0,
                               return_weights: bool = False):
    """Importance-sampling estimate of log p(y) with its standard error (delta method), in log space.

    .. math:: \\hat p(y) = \\frac1S\\sum_s \\frac{p(y\\mid w_s)\\,p(w_s)}{q(w_s)},\\quad w_s\\sim q

    ``proposal="prior"``: q = p(w) (weights = likelihoods; high variance unless the data are
    few); ``"posterior"``: q = N(mu, widen * S), the posterior widened by ``widen`` > 1/2
    (finite weight variance: the target is Gaussian N(mu, S)). Returns (log_p_hat, se_log) with
    se_log = sd(weights) / (sqrt(S) mean(weights)); with ``return_weights`` also the log
    weights. p_hat is unbiased for p(y); log p_hat is biased by about -se_log^2 / 2.
    Source: [Mac03] Ch. 29 (importance sampling); [Bis06] eq. (3.86) for the target.
    """
    X, y = _check_xy(X, y)
    s2, sig2 = _check_vars(prior_var, noise_var)
    S_n = check_int("num_samples", num_samples, min_value=2, max_value=10**8)
    widen = check_real("widen", widen, min_value=0.5, include_min=False, scalar=True)
    rng = check_rng("rng", rng)
    check_choice("proposal", proposal, ("prior", "posterior"))
    check_bool("return_weights", return_weights)
    d = X.shape[1]
    check_size("num_samples x max(n, d)", S_n * max(X.shape))
    prior_chol = math.sqrt(s2) * np.eye(d)
    if proposal == "prior":
        W = math.sqrt(s2) * rng.standard_normal((S_n, d))
        log_w = log_likelihood(X, y, W, sig2)
    elif proposal == "posterior":
        mu, S = posterior(X, y, s2, sig2)
        Lq = linalg.cholesky(widen * S, lower=True)
        W = mu + rng.standard_normal((S_n, d)) @ Lq.T
        log_w = log_likelihood(X, y, W, sig2) + _log_normal_iso(W, np.zeros(d), prior_chol) - _log_normal_iso(W, mu, Lq)
    else:
        raise ValueError(f"proposal={proposal!r}, must be one of 'prior', 'posterior'")
    top = float(log_w.max())
    w = np.exp(log_w - top)
    mean = float(w.mean())
    log_p = top + math.log(mean)
    se_log = float(w.std(ddof=1) / math.sqrt(S_n) / mean)
    if return_weights:
        return log_p, se_log, log_w
    return log_p, se_log


def predictive_log_density(X, y, X_test, y_test, prior_var: float, noise_var: float) -> float:
    """Mean held-out log predictive density (1/n_test) sum_j log N(y_j; x_j^T mu, sigma2 + x_j^T S x_j).

    Source: [Bis06] eq. (3.58)-(3.59)."""
    X, y = _check_xy(X, y)
    Xt, yt = _check_xy(X_test, y_test, ("X_test", "y_test"))
    if Xt.shape[1] != X.shape[1]:
        raise ValueError(f"X_test has {Xt.shape[1]} columns, must have d = {X.shape[1]} like X")
    mu, S = posterior(X, y, prior_var, noise_var)
    v = noise_var + np.einsum("ij,jk,ik->i", Xt, S, Xt)
    r = yt - Xt @ mu
    return float(np.mean(-0.5 * (_LOG_2PI + np.log(v) + r * r / v)))


def prior_scale_sweep(X, y, prior_vars, noise_var: float, m: int, X_test=None, y_test=None) -> dict:
    """LML / n, CLML / m (and the held-out log predictive density, if test data are given)
    along a grid of prior variances: the model-selection curves of [LIBGW22] Fig. 1/4.

    >>> X, y, _ = make_regression_data(20, 3, seed=0)
    >>> sw = prior_scale_sweep(X, y, [0.1, 1.0, 10.0], 1.0, m=10)
    >>> sorted(sw), sw["lml_per_point"].shape
    (['clml_per_point', 'lml_per_point', 'prior_vars'], (3,))
    """
    pv = np.atleast_1d(check_real("prior_vars", prior_vars, min_value=_VAR_RANGE[0], max_value=_VAR_RANGE[1])).astype(float)
    if pv.ndim != 1 or pv.size == 0:
        raise ValueError(f"prior_vars has shape {pv.shape}, must be a non-empty vector of variances")
    X, y = _check_xy(X, y)
    n = X.shape[0]
    m = check_int("m", m, min_value=1, max_value=n)
    check_real("noise_var", noise_var, min_value=_VAR_RANGE[0], max_value=_VAR_RANGE[1], scalar=True)
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together (or both left out)")
    if X_test is not None:
        Xt, _ = _check_xy(X_test, y_test, ("X_test", "y_test"))
        if Xt.shape[1] != X.shape[1]:
            raise ValueError(f"X_test has {Xt.shape[1]} columns, must have d = {X.shape[1]} like X")
    out = {
        "prior_vars": pv,
        "lml_per_point": np.array([log_marginal_likelihood(X, y, s, noise_var) / n for s in pv]),
        "clml_per_point": np.array([conditional_log_marginal_likelihood(X, y, s, noise_var, m) / m for s in pv]),
    }
    if X_test is not None:
        out["test_lpd"] = np.array([predictive_log_density(X, y, X_test, y_test, s, noise_var) for s in pv])
    return out
