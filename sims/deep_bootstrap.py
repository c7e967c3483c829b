"""Monte Carlo for the Deep Bootstrap toy: Real World and Ideal World SGD, batched over replicates.

Every simulator runs ``reps`` independent SGD runs as one array computation (shape
(reps, d) iterates, (reps, B, d) batches), so a Figure-7 reproduction with hundreds of
replicates per world takes about a second. Test losses are exact given the iterate:
L(beta) = L(beta_bar) + (beta - beta_bar)^T V (beta - beta_bar) (no test-sample noise).

Algorithms (conventions of :mod:`theory.deep_bootstrap`; step = half-squared-loss gradient,
beta <- beta + (eta/B) sum_i x_i (y_i - <beta, x_i>), beta_0 = 0):

* **Ideal World** (:func:`ideal_world_sgd_losses`): every step draws B fresh points.
* **Real World** (:func:`real_world_sgd_losses`): n points drawn once per replicate; each
  epoch a fresh uniformly random permutation, split into floor(n/B) consecutive batches
  (remainder dropped, as PyTorch's ``drop_last``). The first epoch sees only fresh points (it
  takes them in their drawn order: for i.i.d. points the same law as a permutation).
* **Full-batch GD** on n points, identity link, isotropic V: :func:`gd_direct_losses`
  (sample X, the exact iterate by matrix powers or S_n's eigendecomposition, fixed beta*) and
  :func:`gd_spectral_losses` (Rao-Blackwellised: only the Wishart spectrum, bidiagonal model
  of Dumitriu-Edelman via :func:`sims.ridgeless.laguerre_bidiagonal`, beta* direction averaged).
* **OLS** (the t -> inf limit of full-batch GD for n > d, any link): :func:`ols_excess_risks`
  (an exactly equivalent rotated, Bartlett-reduced design; the direct simulation is the
  tests' reference).
"""
from __future__ import annotations

import numpy as np

from claimcheck.sims._blas import one_blas_thread
from claimcheck.sims.ridgeless import laguerre_bidiagonal
from claimcheck.theory import deep_bootstrap as T
from claimcheck.theory.validation import (MAX_REPS, MAX_STEPS, check_array, check_bool, check_int, check_int_array, check_real,
                                          check_rng, check_size)

__all__ = [
    "link_function",
    "ideal_world_sgd_losses",
    "real_world_sgd_losses",
    "one_step_quadratic",
    "gd_direct_losses",
    "gd_spectral_losses",
    "ols_excess_risks",
]


def link_function(link: str):
    """sigma as a vectorised numpy function."""
    T.check_link(link)
    return (lambda z: z) if link == "identity" else np.sign


def _log_steps(log_steps, steps):
    t = check_int_array("log_steps", log_steps, min_value=0, max_value=steps)
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"log_steps={t.ravel().tolist()}, must be strictly increasing integers in [0, steps={steps}]")
    return t


def _setup(V, beta_star, link, batch, eta, steps, log_steps, reps):
    T.check_link(link)
    V = T.check_covariance(V)
    b, s = T.check_beta_star(beta_star, V)
    batch = check_int("batch", batch, min_value=1, max_value=10**7)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    steps = check_int("steps", steps, min_value=0, max_value=MAX_STEPS)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_size("reps x batch x d", reps * batch * V.shape[0])
    t = _log_steps(log_steps, steps)
    root = _root(V)
    bar = T.link_coefficient(link, s) * b / s
    return V, b, batch, eta, steps, reps, t, root, bar


def _root(V: np.ndarray) -> np.ndarray:
    """A square root of the covariance for sampling x = z root^T, z ~ N(0, I): the vector
    sqrt(diag V) when V is diagonal (every covariance of the catalogue; then x = z * root, an
    elementwise product instead of a GEMM), else U diag(sqrt(lam)) from V = U diag(lam) U^T."""
    if not np.any(V - np.diag(np.diagonal(V))):
        return np.sqrt(np.clip(np.diagonal(V), 0, None))
    lam, U = np.linalg.eigh(V)
    return U * np.sqrt(np.clip(lam, 0, None))


def _gaussian(rng: np.random.Generator, shape, root: np.ndarray) -> np.ndarray:
    """Draws x ~ N(0, root root^T) of shape ``shape`` (last axis d), root from :func:`_root`."""
    z = rng.standard_normal(shape)
    if root.ndim == 1:
        z *= root
        return z
    return z @ root.T


def _dataset(rng, reps: int, n: int, root: np.ndarray, b: np.ndarray, sig):
    """X ~ N(0, root root^T) of shape (reps, n, d) and Y = sig(X b), drawn in blocks of replicates
    (the same numbers as one (reps, n, d) draw of :func:`_gaussian`) that stay in cache while
    they are scaled and projected: one pass over X in memory instead of three."""
    d = root.shape[0]
    X, Y = np.empty((reps, n, d)), np.empty((reps, n))
    step = max(1, 2**16 // (n * d))
    for i in range(0, reps, step):
        j = min(reps, i + step)
        rng.standard_normal(out=X[i:j])
        if root.ndim == 1:
            X[i:j] *= root
        else:
            X[i:j] = X[i:j] @ root.T
        Y[i:j] = sig(X[i:j] @ b)
    return X, Y


class _Logger:
    """Collects exact test losses of the (reps, d) iterates at the logged steps."""

    def __init__(self, t, reps, V, bar, floor):
        self.t, self.bar, self.floor = t, bar, floor
        # a diagonal V (every covariance of the catalogue): the quadratic form as sum_i v_i D_ri^2,
        # one pass instead of a (reps, d) x (d, d) GEMM (the same sum to rounding)
        self.V = np.diagonal(V).copy() if not np.any(V - np.diag(np.diagonal(V))) else V
        self.out = np.empty((reps, t.size))
        self.k = 0

    def __call__(self, step, beta):
        if self.k < self.t.size and step == self.t[self.k]:
            D = beta - self.bar
            with np.errstate(over="ignore", invalid="ignore"):
                q = self.floor + _quadratic_forms(D, self.V)
            self.out[:, self.k] = np.where(np.isnan(q), np.inf, q)  # a diverged run (iterate overflowed): loss inf
            self.k += 1


def _quadratic_forms(D: np.ndarray, V: np.ndarray) -> np.ndarray:
    """D_r^T V D_r for every row r of D: one GEMM and a row sum. (``einsum("ri,ij,rj->r")``
    without ``optimize`` runs the triple loop instead, ~15x slower at reps = 1000, d = 50.)
    A 1-D ``V`` is the diagonal of a diagonal covariance: sum_i V_i D_ri^2 in one pass."""
    if V.ndim == 1:
        return np.einsum("ri,ri,i->r", D, D, V)
    return np.einsum("ri,ri->r", D @ V, D)


def ideal_world_sgd_losses(V, beta_star, link: str, batch: int, eta: float, steps: int, log_steps, reps: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Test losses (reps, len(log_steps)) of ``reps`` independent online-SGD runs (fresh batches)."""
    V, b, B, eta, steps, reps, t, root, bar = _setup(V, beta_star, link, batch, eta, steps, log_steps, reps)
    check_rng("rng", rng)
    sig = link_function(link)
    d = V.shape[0]
    beta = np.zeros((reps, d))
    log = _Logger(t, reps, V, bar, T.best_linear_risk(link))
    log(0, beta)
    # buffers allocated once (a fresh (reps, B, d) array per step is an mmap with page faults);
    # standard_normal(out=) fills them from the same stream as standard_normal(shape)
    z = np.empty((reps, B, d))
    x = z if root.ndim == 1 else np.empty((reps, B, d))
    y, r, g = np.empty((reps, B)), np.empty((reps, B)), np.empty((reps, d))
    with one_blas_thread():
        for step in range(1, steps + 1):
            rng.standard_normal(out=z)
            if root.ndim == 1:
                z *= root
            else:
                np.matmul(z, root.T, out=x)
            np.matmul(x, b, out=y)
            if link != "identity":
                sig(y, out=y)  # np.sign
            np.einsum("rbd,rd->rb", x, beta, out=r)
            np.subtract(y, r, out=r)
            r *= eta / B  # the step size on the (reps, B) residuals, not the (reps, d) update
            np.einsum("rbd,rb->rd", x, r, out=g)
            beta += g
            log(step, beta)
    return log.out


def real_world_sgd_losses(V, beta_star, link: str, n: int, batch: int, eta: float, steps: int, log_steps, reps: int,
                          rng: np.random.Generator, *, return_train: bool = False):
    """Test losses (reps, len(log_steps)) of ``reps`` SGD runs, each on its own n fixed samples.

    Random reshuffling: each epoch a fresh permutation per replicate, floor(n/B) batches (the
    first epoch in the drawn order of the i.i.d. points, which has the same law).
    With ``return_train`` also the training losses (1/n) sum_i (y_i - <beta, x_i>)^2.
    """
    V, b, B, eta, steps, reps, t, root, bar = _setup(V, beta_star, link, batch, eta, steps, log_steps, reps)
    n = check_int("n", n, min_value=1, max_value=10**7)
    check_rng("rng", rng)
    check_bool("return_train", return_train)
    check_size("reps x n x d", reps * n * V.shape[0])
    if B > n:
        raise ValueError(f"batch={B}, must be <= n={n}")
    sig = link_function(link)
    d = V.shape[0]
    X, Y = _dataset(rng, reps, n, root, b, sig)  # (reps, n, d), (reps, n)
    per_epoch = n // B
    beta = np.zeros((reps, d))
    log = _Logger(t, reps, V, bar, T.best_linear_risk(link))
    train = np.empty((reps, t.size)) if return_train else None
    fit = np.empty((reps, n, 1)) if return_train else None

    def log_all(step):
        k = log.k
        log(step, beta)
        if return_train and log.k > k:
            np.matmul(X, beta[:, :, None], out=fit)
            resid = np.subtract(Y, fit[:, :, 0], out=fit[:, :, 0])
            train[:, k] = np.einsum("rn,rn->r", resid, resid) / n

    log_all(0)
    # Epoch 1 takes the points in their drawn order: the rows are i.i.d. and independent of the
    # permutations, so X o pi_1 is again an i.i.d. data set and the later epochs' orders relative
    # to it (pi_1^-1 o pi_e) are again independent uniform permutations: the same joint law as
    # shuffling epoch 1 too, with strided views instead of gathers (and one permutation fewer).
    # Later epochs gather through flat row numbers r n + i of X viewed as (reps n, d); each
    # epoch's batches are laid out (per_epoch, reps, B), so a step reads one contiguous index block
    # (2-D fancy indexing X[rows, perm[:, j B:(j + 1) B]] with a strided column is ~5x slower).
    # The step's arrays live in buffers allocated once: a fresh (reps, B, d) array per step
    # (400 kB at reps = 1000, d = 50) is an mmap with page faults.
    Xf, Yf = X.reshape(reps * n, d), Y.reshape(reps * n)
    base = (np.arange(reps) * n)[:, None]
    x, y, r = np.empty((reps, B, d)), np.empty((reps, B)), np.empty((reps, B))
    g = np.empty((reps, d))
    x1, y1, r1 = x[:, 0], y[:, 0], r[:, 0]  # B = 1 views, contiguous
    with one_blas_thread():
        for step in range(1, steps + 1):
            j = (step - 1) % per_epoch
            first = step <= per_epoch
            if j == 0 and not first:
                perm = np.argsort(rng.random((reps, n)), axis=1)
                epoch = (base + perm[:, :per_epoch * B]).reshape(reps, per_epoch, B).transpose(1, 0, 2).copy()
            if B == 1:  # the Figure-7 setting: (reps, d) rows, the same arithmetic without the batch axis
                if first:
                    xs, ys = X[:, j], Y[:, j]
                else:
                    xs, ys = np.take(Xf, epoch[j, :, 0], axis=0, out=x1), np.take(Yf, epoch[j, :, 0], out=y1)
                np.einsum("rd,rd->r", xs, beta, out=r1)
                np.subtract(ys, r1, out=r1)
                r1 *= eta  # the step size on the (reps,) residuals, not the (reps, d) update
                np.multiply(xs, r1[:, None], out=x1)
                beta += x1
            else:
                if first:
                    xs, ys = X[:, j * B:(j + 1) * B], Y[:, j * B:(j + 1) * B]
                else:
                    xs, ys = np.take(Xf, epoch[j], axis=0, out=x), np.take(Yf, epoch[j], out=y)
                np.einsum("rbd,rd->rb", xs, beta, out=r)
                np.subtract(ys, r, out=r)
                r *= eta / B
                np.einsum("rbd,rb->rd", xs, r, out=g)
                beta += g
            log_all(step)
    return (log.out, train) if return_train else log.out


def one_step_quadratic(V, batch: int, eta: float, C, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Samples of delta_1^T V delta_1 / tr(V C) after one online SGD step, delta_0 ~ N(0, C),
    identity link (no residual): an unbiased estimate of tr(V Phi(C)) / tr(V C), Phi the
    second-moment map. At a fixed direction C* of Phi with eigenvalue 1 the mean is 1."""
    V = T.check_covariance(V)
    C = T.check_covariance(C, "C")
    if C.shape != V.shape:
        raise ValueError(f"C has shape {C.shape}, must be {V.shape} like V")
    if not float(np.trace(V @ C)) > 0:
        raise ValueError("C has tr(V C) = 0, must have tr(V C) > 0 (the ratio is normalised by it)")
    B = check_int("batch", batch, min_value=1, max_value=10**7)
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    d = V.shape[0]
    check_size("reps x batch x d", reps * B * d)
    root, croot = _root(V), _root(C)
    q = np.empty(reps)
    f = max(1.0, eta / B)  # a huge step (eta up to 1.8e308) in units of f: no inf * 0 = NaN in the quadratic form
    with one_blas_thread():
        delta = _gaussian(rng, (reps, d), croot)
        # the batches in cache-sized blocks of replicates, drawn in stream order (the same numbers
        # as one (reps, B, d) draw)
        blk = max(1, 2**16 // (B * d))
        for i in range(0, reps, blk):
            j = min(reps, i + blk)
            x = _gaussian(rng, (j - i, B, d), root)
            dl = delta[i:j]
            r = -np.einsum("rbd,rd->rb", x, dl)
            step = np.einsum("rbd,rb->rd", x, r)
            if f == 1.0:
                q[i:j] = _quadratic_forms(dl + (eta / B) * step, V)
            else:
                qs = _quadratic_forms(dl / f + (eta / B / f) * step, V)
                with np.errstate(over="ignore"):
                    q[i:j] = (f * np.sqrt(np.maximum(qs, 0.0))) ** 2  # may overflow to inf (the true value exceeds 1.8e308)
    return q / float(np.trace(V @ C))


def _check_gd(n, d, v, eta, log_steps, reps):
    n = check_int("n", n, min_value=1, max_value=10**5)
    d = check_int("d", d, min_value=1, max_value=10**4)
    v = check_real("v", v, min_value=1e-100, max_value=1e100, scalar=True)  # supported: V = v I and its spectrum stay finite
    eta = check_real("eta", eta, min_value=0, include_min=False, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    t = check_array("log_steps", log_steps, min_value=0, allow_inf=True)
    check_size("reps x n x d", reps * n * d)
    check_size("reps x min(n, d)^2", reps * min(n, d) ** 2)
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"log_steps={t.ravel().tolist()}, must be strictly increasing numbers >= 0 (inf allowed)")
    return n, d, v, eta, reps, t


def gd_direct_losses(n: int, d: int, v: float, eta: float, log_steps, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Full-batch GD, identity link, V = v I_d, ||beta*||_V = 1 (beta* = default_beta_star):
    test losses (reps, len(log_steps)) of the exact iterate beta_t = beta* - (I - eta S_n)^t beta*
    on the sampled X (``inf`` = the min-norm interpolator).

    Integer steps (up to 2^20): the error r_t = (I - eta S_n)^t beta* by repeated squaring of the d x d matrix
    (d <= n), or, for d > n, in the n x n Gram space: with c = X beta*, y = (X X^T)^{-1} c and
    A = I - (eta/n) X X^T, ||r_t||^2 = ||beta*||^2 - c^T y + c^T A^{2t} y (the null-space part
    of beta* is untouched by GD; push-through (I - eta S_n) X^T = X^T A). Other steps, or where
    the powers overflow (eta beyond the stability limit): from the eigendecomposition of S_n,
    ``|1 - eta mu_k|^(2t)``. Both are the same function of X (to rounding)."""
    n, d, v, eta, reps, t = _check_gd(n, d, v, eta, log_steps, reps)
    check_rng("rng", rng)
    b = T.default_beta_star(v * np.eye(d))
    with one_blas_thread():
        X = rng.standard_normal((reps, n, d))
        X *= np.sqrt(v)
        fin = t[np.isfinite(t)]
        if np.all(fin == np.floor(fin)) and np.all(fin <= 2**20):  # <= 21 squarings
            with np.errstate(over="ignore", invalid="ignore"):
                out = _gd_by_powers(X, b, v, eta, t)
            bad = ~np.all(np.isfinite(out), axis=1)
            if np.any(bad):
                out[bad] = _gd_by_eigh(X[bad], b, v, eta, t)
            return out
        return _gd_by_eigh(X, b, v, eta, t)


def _apply_powers(A: np.ndarray, x: np.ndarray, exponents) -> list:
    """[A^e x for e in exponents] (increasing integers >= 0) for a stack A (reps, k, k), x (reps, k):
    binary powers A^(2^j) by repeated squaring, each step from the previous exponent."""
    pows, out, done = [A], [], 0
    for e in exponents:
        delta, j = int(e) - done, 0
        while delta:
            if delta & 1:
                while len(pows) <= j:
                    pows.append(pows[-1] @ pows[-1])
                x = np.matmul(pows[j], x[:, :, None])[:, :, 0]
            delta >>= 1
            j += 1
        done = int(e)
        out.append(x)
    return out


def _gd_by_powers(X, b, v, eta, t):
    reps, n, d = X.shape
    finite = np.isfinite(t)
    ks = t[finite].astype(np.int64)
    out = np.empty((reps, t.size))
    if d <= n:  # S_n has full rank: the t = inf loss is exactly 0
        A = np.eye(d) - (eta / n) * (np.swapaxes(X, 1, 2) @ X)
        r = _apply_powers(A, np.broadcast_to(b, (reps, d)).copy(), ks)
        out[:, finite] = v * np.stack([np.einsum("ri,ri->r", x, x) for x in r], axis=1)
        out[:, ~finite] = 0.0
        return out
    G = X @ np.swapaxes(X, 1, 2)  # (reps, n, n)
    c = X @ b
    y = np.linalg.solve(G, c[:, :, None])[:, :, 0]
    null = float(b @ b) - np.einsum("rn,rn->r", c, y)  # ||(I - P) beta*||^2, P the row-space projection
    A = np.eye(n) - (eta / n) * G
    q = _apply_powers(A, y, 2 * ks)
    out[:, finite] = v * (null[:, None] + np.stack([np.einsum("rn,rn->r", c, x) for x in q], axis=1))
    out[:, ~finite] = v * null[:, None]
    return out


def _gd_by_eigh(X, b, v, eta, t):
    reps, n, d = X.shape
    if d <= n:
        mu, U = np.linalg.eigh(np.swapaxes(X, 1, 2) @ X / n)  # (reps, d), (reps, d, d)
        w2 = (np.swapaxes(U, 1, 2) @ b) ** 2  # (beta* in S_n's eigenbasis)^2
    else:  # the n nonzero eigenpairs from the n x n Gram matrix, plus the null space
        g, W = np.linalg.eigh(X @ np.swapaxes(X, 1, 2) / n)  # (reps, n), (reps, n, n)
        proj = np.einsum("rnk,rn->rk", W, X @ b)  # v_k^T X beta*
        keep = g > 1e-10 * g.max(axis=1, keepdims=True)
        w2 = np.where(keep, proj**2 / (n * np.where(keep, g, 1.0)), 0.0)
        mu = np.where(keep, g, 0.0)
        null = float(b @ b) - w2.sum(axis=1)
        mu = np.concatenate([mu, np.zeros((reps, 1))], axis=1)  # one slot carries the null space
        w2 = np.concatenate([w2, null[:, None]], axis=1)
    zero = mu <= 1e-10 * mu.max(axis=1, keepdims=True)
    finite_t = np.where(np.isinf(t), 0.0, t)
    with np.errstate(under="ignore", over="ignore"):  # eta past the stability limit: the loss is inf
        pw = np.abs(1.0 - eta * mu)[:, :, None] ** (2.0 * finite_t)
    pw = np.where(np.isinf(t)[None, None, :] & ~zero[:, :, None], 0.0, pw)
    pw = np.where(zero[:, :, None], 1.0, pw)
    return v * np.einsum("rk,rkt->rt", w2, pw)


def gd_spectral_losses(n: int, d: int, v: float, eta: float, log_steps, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Rao-Blackwellised version of :func:`gd_direct_losses`: per replicate only the m = min(n, d)
    nonzero eigenvalues of S_n (bidiagonal Wishart model), loss averaged over beta*'s direction
    (:func:`theory.deep_bootstrap.gd_loss_given_spectrum`). Same mean, no eigenvectors."""
    n, d, v, eta, reps, t = _check_gd(n, d, v, eta, log_steps, reps)
    check_rng("rng", rng)
    m = min(n, d)
    a, bb = laguerre_bidiagonal(max(n, d), m, reps, rng)
    Tm = np.zeros((reps, m, m))
    i = np.arange(m)
    Tm[:, i, i] = a**2 + np.concatenate([np.zeros((reps, 1)), bb**2], axis=1)
    if m > 1:
        off = a[:, :-1] * bb
        Tm[:, i[:-1], i[1:]] = off
        Tm[:, i[1:], i[:-1]] = off
    with one_blas_thread():
        mu = v * np.linalg.eigvalsh(Tm) / n
    return T.gd_loss_given_spectrum(mu, d, eta, t, 1.0)


def _check_ols(V, beta_star, link, n, reps, chunk, rng):
    """The arguments of :func:`ols_excess_risks` and its direct reference, validated in one order:
    (V, beta*, ||beta*||_V, d, n, reps, chunk)."""
    T.check_link(link)
    V = T.check_covariance(V)
    b, s = T.check_beta_star(beta_star, V)
    d = V.shape[0]
    n = check_int("n", n, min_value=d + 1, max_value=10**7)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    chunk = check_int("chunk", chunk, min_value=1, max_value=10**7)
    check_rng("rng", rng)
    return V, b, s, d, n, reps, chunk


def ols_excess_risks(V, beta_star, link: str, n: int, reps: int, rng: np.random.Generator, *, chunk: int = 256) -> np.ndarray:
    """Samples (reps,) of the OLS excess risk (beta_hat - beta_bar)^T V (beta_hat - beta_bar), n > d.

    Per replicate n points x ~ N(0, V), y = sigma(<beta*, x>), beta_hat = (X^T X)^{-1} X^T y,
    beta_bar from :func:`theory.deep_bootstrap.best_linear_predictor`; (X^T X is invertible almost
    surely); ``chunk`` replicates at a time. Drawn from an exactly equivalent representation with
    O(n + d^2) random numbers per replicate instead of the n d of the design (the direct
    simulation is :func:`_ols_excess_risks_direct`, the independent reference of the tests):

    * whiten and rotate, z = R V^{-1/2} x with R <beta*, x> = s z_1 (s = ||beta*||_V): the excess
      risk is ||g||^2, g the least-squares coefficient of the residual eps = sigma(s u) - c u on
      Z = [u, W] (u = z_1 column, c = E[u sigma(s u)]; W an n x (d-1) Gaussian independent of u);
    * rotate the n rows by an orthogonal Q with Q^T u = norm(u) e_1, Q^T eps in span(e_1, e_2)
      (Q depends only on u, so Q^T W is again i.i.d. Gaussian): rows 1, 2 of Q^T Z are
      (norm(u), a1^T), (0, a2^T), the other n - 2 rows (0, A) with A^T A ~ Wishart_{d-1}(n - 2, I)
      = L L^T (Bartlett: L lower triangular, L_ii^2 ~ chi^2(n - 1 - i), L_ij ~ N(0, 1));
    * eliminating g_1: g' = e_2 (L L^T + a2 a2^T)^{-1} a2 = e_2 L^{-T} w / (1 + norm(w)^2), w = L^{-1} a2
      (Sherman-Morrison), g_1 = (e_1 - a1^T g') / norm(u) with a1^T g' ~ norm(g') xi, xi ~ N(0, 1).
    """
    V, b, s, d, n, reps, chunk = _check_ols(V, beta_star, link, n, reps, chunk, rng)
    check_size("min(chunk, reps) x (n + d^2)", min(chunk, reps) * (n + d * d))
    lam = np.linalg.eigvalsh(V)
    if lam[0] <= 0:
        raise ValueError(f"V has eigenvalue {lam[0]:.3g}, must be positive definite for OLS")
    c = T.link_coefficient(link, s)
    sig = link_function(link)
    p = d - 1
    df = n - 1 - np.arange(1, p + 1)  # Bartlett degrees of freedom n - 2 - i + 1, i = 1..d-1 (>= n - d >= 1)
    off = np.arange(p) * (np.arange(p) - 1) // 2  # row k of L's strict lower part: packed[off[k]:off[k] + k]
    out = np.empty(reps)
    for i in range(0, reps, chunk):
        r = min(chunk, reps - i)
        u = rng.standard_normal((r, n))
        eps = sig(s * u) - c * u
        nu = np.sqrt(np.einsum("rn,rn->r", u, u))
        e1 = np.einsum("rn,rn->r", eps, u) / nu  # eps . q_1
        perp = eps - (e1 / nu)[:, None] * u
        e2 = np.sqrt(np.einsum("rn,rn->r", perp, perp))  # |eps - (eps . q_1) q_1|
        a2 = rng.standard_normal((r, p))
        packed = rng.standard_normal((r, p * (p - 1) // 2))  # L_ij, i > j, row by row
        diag = np.sqrt(rng.chisquare(df, size=(r, p))) if p else np.empty((r, 0))
        xi = rng.standard_normal(r)
        w = np.empty((r, p))
        for k in range(p):  # L w = a2 (forward substitution, all replicates at once)
            w[:, k] = (a2[:, k] - np.einsum("rj,rj->r", packed[:, off[k]:off[k] + k], w[:, :k])) / diag[:, k]
        v = w.copy()
        for k in range(p - 1, -1, -1):  # L^T v = w (column-oriented back substitution, row k of L)
            v[:, k] /= diag[:, k]
            v[:, :k] -= packed[:, off[k]:off[k] + k] * v[:, k:k + 1]
        g2 = (e2 / (1.0 + np.einsum("rp,rp->r", w, w))) ** 2 * np.einsum("rp,rp->r", v, v)  # |g'|^2
        g1 = (e1 - np.sqrt(g2) * xi) / nu
        out[i:i + r] = g1 * g1 + g2
    return out


def _ols_excess_risks_direct(V, beta_star, link: str, n: int, reps: int, rng: np.random.Generator, *, chunk: int = 256) -> np.ndarray:
    """:func:`ols_excess_risks` by direct simulation (sample X, batched normal-equation solves):
    the reference its reduced representation is tested against (same distribution)."""
    V, b, s, d, n, reps, chunk = _check_ols(V, beta_star, link, n, reps, chunk, rng)
    check_size("min(chunk, reps) x n x d", min(chunk, reps) * n * d)
    lam = np.linalg.eigvalsh(V)
    if lam[0] <= 0:
        raise ValueError(f"V has eigenvalue {lam[0]:.3g}, must be positive definite for OLS")
    root = _root(V)
    bar = T.link_coefficient(link, s) * b / s
    sig = link_function(link)
    out = np.empty(reps)
    with one_blas_thread():
        for i in range(0, reps, chunk):
            r = min(chunk, reps - i)
            X = _gaussian(rng, (r, n, d), root)
            y = sig(X @ b)
            Xt = np.swapaxes(X, 1, 2)
            D = np.linalg.solve(Xt @ X, (Xt @ y[:, :, None]))[:, :, 0] - bar
            out[i:i + r] = _quadratic_forms(D, V)
    return out
