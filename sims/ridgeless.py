"""Monte Carlo simulators for ridge / min-norm least squares risk.

Three simulators that must agree statistically (tests/test_sims_ridgeless.py):

* **direct** (:func:`direct_risk_samples`): sample X (n x p), y = X beta + eps, fit by
  ``lstsq`` (min-norm) or the ridge normal equations, measure ||beta_hat - beta||^2.
* **fast** (:func:`fast_risk_samples`): isotropic Gaussian X is rotation invariant, so the
  risk depends on X only through the spectrum of the Wishart matrix W (X^T X if p <= n,
  X X^T otherwise), and on beta only through r^2. We sample that spectrum's bidiagonal
  model (Dumitriu & Edelman 2002, Thm 3.4) and return the *conditional expectation* of the
  risk given the spectrum (averaged over noise and over beta's direction, which is uniform
  relative to the Haar eigenvectors): a Rao-Blackwellised estimator with the same mean
  and smaller variance. Per replicate it costs O(min(n, p)) instead of O(n p min(n, p)):
  its 2 m - 1 gamma draws plus a few flops per draw (benchmarks/results/ridgeless.md).
* **Bartlett** (:func:`bartlett_risk_samples`): the same random variable as the fast path by
  dense linear algebra (Bartlett factor of W, one ``dtrtri``), O(m^3): the strongest direct
  baseline, used by the benchmarks.

For the fixed-beta ridge curves of the optimal-lambda claim, :func:`spectral_ridge_curves`
samples what :func:`direct_ridge_curves` gets from an SVD of X, in the same joint law.

Given the nonzero eigenvalues mu_i of Sigma_hat = X^T X / n (m = min(n, p) of them):

    bias     = r^2 / p * ( lam^2 sum_i 1/(mu_i + lam)^2 + (p - m) )
    variance = sigma^2 / n * sum_i mu_i / (mu_i + lam)^2

(lam = 0: bias = r^2 (1 - n/p)_+, variance = sigma^2 tr(W^{-1})). The two traces
t1 = sum 1/(mu+lam), t2 = sum 1/(mu+lam)^2 come from a Cholesky recursion on the
tridiagonal B B^T + n lam I, O(m) per replicate, run row by row over "lanes" (replicates,
and for lam = 0 also chunks of one replicate's chain) so that numpy's per-call overhead is
spread over thousands of numbers (see the fast-engine section below).

Heavy tails: the min-norm variance term has finite variance only when ``|n - p| >= 4``
(inverse-Wishart second moments); at ``|n - p|`` in {2, 3} its mean is finite but the sample
mean converges slowly, and z-tests there are not trustworthy. Claims restrict their domain.
"""
from __future__ import annotations

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.sims._blas import one_blas_thread  # the dense baselines: one BLAS thread
from claimcheck.theory.validation import MAX_EXACT_INT, MAX_REPS, check_array, check_int, check_real, check_rng, check_size

blas = lazy_module("scipy.linalg.blas")  # imported on first use (claimcheck list/--help stay cheap)
lapack = lazy_module("scipy.linalg.lapack")

__all__ = [
    "laguerre_bidiagonal",
    "wishart_traces",
    "fast_risk_samples",
    "bartlett_risk_samples",
    "direct_risk_samples",
    "direct_ridge_curves",
    "spectral_ridge_curves",
]


_MAX_LAM = 1e140  # supported ridge penalties: lam^2 and the shift n lam (n <= 1e8) stay far inside the float range
_MAX_SHIFT = 1e150  # supported shifts of wishart_traces: shift^2 finite, so its derivative never meets inf * 0


_NO_RNG = object()


def _check_common(n, p, signal, noise, lam, reps, rng=_NO_RNG):
    out = (
        check_int("n", n, min_value=1, max_value=10**8),
        check_int("p", p, min_value=1, max_value=10**8),
        check_real("signal", signal, min_value=0, scalar=True),
        check_real("noise", noise, min_value=0, scalar=True),
        check_real("lam", lam, min_value=0, max_value=_MAX_LAM, scalar=True),
        check_int("reps", reps, min_value=1, max_value=MAX_REPS),
    )
    if rng is not _NO_RNG:
        check_rng("rng", rng)
    return out


def laguerre_bidiagonal(dof: int, m: int, reps: int, rng: np.random.Generator):
    """Sample the bidiagonal model of a real Wishart matrix W_m(dof, I), dof >= m.

    Returns (a, b) with a of shape (reps, m) and b of shape (reps, m - 1): the lower-
    bidiagonal B with diagonal a_i ~ chi_{dof - i} and subdiagonal b_i ~ chi_{m - 1 - i}
    has B B^T with the same eigenvalue law as W. Source: Dumitriu & Edelman, "Matrix
    models for beta ensembles" (2002), Thm 3.4 with beta = 1.
    """
    dof = check_int("dof", dof, min_value=1, max_value=MAX_EXACT_INT)
    m = check_int("m", m, min_value=1, max_value=min(dof, 10**8))
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_size("reps x m", reps * m)
    a = np.sqrt(rng.chisquare(dof - np.arange(m), size=(reps, m)))
    b = np.sqrt(rng.chisquare(m - 1 - np.arange(m - 1), size=(reps, m - 1))) if m > 1 else np.zeros((reps, 0))
    return a, b


def wishart_traces(a: np.ndarray, b: np.ndarray, shift: float = 0.0):
    """t1 = tr (B B^T + shift I)^{-1} and t2 = tr (B B^T + shift I)^{-2} per replicate.

    ``a`` (reps, m) and ``b`` (reps, m - 1) as returned by :func:`laguerre_bidiagonal`.
    The cancellation-free Cholesky recursion of :func:`_shifted_traces_lanes`, O(m) per
    replicate, vectorised over replicates.
    """
    # supported range: chi variates in [1e-100, 1e100] (their squares, products and ratios stay finite)
    a = check_array("a", a, min_value=1e-100, max_value=1e100, ndim=2)
    b = check_array("b", b, min_value=0, max_value=1e100, ndim=2, min_size=0)
    shift = check_real("shift", shift, min_value=0, max_value=_MAX_SHIFT, scalar=True)
    reps, m = a.shape
    if b.shape != (reps, m - 1):
        raise ValueError(f"b has shape {b.shape}, must be (reps, m - 1) = {(reps, m - 1)} for a of shape {a.shape}")
    ga = (0.5 * a * a).T[:, None, :].copy()
    gb = np.zeros_like(ga)
    gb[1:, 0, :] = (0.5 * b * b).T
    return _shifted_traces_lanes(ga, gb, float(shift))


def fast_risk_samples(n: int, p: int, signal: float, noise: float, lam: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Rao-Blackwellised excess-risk samples of ridge (lam > 0) or min-norm (lam = 0).

    Each entry is E[ ||beta_hat - beta||^2 | spectrum of X^T X ] for one draw of the
    spectrum; the mean over entries is an unbiased estimate of the expected excess risk.
    Cost: the 2 m - 1 gamma draws of the bidiagonal model plus an O(m) recursion per
    replicate (a few percent of the draws for lam = 0, benchmarks/results/ridgeless.md).
    """
    n, p, signal, noise, lam, reps = _check_common(n, p, signal, noise, lam, reps, rng)
    m = min(n, p)
    # Eigenvalues of Sigma_hat = W / n: t1 = n tr (W + n lam)^{-1}, t2 = n^2 tr (W + n lam)^{-2}.
    t1, t2 = _traces(max(n, p), m, reps, n * lam, rng)
    t1 *= n
    if lam == 0.0:
        return signal / p * (p - m) + noise / n * t1
    t2 *= n * n
    bias = signal / p * (lam * lam * t2 + (p - m))
    variance = noise / n * (t1 - lam * t2)
    return bias + variance


# ----------------------------------------------------------------------------- fast engine
#
# Layout. The recursions run along the m positions of the bidiagonal and are vectorised over
# *lanes*: one lane is one replicate, or (lam = 0) one chunk of one replicate. The draws are
# made directly in the loop's layout, a C-ordered (L, C, R) array (L steps, C chunks, R
# replicates; position k = c L + j - pad of the chain sits at [j, c, :]), so every step of the
# Python loop touches one contiguous row of C R lanes. Rows of ~4k lanes amortise numpy's
# per-call overhead; then the loop costs a few percent of the gamma draws themselves.
#
# Units. Draws are standard gammas g = chi^2 / 2 (the same variates numpy's ``chisquare``
# returns, halved); traces are rescaled at the end (tr (2T)^{-1} = tr T^{-1} / 2).

_LANES = 4096
"""Target row length of the recursion loop (replicates x chunks)."""

_BLOCK_DRAWS = 1 << 22
"""At most this many positions x replicates per block: two float64 arrays of 32 MiB each."""

_MIN_CHUNK = 64
"""Shortest chunk of a chunked (lam = 0) chain: the serial pass over chunks stays negligible."""

_SCALAR_DRAWS = 1024
"""From this many replicates per block on, the gamma draws are made one position at a time
(scalar shape, ``out=`` a contiguous row); below it one broadcasting call (per-call overhead
would dominate). Both give the same variates in the same order."""


def _layout(m: int, reps: int, chunked: bool) -> tuple[int, int]:
    """(L, C): steps and chunks per lane for a block of ``reps`` replicates of length m."""
    c = 1
    if chunked and reps < _LANES:
        c = max(1, min(-(-_LANES // reps), m // _MIN_CHUNK))
    return -(-m // c), c


def _gamma_draws(dof: int, m: int, reps: int, chunks: int, rng: np.random.Generator):
    """Halved Dumitriu-Edelman chi-squares in the (L, C, reps) loop layout.

    ga[k] = a_k^2 / 2 with a_k^2 ~ chi^2_{dof-k}; gb[k] = b_{k-1}^2 / 2 with
    b_{k-1}^2 ~ chi^2_{m-k} (k >= 1) and gb[0] = 0. Padding positions (k < 0, in front of
    chunk 0) get shape 0, which numpy returns as 0.0 without consuming random numbers;
    ga is set to 1 there (the loop zeroes their contribution).
    """
    L = -(-m // chunks)
    pad = L * chunks - m
    k = np.arange(L * chunks) - pad  # position in the chain, negative for padding
    shape_a = np.where(k >= 0, (dof - k) / 2.0, 0.0)
    shape_b = np.where(k >= 1, (m - k) / 2.0, 0.0)
    grid = (chunks, L)  # position c L + j  ->  [j, c]
    if reps < _SCALAR_DRAWS:
        ga = rng.standard_gamma(shape_a.reshape(grid).T[:, :, None], size=(L, chunks, reps))
        gb = rng.standard_gamma(shape_b.reshape(grid).T[:, :, None], size=(L, chunks, reps))
    else:
        # The same variates in the same (C) order, one scalar-shape call per position into
        # its contiguous row of replicates: numpy's scalar-parameter loop is ~20% cheaper per
        # draw than its broadcasting one (bit-identical output, tests/test_sims_ridgeless.py).
        ga, gb = np.empty((L, chunks, reps)), np.empty((L, chunks, reps))
        draw = rng.standard_gamma
        for out, shape in ((ga, shape_a), (gb, shape_b)):
            for j, shapes_j in enumerate(shape.reshape(grid).T.tolist()):
                row = out[j]
                for c, s in enumerate(shapes_j):
                    draw(s, size=reps, out=row[c])
    if pad:
        ga[(k < 0).reshape(grid).T] = np.inf
    return ga, gb


def _inverse_trace_lanes(ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """tr W^{-1} per replicate for W = B B^T, from halved draws in the (L, C, R) layout.

    With Cholesky factor B itself (l_k = a_k, c_k = b_k): S_k = ||row k of B^{-1}||^2 obeys
    S_k = (b_{k-1}^2 S_{k-1} + 1) / a_k^2, tr W^{-1} = sum_k S_k; in halved units
    S'_k = 2 S_k = (gb_k S'_{k-1} + 1) / ga_k (gb = 0 at each chain start).

    Chunks (C > 1) run from a zero state y alongside the homogeneous solution h (the product
    of gb_k / ga_k since the chunk's start); a serial pass over the C chunks then adds each
    chunk's true incoming state: S'_k = y_k + h_k S'_in, all terms positive (no cancellation).
    Padding positions (ga = inf, gb = 0) contribute 0 and pass no state on.
    """
    L, C, R = ga.shape
    mul, add, div = np.multiply, np.add, np.divide  # positional out=: least per-call overhead
    y = np.reciprocal(ga[0])
    ysum = y.copy()
    if C == 1:
        for ga_j, gb_j in zip(ga[1:, 0], gb[1:, 0]):
            mul(y[0], gb_j, y[0])
            add(y[0], 1.0, y[0])
            div(y[0], ga_j, y[0])
            add(ysum[0], y[0], ysum[0])
        return 0.5 * ysum[0]
    h = gb[0] / ga[0]  # links a chunk's first position to the previous chunk's last
    hsum = h.copy()
    alpha = np.empty_like(h)
    for ga_j, gb_j in zip(ga[1:], gb[1:]):
        div(gb_j, ga_j, alpha)
        mul(y, gb_j, y)
        add(y, 1.0, y)
        div(y, ga_j, y)
        add(ysum, y, ysum)
        mul(h, alpha, h)
        add(hsum, h, hsum)
    # Serial pass over chunks: the state leaving chunk c is x_c = y_c + h_c x_{c-1}
    # (x_{-1} = 0), a unit lower-bidiagonal solve, one LAPACK call for all replicates
    # (chains of C unknowns laid end to end, uncoupled across replicates).
    sub = np.zeros((R, C))
    sub[:, :-1] = -h[1:].T
    ab = np.stack([np.ones(R * C), sub.ravel()])
    x, info = lapack.dtbtrs(ab, y.T.reshape(R * C, 1), uplo="L", diag="U")
    if info != 0:  # pragma: no cover - a unit triangular solve cannot be singular
        raise RuntimeError(f"dtbtrs failed, info={info}")
    x = x.reshape(R, C).T
    return 0.5 * (ysum.sum(axis=0) + np.einsum("cr,cr->r", hsum[1:], x[:-1]))


def _shifted_traces_lanes(ga: np.ndarray, gb: np.ndarray, shift: float):
    """(tr T^{-1}, tr T^{-2}) per replicate, T = B B^T + shift I, halved draws (L, 1, R).

    Cancellation-free Cholesky T = L L^T: l_k^2 = a_k^2 + u_k, u_0 = shift,
    u_k = shift + b_{k-1}^2 u_{k-1} / l_{k-1}^2, c_{k-1}^2 = a_{k-1}^2 b_{k-1}^2 / l_{k-1}^2
    (all terms >= 0). Row norms S_k = ||row k of L^{-1}||^2 obey
    S_k = x_k S_{k-1} + 1 / l_k^2 with x_k = c_{k-1}^2 / l_k^2, and tr T^{-1} = sum_k S_k.
    Their derivatives V_k = -dS_k/dshift (by dl_k^2/dshift = l_k^2 S_k) obey
    V_k = S_k^2 + x_k (S_{k-1}^2 + V_{k-1}); with Y_k = (S_k^2 + V_k) / 2 =
    S_k^2 + x_k Y_{k-1}: tr T^{-2} = -d tr T^{-1}/dshift = sum_k V_k = 2 sum Y - sum S^2
    (V_k >= S_k^2, so this difference loses at most a factor 2 in relative accuracy).
    In halved units (T' = T / 2, shift' = shift / 2) the same recursion gives
    tr T^{-1} = tr T'^{-1} / 2 and tr T^{-2} = tr T'^{-2} / 4.

    """
    L, C, R = ga.shape
    if C != 1:
        raise ValueError(f"chunks={C}, must be 1 (the shifted recursion is not linear)")
    s = 0.5 * float(shift)
    ga, gb = ga[:, 0, :], gb[:, 0, :]
    mul, add, rec = np.multiply, np.add, np.reciprocal  # positional out=: least per-call overhead
    u = np.full(R, s)
    w = rec(ga[0] + s)  # 1 / l_0^2
    S = w.copy()
    S2 = S * S
    Y = S2.copy()
    sum_s, sum_s2, sum_y = S.copy(), S2.copy(), Y.copy()
    q, x = np.empty(R), np.empty(R)
    for ga_prev, ga_k, gb_k in zip(ga[:-1], ga[1:], gb[1:]):
        mul(gb_k, w, q)  # b_{k-1}^2 / l_{k-1}^2
        mul(u, q, u)
        add(u, s, u)
        mul(ga_prev, q, x)  # c_{k-1}^2
        add(ga_k, u, w)
        rec(w, w)  # 1 / l_k^2
        mul(x, w, x)
        mul(S, x, S)
        add(S, w, S)
        mul(S, S, S2)
        mul(Y, x, Y)
        add(Y, S2, Y)
        add(sum_s, S, sum_s)
        add(sum_s2, S2, sum_s2)
        add(sum_y, Y, sum_y)
    return 0.5 * sum_s, 0.25 * (2.0 * sum_y - sum_s2)


def _traces(dof: int, m: int, reps: int, shift: float, rng: np.random.Generator, chunks: int | None = None):
    """tr (W + shift I)^{-1} (and tr (W + shift I)^{-2} when shift > 0) for ``reps``
    independent W ~ Wishart_m(dof, I), through the bidiagonal model; blocks of replicates
    keep the draws under ``_BLOCK_DRAWS`` positions x replicates. ``chunks`` forces the
    chunk count (tests); default from :func:`_layout`."""
    block = max(1, min(reps, _BLOCK_DRAWS // m))
    t1, t2 = np.empty(reps), np.empty(reps) if shift > 0 else None
    for start in range(0, reps, block):
        r = min(block, reps - start)
        if shift > 0:
            ga, gb = _gamma_draws(dof, m, r, 1, rng)
            t1[start:start + r], t2[start:start + r] = _shifted_traces_lanes(ga, gb, shift)
        else:
            c = chunks if chunks is not None else _layout(m, r, True)[1]
            t1[start:start + r] = _inverse_trace_lanes(*_gamma_draws(dof, m, r, c, rng))
    return t1, t2


def bartlett_risk_samples(n: int, p: int, signal: float, noise: float, lam: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """The same Rao-Blackwellised risk samples as :func:`fast_risk_samples`, by dense linear algebra.

    The strongest *direct* method: sample the m x m Wishart W ~ W_m(max(n, p), I) through its
    Bartlett factor (W = L L^T, L lower triangular, L_ii ~ chi_{dof - i}, L_ij ~ N(0, 1) below
    the diagonal; Bartlett 1933, e.g. Anderson, *An Introduction to Multivariate Statistical
    Analysis*, Thm 7.2.1) and average over noise and beta's direction exactly as the fast path:
    lam = 0 needs tr W^{-1} = ||L^{-1}||_F^2 (one LAPACK ``dtrtri``, m^3 / 3 flops); lam > 0
    needs tr T^{-1} and tr T^{-2} = ||T^{-1}||_F^2 for T = W + n lam I (``dsyrk``, ``dpotrf``,
    ``dpotri``: ~2 m^3 flops). Same random variable as the fast path (tests, and the benchmark
    checks it before timing), O(m^3) instead of O(m) per replicate. Used as the baseline of
    ``benchmarks/bench_ridgeless.py``.
    """
    n, p, signal, noise, lam, reps = _check_common(n, p, signal, noise, lam, reps, rng)
    m, dof = min(n, p), max(n, p)
    check_size("min(n, p) x min(n, p)", m * m)
    shift = n * lam
    rows, cols = np.tril_indices(m, -1)
    diag = np.arange(m)
    t1, t2 = np.empty(reps), np.empty(reps)
    with one_blas_thread():  # one thread: BLAS threads only contend here
        for r in range(reps):
            L = np.zeros((m, m), order="F")
            L[diag, diag] = np.sqrt(rng.chisquare(dof - diag))
            L[rows, cols] = rng.standard_normal(rows.size)
            if shift == 0.0:
                Linv, info = lapack.dtrtri(L, lower=1, overwrite_c=1)
                if info != 0:  # pragma: no cover - chi-square diagonal entries are positive a.s.
                    raise RuntimeError(f"dtrtri failed, info={info}")
                flat = Linv.ravel(order="K")
                t1[r] = flat @ flat
            else:
                T = blas.dsyrk(1.0, L, lower=1)  # lower triangle of L L^T
                T[diag, diag] += shift
                C, info = lapack.dpotrf(T, lower=1, overwrite_a=1, clean=1)
                if info == 0:
                    Tinv, info = lapack.dpotri(C, lower=1, overwrite_c=1)
                if info != 0:  # pragma: no cover - T is positive definite for shift > 0
                    raise RuntimeError(f"Cholesky inverse failed, info={info}")
                d = Tinv[diag, diag]
                low = Tinv[rows, cols]
                t1[r] = d.sum()
                t2[r] = d @ d + 2.0 * (low @ low)
    t1 *= n
    if lam == 0.0:
        return signal / p * (p - m) + noise / n * t1
    t2 *= n * n
    return signal / p * (lam * lam * t2 + (p - m)) + noise / n * (t1 - lam * t2)


def _beta(p: int, signal: float) -> np.ndarray:
    beta = np.zeros(p)
    beta[0] = np.sqrt(signal)  # risk is rotation invariant: any direction is as good
    return beta


def direct_risk_samples(n: int, p: int, signal: float, noise: float, lam: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Plain Monte Carlo: sample X and eps, fit, return ||beta_hat - beta||^2 per replicate.

    lam = 0 uses ``numpy.linalg.lstsq`` (the min-norm solution for p > n); lam > 0 solves
    (X^T X / n + lam I) b = X^T y / n (or its n x n dual when p > n).
    """
    n, p, signal, noise, lam, reps = _check_common(n, p, signal, noise, lam, reps, rng)
    check_size("n x p", n * p)
    beta = _beta(p, signal)
    out = np.empty(reps)
    sd = np.sqrt(noise)
    for r in range(reps):
        X = rng.standard_normal((n, p))
        y = X @ beta + sd * rng.standard_normal(n)
        if lam == 0.0:
            bhat = np.linalg.lstsq(X, y, rcond=None)[0]
        elif p <= n:
            bhat = np.linalg.solve(X.T @ X / n + lam * np.eye(p), X.T @ y / n)
        else:
            bhat = X.T @ np.linalg.solve(X @ X.T / n + lam * np.eye(n), y / n)
        out[r] = np.sum((bhat - beta) ** 2)
    return out


def direct_ridge_curves(n: int, p: int, signal: float, noise: float, reps: int, rng: np.random.Generator):
    """Per-replicate ingredients of the fixed-beta ridge risk curve R_r(lam), noise averaged.

    For each replicate, with Sigma_hat = V diag(mu) V^T and c = V^T beta (beta fixed,
    *not* averaged over directions), the noise-averaged risk is

        R_r(lam) = lam^2 sum_i c_i^2/(mu_i + lam)^2 + ||P_null beta||^2
                   + sigma^2/n sum_i mu_i/(mu_i + lam)^2.

    Returns (mu, c2, null) with shapes (reps, m), (reps, m), (reps,); evaluate with
    :func:`ridge_curve`. Used to locate the finite-sample optimal lam by simulation.
    """
    n, p, signal, noise, _, reps = _check_common(n, p, signal, noise, 0.0, reps, rng)
    check_size("n x p", n * p)
    check_size("reps x min(n, p)", reps * min(n, p))
    beta = _beta(p, signal)
    m = min(n, p)
    mu = np.empty((reps, m))
    c2 = np.empty((reps, m))
    with one_blas_thread():  # small SVDs: BLAS threads only contend
        for r in range(reps):
            X = rng.standard_normal((n, p))
            _, sv, vt = np.linalg.svd(X, full_matrices=False)
            mu[r] = sv**2 / n
            c2[r] = (vt @ beta) ** 2
    null = signal - c2.sum(axis=1)
    return mu, c2, np.maximum(null, 0.0)


def spectral_ridge_curves(n: int, p: int, signal: float, noise: float, reps: int, rng: np.random.Generator):
    """The ingredients (mu, c2, null) of :func:`direct_ridge_curves`, in the same joint law, without X.

    For isotropic Gaussian X the eigenvectors V of Sigma_hat are Haar distributed and independent
    of its eigenvalues (X -> X O leaves the law of X unchanged for every orthogonal O), so
    c = V^T beta is a uniformly random vector of norm r = ||beta||: with g ~ N(0, I_p),
    c_i^2 = r^2 g_i^2 / ||g||^2 for the m = min(n, p) nonzero eigenvalues and
    ||P_null beta||^2 = r^2 sum_{i > m} g_i^2 / ||g||^2 (a chi^2_{p - m} draw, no cancellation).
    The eigenvalues mu are those of B B^T / n for the Dumitriu-Edelman bidiagonal B (as in
    :func:`laguerre_bidiagonal`), by LAPACK ``dsterf`` on the tridiagonal B B^T: O(m^2) per
    replicate instead of an SVD of the n x p matrix X. Returned eigenvalues are ascending
    (the direct ones descending; the curves do not depend on the order).
    """
    n, p, signal, noise, _, reps = _check_common(n, p, signal, noise, 0.0, reps, rng)
    m, dof = min(n, p), max(n, p)
    check_size("reps x min(n, p)", reps * m)
    a, b = laguerre_bidiagonal(dof, m, reps, rng)
    diag = a * a
    diag[:, 1:] += b * b
    off = a[:, :-1] * b
    mu = diag.copy()  # m = 1: the 1 x 1 matrix is its own eigenvalue
    dsterf = lapack.dsterf  # bound once: the loop makes one LAPACK call per replicate
    for r in range(reps if m > 1 else 0):
        mu[r], info = dsterf(diag[r], off[r])
        if info != 0:  # pragma: no cover - QL iteration converges for symmetric tridiagonals
            raise RuntimeError(f"dsterf failed, info={info}")
    mu = np.maximum(mu, 0.0) / n  # B B^T is positive semi-definite; rounding may not be
    g2 = rng.standard_normal((reps, m)) ** 2
    rest = rng.chisquare(p - m, size=reps) if p > m else np.zeros(reps)
    total = g2.sum(axis=1) + rest
    return mu, signal * g2 / total[:, None], signal * rest / total


def ridge_curve(lam: float, mu, c2, null, n: int, noise: float, derivative: int = 0) -> np.ndarray:
    """R_r(lam) (derivative=0), dR_r/dlam (1) or d^2R_r/dlam^2 (2) per replicate."""
    if derivative not in (0, 1, 2):
        raise ValueError(f"derivative={derivative}, must be 0, 1 or 2")
    dk = (mu + lam) ** (derivative + 2)  # one power of the (reps, m) array, shared by both sums
    if derivative == 0:
        return lam**2 * np.sum(c2 / dk, 1) + null + noise / n * np.sum(mu / dk, 1)
    if derivative == 1:
        return 2 * lam * np.sum(c2 * mu / dk, 1) - 2 * noise / n * np.sum(mu / dk, 1)
    return 2 * np.sum(c2 * mu * (mu - 2 * lam) / dk, 1) + 6 * noise / n * np.sum(mu / dk, 1)
