"""Monte Carlo of the Nagarajan-Kolter linear construction (see :mod:`theory.uniform_convergence`).

Two simulators that must agree statistically (tests/test_uniform_convergence_theory.py):

* **direct** (:func:`direct_error_samples`): draws the labels y_i, the noise blocks z_i and
  the full inputs x_i = (y_i u, z_i) in R^{K+D} (u = sqrt(signal / K) 1_K), takes the GD
  step w = sum_i y_i x_i (eta = 1; the sign of <w, x> does not depend on eta), and counts
  the errors on S, on S' (noise blocks negated, labels kept) and on fresh test points,
  batched over replicates (numpy, BLAS on one thread). The test error is either counted on
  ``test_points`` fresh points or, with ``test_points=None``, Rao-Blackwellised over the
  fresh point: given w, y <w, x> = <w_1, u> + y <Z, z> is exactly N(<w_1, u>, (s^2/D)||Z||^2),
  so the conditional test error is Phi(-<w_1, u> / (s ||Z|| / sqrt(D))) (same mean, smaller
  variance). Cost O(reps n (K + D)).
* **fast** (:func:`fast_error_samples`, D >= n): with v_i = y_i z_i the labels drop out and
  every margin is a function of the Gram matrix G = (<v_i, v_j>), which is (s^2 / D) times a
  Wishart_n(D, I) matrix; we sample it through Bartlett's decomposition G = (s^2/D) A A^T
  (A lower triangular, A_ii ~ chi_{D-i+1}, A_ij ~ N(0, 1) below the diagonal; Bartlett 1933,
  see Muirhead 1982, Thm 3.2.14). Margins: train n r^2 + (G 1)_i, S' n r^2 - (G 1)_i,
  test error Phi(-n r^2 / (s/sqrt(D) sqrt(1^T G 1))), ||w||^2 = n^2 r^2 + 1^T G 1 and
  max_i ||x_i||^2 = r^2 + max_i G_ii. Cost O(reps n^2) (n (n - 1) / 2 normals and n chi's per
  replicate), independent of D.

Each returns a dict of per-replicate arrays (shape (reps,)): ``train``, ``test``, ``sprime``
(error fractions), ``weight_norm_sq`` (||w||^2) and ``rademacher`` (||w|| max_i ||x_i|| /
(min_i y_i <w, x_i> sqrt(n)); inf when some training margin is <= 0). The claims
(claimcheck.catalogue.uniform_convergence) use the fast simulator where D >= n and the direct
one below.
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.sims._blas import one_blas_thread
from claimcheck.theory.validation import MAX_EXACT_INT, MAX_REPS, check_int, check_real, check_rng, check_size

special = lazy_module("scipy.special")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = ["direct_error_samples", "fast_error_samples"]

_CHUNK_FLOATS = 1 << 22  # floats per batch (32 MB of float64): z of the direct simulator, the packed Bartlett factor of the fast one


def _check(n, D, signal, noise, reps, K=1):
    return (
        check_int("n", n, min_value=1, max_value=10**7),
        check_int("D", D, min_value=1, max_value=MAX_EXACT_INT),
        # supported ranges: sampled margins, norms and their ratios stay finite and nonzero
        check_real("signal", signal, min_value=0, max_value=1e100, scalar=True),
        check_real("noise", noise, min_value=1e-100, max_value=1e100, scalar=True),
        check_int("reps", reps, min_value=1, max_value=MAX_REPS),
        check_int("K", K, min_value=1, max_value=10**7),
    )


def direct_error_samples(n: int, D: int, signal: float, noise: float, reps: int, rng: np.random.Generator,
                         *, K: int = 2, test_points: int | None = None) -> dict[str, np.ndarray]:
    """Per-replicate train / test / S' error fractions of w = sum_i y_i x_i, from explicit vectors.

    ``test_points=None``: Rao-Blackwellised test error (exact conditional tail given w);
    an integer m >= 1: the error fraction on m fresh test points.

    >>> out = direct_error_samples(8, 64, 1 / 32, 1.0, 5, np.random.default_rng(0))
    >>> sorted(out), out["sprime"].shape
    (['rademacher', 'sprime', 'test', 'train', 'weight_norm_sq'], (5,))
    """
    n, D, signal, noise, reps, K = _check(n, D, signal, noise, reps, K)
    if test_points is not None:
        test_points = check_int("test_points", test_points, min_value=1, max_value=10**7)
    check_rng("rng", rng)
    check_size("(n + test_points) x (K + D)", (n + (test_points or 0)) * (K + D))
    sigma = math.sqrt(noise / D)
    u = np.full(K, math.sqrt(signal / K))
    per_rep = (n + (test_points or 0)) * (K + D)
    chunk = max(1, _CHUNK_FLOATS // per_rep)
    out = {k: np.empty(reps) for k in ("train", "test", "sprime", "weight_norm_sq", "rademacher")}
    with one_blas_thread():
        for start in range(0, reps, chunk):
            r = min(chunk, reps - start)
            sl = slice(start, start + r)
            y = 2.0 * rng.integers(0, 2, size=(r, n)) - 1.0                      # (r, n)
            z = rng.standard_normal((r, n, D))                                     # (r, n, D)
            z *= sigma                                                             # in place: the same products, no second array
            x1 = y[:, :, None] * u                                                 # (r, n, K)
            w1 = np.einsum("rn,rnk->rk", y, x1)                                    # (r, K) = n u
            Z = np.einsum("rn,rnd->rd", y, z)                                      # (r, D)
            signal_part = x1 @ w1[:, :, None]                                      # (r, n, 1)
            noise_part = z @ Z[:, :, None]                                         # (r, n, 1)
            train_m = y * (signal_part + noise_part)[..., 0]                       # (r, n)
            sprime_m = y * (signal_part - noise_part)[..., 0]                      # labels kept, z -> -z
            out["train"][sl] = (train_m < 0).mean(axis=1)
            out["sprime"][sl] = (sprime_m < 0).mean(axis=1)
            mean = w1 @ u                                                          # (r,) = <w_1, u>
            znorm = np.linalg.norm(Z, axis=1)                                      # (r,)
            if test_points is None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out["test"][sl] = special.ndtr(-mean / (sigma * znorm))
            else:
                yt = 2.0 * rng.integers(0, 2, size=(r, test_points)) - 1.0         # (r, m)
                zt = sigma * rng.standard_normal((r, test_points, D))              # (r, m, D)
                test_m = mean[:, None] + yt * (zt @ Z[:, :, None])[..., 0]        # y<w,x> = <w1,u> + y<Z,z>
                out["test"][sl] = (test_m < 0).mean(axis=1)
            wn2 = np.sum(w1**2, axis=1) + znorm**2                     # ||w||^2
            out["weight_norm_sq"][sl] = wn2
            np.square(z, out=z)                                                    # z is not needed past here: square in place
            xmax = np.sqrt(signal + np.max(np.sum(z, axis=2), axis=1))              # max_i ||x_i||
            gmin = train_m.min(axis=1)
            with np.errstate(divide="ignore"):
                out["rademacher"][sl] = np.where(gmin > 0, np.sqrt(wn2) * xmax / (np.maximum(gmin, 1e-300) * math.sqrt(n)), np.inf)
    return out


def fast_error_samples(n: int, D: int, signal: float, noise: float, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-replicate train / test / S' errors, ||w||^2 and the Rademacher term from the
    Bartlett-sampled Gram matrix (needs D >= n).

    The test error is the exact conditional tail given w (Rao-Blackwellised). Every output is a
    function of G = (s^2/D) A A^T: G 1 (margins), 1^T G 1 = ||Z||^2 (test error, ||w||^2 =
    n^2 r^2 + ||Z||^2) and diag G = ||z_i||^2 (max_i ||x_i||^2 = r^2 + max_i G_ii), so the joint law
    of all five equals the direct simulator's. Only the n (n - 1) / 2 entries below the diagonal
    and the n diagonal chi's are drawn per replicate; A is never formed as an n x n array (no BLAS).

    >>> out = fast_error_samples(8, 64, 1 / 32, 1.0, 5, np.random.default_rng(0))
    >>> sorted(out)
    ['rademacher', 'sprime', 'test', 'train', 'weight_norm_sq']
    """
    n, D, signal, noise, reps, _ = _check(n, D, signal, noise, reps)
    if D < n:
        raise ValueError(f"D={D}, must be >= n={n} for the Bartlett fast path (use direct_error_samples)")
    check_rng("rng", rng)
    check_size("n x n", n * n)
    s2 = noise / D
    m = n * (n - 1) // 2                                                           # entries below the diagonal
    chunk = max(1, _CHUNK_FLOATS // max(m, n))
    out = {k: np.empty(reps) for k in ("train", "test", "sprime", "weight_norm_sq", "rademacher")}
    dof = (D - np.arange(n))[:, None]                                              # chi dofs D, D-1, ..., D-n+1
    off = np.concatenate(([0], np.cumsum(np.arange(n))))                           # row i of A: L[off[i]:off[i] + i]
    sig = n * signal
    for start in range(0, reps, chunk):
        r = min(chunk, reps - start)
        sl = slice(start, start + r)
        # A (lower triangular) kept packed, replicates last: row i's i entries below the diagonal
        # are the contiguous block L[off[i]:off[i] + i] (shape (i, r)), its diagonal d[i].
        L = rng.standard_normal((m, r))                                            # (m, r)
        d = np.sqrt(rng.chisquare(dof, size=(n, r)))                               # (n, r)
        t = d.copy()                                                               # (n, r) = A^T 1 (column sums)
        for i in range(1, n):
            t[:i] += L[off[i]:off[i + 1]]
        g1 = d * t                                                                 # (n, r) = A t (times s2: G 1)
        rowsq = d * d                                                              # (n, r) = ||A_i||^2 (times s2: G_ii)
        for i in range(1, n):
            Li = L[off[i]:off[i + 1]]
            g1[i] += (Li * t[:i]).sum(axis=0)
            rowsq[i] += (Li * Li).sum(axis=0)
        g1 *= s2
        train_m = sig + g1
        out["train"][sl] = (train_m < 0).mean(axis=0)
        out["sprime"][sl] = (sig - g1 < 0).mean(axis=0)
        tnorm = np.sqrt((t * t).sum(axis=0))                                       # s2 tnorm = ||Z|| sqrt(s2)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["test"][sl] = special.ndtr(-sig / (s2 * tnorm))
        wn2 = n * sig + s2 * tnorm**2                                              # ||w||^2 = n^2 r^2 + ||Z||^2
        out["weight_norm_sq"][sl] = wn2
        xmax = np.sqrt(signal + s2 * rowsq.max(axis=0))                            # max_i ||x_i||
        gmin = train_m.min(axis=0)
        with np.errstate(divide="ignore"):
            out["rademacher"][sl] = np.where(gmin > 0, np.sqrt(wn2) * xmax / (np.maximum(gmin, 1e-300) * math.sqrt(n)), np.inf)
    return out
