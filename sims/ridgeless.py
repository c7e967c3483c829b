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
and with few replicates also chunks of one replicate's chain) so that numpy's per-call
overhead is spread over thousands of numbers (see the fast-engine section below).

Heavy tails: the min-norm variance term has finite variance only when ``|n - p| >= 4``
(inverse-Wishart second moments); at ``|n - p|`` in {2, 3} its mean is finite but the sample
mean converges slowly, and z-tests there are not trustworthy. Claims restrict their domain.
"""
from __future__ import annotations

import math

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
    replicate (a few percent of the draws for lam = 0, ~30% for lam > 0, at any number of
    replicates per call: benchmarks/results/ridgeless.md, ridgeless_scaling.md).
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
# *lanes*: one lane is one replicate, or (few replicates) one chunk of one replicate. The draws are
# made directly in the loop's layout, a C-ordered (L, C, R) array (L steps, C chunks, R
# replicates; position k = c L + j - pad of the chain sits at [j, c, :]), so every step of the
# Python loop touches one contiguous row of C R lanes. Rows of ~4k lanes amortise numpy's
# per-call overhead; then the loop costs a few percent of the gamma draws themselves (lam = 0)
# or ~30% of them (lam > 0: 15 array operations per step unchunked, 27 (7 of them on twice
# the lanes) in its two chunked passes). The chunk count is a function of (m, reps per block,
# lam) only, and the draws fill the (L, C, R) array in its memory order, so the result depends
# only on (n, p, lam, reps) and the generator's state; different layouts put different
# variates at a position (same law).
#
# Chunks. lam = 0: S_k = (gb_k S_{k-1} + 1) / ga_k is linear; each chunk runs from a zero
# state beside its homogeneous solution and one bidiagonal solve over the chunks adds the
# true incoming states (:func:`_inverse_trace_lanes`). lam > 0: the Cholesky state u_k is a
# Moebius map of u_{k-1} with a positive 2 x 2 matrix, so chunks compose their matrices
# (pass 1), a doubling scan over the chunks gives each chunk's true incoming u, and pass 2
# reruns the recursion from it, the (given u, linear) row norms S and their derivatives Y in
# pieces that multiply the unknown incoming S, S^2, Y; two bidiagonal solves over the chunks
# fix those (:func:`_shifted_traces_chunked`). No cancellation anywhere: chunked and
# unchunked agree to rounding on the same draws (tests/test_sims_ridgeless.py). The shifted
# recursion chunks only where that pays (at least ``_MIN_SHIFTED_CHUNKS`` chunks, i.e. at
# most ~1.4k replicates per block) and for halved shifts in ``_CHUNK_SHIFTS``.
#
# Units. Draws are standard gammas g = chi^2 / 2 (the same variates numpy's ``chisquare``
# returns, halved); traces are rescaled at the end (tr (2T)^{-1} = tr T^{-1} / 2).

_LANES = 4096
"""Target row length of the recursion loop (replicates x chunks)."""

_BLOCK_DRAWS = 1 << 22
"""At most this many positions x replicates per block: two float64 arrays of 32 MiB each."""

_MIN_CHUNK = 64
"""Shortest chunk of a chunked chain: the pass over chunks stays negligible."""

_CHUNK_SHIFTS = (1e-100, 1e100)
"""Halved shifts s = shift / 2 at which the shifted recursion may run in chunks (the matrices of
:func:`_moebius_chunks` then stay far inside the float range); outside, one chunk per chain."""

_MIN_SHIFTED_CHUNKS = 4
"""Fewest chunks per chain worth the shifted recursion's chunking: a chunked step costs about
twice an unchunked one (its two passes), so fewer chunks would not pay."""

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


def _shifted_layout(m: int, reps: int, shift: float) -> int:
    """Chunks per chain for the shifted recursion: the chunk length of :func:`_layout` with the
    fewest chunks that cover m (so padding stays in chunk 0), where that gives at least
    ``_MIN_SHIFTED_CHUNKS`` chunks and the shift is in ``_CHUNK_SHIFTS``; else 1."""
    L, c = _layout(m, reps, True)
    c = -(-m // L)  # the fewest chunks of L steps: the padding (L c - m < L) stays inside chunk 0
    ok = c >= _MIN_SHIFTED_CHUNKS and _CHUNK_SHIFTS[0] <= 0.5 * shift <= _CHUNK_SHIFTS[1]
    return c if ok else 1


def _gamma_draws(dof: int, m: int, reps: int, chunks: int, rng: np.random.Generator):
    """Halved Dumitriu-Edelman chi-squares in the (L, C, reps) loop layout.

    ga[k] = a_k^2 / 2 with a_k^2 ~ chi^2_{dof-k}; gb[k] = b_{k-1}^2 / 2 with
    b_{k-1}^2 ~ chi^2_{m-k} (k >= 1) and gb[0] = 0. Padding positions (k < 0, in front of
    chunk 0) get shape 0, which numpy returns as 0.0 without consuming random numbers;
    ga is set to inf there (the lam = 0 loop then gets 0 from them;
    :func:`_shifted_traces_chunked` replaces it by 1 and discards their sums).
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


def _chain_solve(h: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x (C, R) with x_c = y_c + h_c x_{c-1} (x_{-1} = 0) along the C chunks, per replicate.

    A unit lower-bidiagonal solve, one LAPACK ``dtbtrs`` call for all replicates (chains of C
    unknowns laid end to end, uncoupled across replicates); with h, y >= 0 every term is >= 0.
    """
    C, R = y.shape
    sub = np.zeros((R, C))
    sub[:, :-1] = -h[1:].T
    ab = np.stack([np.ones(R * C), sub.ravel()])
    x, info = lapack.dtbtrs(ab, y.T.reshape(R * C, 1), uplo="L", diag="U")
    if info != 0:  # pragma: no cover - a unit triangular solve cannot be singular
        raise RuntimeError(f"dtbtrs failed, info={info}")
    return x.reshape(R, C).T


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
    # Serial pass over chunks: the state leaving chunk c is x_c = y_c + h_c x_{c-1}.
    x = _chain_solve(h, y)
    return 0.5 * (ysum.sum(axis=0) + np.einsum("cr,cr->r", hsum[1:], x[:-1]))


def _shifted_traces_lanes(ga: np.ndarray, gb: np.ndarray, shift: float):
    """(tr T^{-1}, tr T^{-2}) per replicate, T = B B^T + shift I, halved draws (L, C, R).

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

    C = 1: this recursion, one Python step per position over the R replicates. C > 1 (shift / 2
    in ``_CHUNK_SHIFTS``, padding inside chunk 0 only; else ValueError): the same recursion in
    chunks, :func:`_shifted_traces_chunked`, equal to rounding. May overwrite the padding
    entries of ``ga`` (internal arrays).
    """
    L, C, R = ga.shape
    s = 0.5 * float(shift)
    if C != 1:
        if not _CHUNK_SHIFTS[0] <= s <= _CHUNK_SHIFTS[1]:
            raise ValueError(f"chunks={C} with shift={shift}: chunks need shift / 2 in [{_CHUNK_SHIFTS[0]:g}, {_CHUNK_SHIFTS[1]:g}]")
        sum_s, two_y_minus_s2 = _shifted_traces_chunked(ga, gb, s)
        return 0.5 * sum_s, 0.25 * two_y_minus_s2
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


def _moebius_chunks(ga: np.ndarray, gb: np.ndarray, s: float, ga_in: np.ndarray) -> np.ndarray:
    """Each chunk's map of the Cholesky state u, as a normalised 2 x 2 matrix (4, C, R) = (p, q, r, t).

    One step u_k = s + gb_k u_{k-1} / (ga_{k-1} + u_{k-1}) is the Moebius map of the matrix
    M_k = [[s + gb_k, s ga_{k-1}], [1, ga_{k-1}]] (u = N / D for (N, D)_k = M_k (N, D)_{k-1});
    a chunk's map is the product of its L matrices, every entry a sum of non-negative terms
    (no cancellation). ``ga_in`` is ga_{k-1} for each chunk's first position. The product is
    rescaled to r + t = 1 every K steps, K from bounds on the growth and shrinkage per step
    (entries stay inside [1e-300, 1e300]); rescaling does not change the map.
    """
    L, C, R = ga.shape
    mul, add, rec = np.multiply, np.add, np.reciprocal
    grow = s + float(gb.max()) + float(ga.max()) + 1.0  # D_k <= grow D_{k-1}, N_k <= (s + max gb) D_k
    per_step = max(math.log2(grow), math.log2(1.0 / s), 1.0)  # D_k >= s D_{k-1} once N >= s D
    K = max(1, int((990.0 - math.log2(grow)) // per_step))
    num = np.zeros((2, C, R))  # (p, q): numerators of the images of u = inf and u = 0
    den = np.zeros((2, C, R))  # (r, t)
    num[0] = 1.0
    den[1] = 1.0
    e, f, nrm, tmp = np.empty((C, R)), np.empty((C, R)), np.empty((C, R)), np.empty((2, C, R))
    for j in range(L):
        g = ga_in if j == 0 else ga[j - 1]
        add(gb[j], s, e)
        mul(g, s, f)
        mul(den, f, tmp)
        mul(den, g, den)
        add(den, num, den)  # D' = N + ga_{k-1} D
        mul(num, e, num)
        add(num, tmp, num)  # N' = (s + gb_k) N + s ga_{k-1} D
        if (j + 1) % K == 0 or j == L - 1:
            add(den[0], den[1], nrm)
            rec(nrm, nrm)
            mul(num, nrm, num)
            mul(den, nrm, den)
    return np.concatenate([num, den])


def _moebius_prefix(A: np.ndarray) -> np.ndarray:
    """Inclusive prefix products A_c A_{c-1} ... A_0 of the chunk maps (4, C, R), by doubling
    (Hillis-Steele: log2 C vectorised rounds instead of a Python loop over C), each product
    rescaled to r + t = 1; all entries non-negative (no cancellation)."""
    A = A.copy()
    C = A.shape[1]
    d = 1
    while d < C:
        p, q, r, t = A[:, d:]
        p0, q0, r0, t0 = A[:, :-d]
        out = np.stack([p * p0 + q * r0, p * q0 + q * t0, r * p0 + t * r0, r * q0 + t * t0])
        out *= 1.0 / (out[2] + out[3])
        A[:, d:] = out
        d *= 2
    return A


def _shifted_traces_chunked(ga: np.ndarray, gb: np.ndarray, s: float):
    """2 tr T'^{-1} and 4 tr T'^{-2} (halved units, halved shift s) for C > 1 chunks per chain.

    Pass 1 (:func:`_moebius_chunks`, :func:`_moebius_prefix`) gives each chunk's true incoming
    Cholesky state u. Pass 2 reruns the recursion of :func:`_shifted_traces_lanes` from it,
    with the linear parts from a zero state: per chunk S_k = y_k + h_k S_in (h_k the product of
    x since the chunk's start) and Y_k = Z_k + 2 S_in h_k ysum_k + S_in^2 h_k hsum_k + h_k Y_in
    (Z from zero, ysum / hsum running sums of y / h), so the chunk contributes
    sum S = ysum + S_in hsum and
    2 sum Y - sum S^2 = (2 sum Z - sum y^2) + 2 S_in sum_k h_k (ysum_k + ysum_{k-1})
    + S_in^2 hsum^2 + 2 Y_in hsum (every term >= 0 but the one difference, which loses at most a
    factor 2, as in the unchunked form). Two unit-bidiagonal solves along the chunks
    (:func:`_chain_solve`) give S_in, then Y_in. Padding positions (in front of chunk 0,
    ga = inf from :func:`_gamma_draws`) are set to ga = 1 here (gb = 0 there, so they pass no
    state on) and their sums discarded when chunk 0's first position arrives.
    """
    L, C, R = ga.shape
    col = ga[:, 0, 0]
    pad = int(np.count_nonzero(np.isinf(col)))
    if pad == L or np.isinf(ga[-1]).any():
        raise ValueError(f"padding of {pad} positions in chunks of {L}: must lie inside chunk 0 (at most L - 1 positions)")
    if pad:
        ga[:pad, 0, :] = 1.0  # in place: finite padding (gb = 0 there), no inf * 0
    ga_in = np.empty((C, R))  # ga at the position before each chunk's first
    ga_in[0] = 1.0
    ga_in[1:] = ga[-1, :-1]
    A = _moebius_prefix(_moebius_chunks(ga, gb, s, ga_in))
    u = np.empty((C, R))
    u[0] = s
    p, q, r, t = A[:, :-1]
    u[1:] = (p * s + q) / (r * s + t)  # the state leaving chunk c - 1
    mul, add, rec = np.multiply, np.add, np.reciprocal
    w = rec(ga_in + u)
    z = lambda: np.zeros((C, R))  # noqa: E731
    y, ysum, ysum2, hsum, cross, y2sum, Z, Zsum = z(), z(), z(), z(), z(), z(), z(), z()
    h = np.ones((C, R))
    qq, x, cr, y2 = z(), z(), z(), z()
    for j in range(L):
        if j == pad and pad:
            ysum[0] = y2sum[0] = Zsum[0] = 0.0  # drop chunk 0's padding
        g = ga_in if j == 0 else ga[j - 1]
        mul(gb[j], w, qq)  # b_{k-1}^2 / l_{k-1}^2
        mul(u, qq, u)
        add(u, s, u)
        mul(g, qq, x)  # c_{k-1}^2
        add(ga[j], u, w)
        rec(w, w)  # 1 / l_k^2
        mul(x, w, x)
        mul(y, x, y)
        add(y, w, y)
        add(ysum, y, ysum2)
        add(ysum2, ysum, cr)  # ysum_k + ysum_{k-1}
        ysum, ysum2 = ysum2, ysum
        mul(h, x, h)
        add(hsum, h, hsum)
        mul(cr, h, cr)
        add(cross, cr, cross)
        mul(y, y, y2)
        add(y2sum, y2, y2sum)
        mul(Z, x, Z)
        add(Z, y2, Z)
        add(Zsum, Z, Zsum)
    s_out = _chain_solve(h, y)
    s_in = np.zeros((C, R))
    s_in[1:] = s_out[:-1]
    y_out = _chain_solve(h, Z + h * s_in * (2.0 * ysum + s_in * hsum))
    y_in = np.zeros((C, R))
    y_in[1:] = y_out[:-1]
    sum_s = (ysum + s_in * hsum).sum(axis=0)
    two_y_minus_s2 = (2.0 * (Zsum + y_in * hsum) + s_in * (2.0 * cross + s_in * hsum * hsum)).sum(axis=0) - y2sum.sum(axis=0)
    return sum_s, two_y_minus_s2


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
            c = chunks if chunks is not None else _shifted_layout(m, r, shift)
            ga, gb = _gamma_draws(dof, m, r, c, rng)
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
