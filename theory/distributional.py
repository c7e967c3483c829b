"""Distributional generalization and feature calibration: closed forms.

Setting (Nakkiran & Bansal 2020, "Distributional Generalization: A New Kind of
Generalization", arXiv:2009.08092, noisy-binary experiments; seed 002): inputs
come from K classes; a point of class c gets the binary label 1 with probability p_c, drawn
once in the training set. An interpolating classifier reproduces these rates at test time,
P(f(x) = 1 | class c) ~ p_c (*feature calibration*), although the Bayes-optimal classifier
predicts 0 everywhere when every p_c < 1/2.

1-nearest neighbour (the paper's Thm 1 for 1-NN, made exact here): since the training
label of the nearest neighbour is Bernoulli(p_{c'}) given its class c', independently of
the positions,

    P(f(x) = 1 | x in class c) = sum_{c'} M_n[c, c'] p_{c'},
    M_n[c, c'] = P(nearest of n training points is of class c' | x ~ class c).

Well-separated clusters (every training point of class c is nearer to a class-c test point
than any other point; on a line: gaps at least a cluster's width): M_n[c, c] = 1 - (1 - pi_c)^n, so the rate is p_c up to the
probability (1 - pi_c)^n that class c is absent from the training set.

:func:`interval_mixture_nn_class_probs` computes M_n exactly (to rounding) for clusters
that are uniform on intervals of a line, overlapping or not, through

    P(NN of class j | x) = sum_k (s_jk / S_k) [(1 - F_k)^n - (1 - F_{k+1})^n],

where F(r) = sum_j F_j(r) is the mixture mass within distance r of x, F_k = F(r_k) at the
breakpoints r_k (distances from x to the interval endpoints), and s_jk, S_k the slopes of
F_j and F on (r_k, r_{k+1}) (F is piecewise linear in r). In x the result is a piecewise
polynomial of degree n (pieces split at the endpoints and at the midpoints of pairs of
endpoints). On a piece each F_k is linear in x, so the x-integral of (1 - F_k)^n is in closed
form, (a^(n+1) - b^(n+1)) / ((n + 1)(a - b)) times the piece's length with a, b = 1 - F_k at its ends
(the same value as Gauss-Legendre with ceil((n + 1) / 2) nodes per piece, which is exact too, to rounding).

Distributional generalization (ibid., definition via a family of tests): for a family of tests T(x, y_hat) in [0, 1]
the train/test gap is E_test T(x, f_S(x)) - E_train T(x_i, f_S(x_i)); classical
generalization is the single test T = 1{y_hat != y}. Differential privacy implies
distributional generalization for *every* bounded test (Kulynych, Yang, Yu, Blasiok,
Nakkiran 2022, "What You See is What You Get", arXiv:2204.03230, "DP implies DG"):
see :func:`dp_dg_bound`.
"""
from __future__ import annotations

import math

import numpy as np

from claimcheck.theory.validation import MAX_EXACT_INT, check_array, check_int, check_int_array, check_real

__all__ = [
    "SEED_RATES",
    "linear_rates",
    "nn_feature_calibration",
    "separated_nn_class_probs",
    "interval_mixture_nn_class_probs",
    "line_clusters",
    "nn_test_error",
    "dg_gap_class",
    "dg_gap_group",
    "dg_gap_loss",
    "calibration_slope",
    "dp_dg_bound",
    "dp_majority_agreement",
]

_LOG_MAX_FLOAT = math.log(1.7976931348623157e308)

SEED_RATES: tuple[float, ...] = tuple(round(0.01 * c, 2) for c in range(10))
"""p_c = 0.00, 0.01, ..., 0.09 for the ten classes: the train-set table of seed 002
(Nakkiran & Bansal 2020, "Noisy-binary CIFAR"; seed 002 slides)."""


def linear_rates(p_max: float, num_classes: int = 10) -> np.ndarray:
    """p_c = p_max * c / (K - 1), c = 0..K-1 (the seed's table is p_max = 0.09).

    >>> linear_rates(0.09).round(2).tolist() == list(SEED_RATES)
    True
    """
    p_max = check_real("p_max", p_max, min_value=0, max_value=1, scalar=True)
    k = check_int("num_classes", num_classes, min_value=2, max_value=10**7)
    return p_max * np.arange(k) / (k - 1)


def _check_rates(p, name: str = "p") -> np.ndarray:
    """Per-class rates: a non-empty 1-d array of probabilities."""
    return check_array(name, p, min_value=0, max_value=1)


def _check_same_size(**arrays) -> None:
    (n0, a0), *rest = arrays.items()
    for n1, a1 in rest:
        if a1.size != a0.size:
            raise ValueError(f"{n1} has {a1.size} entries, must have {a0.size} (one per class, like {n0})")


def _check_stochastic(name: str, m) -> np.ndarray:
    m = np.asarray(check_real(name, m, min_value=0, max_value=1), dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} has shape {m.shape}, must be a square (K, K) matrix")
    rows = m.sum(axis=1)
    if not np.allclose(rows, 1.0, atol=1e-9):
        i = int(np.argmax(np.abs(rows - 1)))
        raise ValueError(f"{name} row {i} sums to {rows[i]!r}, must sum to 1 (a probability distribution)")
    return m


def nn_feature_calibration(p, nn_class_probs) -> np.ndarray:
    """Per-class predicted-1 rate of 1-NN: q_c = sum_{c'} M[c, c'] p_{c'}.

    .. math:: P(f(x)=1 \\mid x\\in c) = \\sum_{c'} P(\\mathrm{NN}(x)\\in c' \\mid x \\in c)\\, p_{c'}

    ``nn_class_probs`` is M (rows: class of the test point, columns: class of its nearest
    training point; rows sum to 1). With M = I (perfectly separated clusters) q = p.
    Source: Nakkiran & Bansal 2020 (arXiv:2009.08092), feature calibration of 1-NN
    (their 1-NN theorem); the label of the nearest neighbour is Bernoulli(p_{c'}) given its class.

    >>> nn_feature_calibration([0.0, 0.1], [[1.0, 0.0], [0.0, 1.0]]).tolist()
    [0.0, 0.1]
    >>> nn_feature_calibration([0.0, 0.1], [[0.5, 0.5], [0.25, 0.75]]).round(4).tolist()
    [0.05, 0.075]
    """
    p = _check_rates(p)
    m = _check_stochastic("nn_class_probs", nn_class_probs)
    if m.shape[0] != p.size:
        raise ValueError(f"nn_class_probs has shape {m.shape}, must be ({p.size}, {p.size}) to match p")
    return m @ p


def _check_weights(weights, k: int | None = None) -> np.ndarray:
    w = check_array("weights", weights, min_value=0, include_min=False)
    if k is not None and w.size != k:
        raise ValueError(f"weights has {w.size} entries, must have {k} (one per class)")
    if not math.isclose(float(w.sum()), 1.0, abs_tol=1e-9):
        raise ValueError(f"weights sum to {float(w.sum())!r}, must sum to 1 (class probabilities)")
    return w


def separated_nn_class_probs(n: int, weights) -> np.ndarray:
    """Diagonal of M_n for well-separated clusters: P(NN in own class) = 1 - (1 - pi_c)^n.

    Exact whenever every class-c training point is nearer to every class-c test point than
    any point of another class; the off-diagonal mass (1 - pi_c)^n (class c absent from
    the training set) depends on the geometry and is not returned.

    >>> separated_nn_class_probs(1, [0.5, 0.5]).tolist()
    [0.5, 0.5]
    """
    n = check_int("n", n, min_value=1, max_value=MAX_EXACT_INT)
    w = _check_weights(weights)
    return -np.expm1(float(n) * np.log1p(-w))  # 1 - (1 - w)^n without cancellation for tiny w


def line_clusters(num_classes: int = 10, spacing: float = 1.0, width: float = 1.0):
    """(lefts, widths, weights) of K equally likely clusters Unif[c * spacing, c * spacing + width].

    spacing >= 2 width: well separated (every gap is at least a cluster's width, so a class-c
    training point is always nearer to a class-c test point than any other point);
    spacing < width: neighbours overlap.

    >>> [a.tolist() for a in line_clusters(3, 0.5)]
    [[0.0, 0.5, 1.0], [1.0, 1.0, 1.0], [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]
    """
    k = check_int("num_classes", num_classes, min_value=1, max_value=10**7)
    spacing = check_real("spacing", spacing, min_value=0, include_min=False, scalar=True)
    width = check_real("width", width, min_value=0, include_min=False, scalar=True)
    if not math.isfinite(spacing * (k - 1) + width):
        raise ValueError(f"spacing={spacing!r}, must be <= (max float - width) / (num_classes - 1) = "
                         f"{(1.7976931348623157e308 - width) / max(k - 1, 1):.3g} (the clusters must lie on the float line)")
    return spacing * np.arange(k, dtype=float), np.full(k, width), np.full(k, 1.0 / k)


def _nn_probs_at(x: np.ndarray, n: int, lefts, rights, dens) -> np.ndarray:
    """P(NN class j | x) for every x (shape (X, K)); see the module docstring. Pointwise: the
    closed-form x-integral (:func:`_nn_probs_integrated`) is checked against Gauss-Legendre
    quadrature of this function in the tests."""
    ends = np.concatenate([lefts, rights])  # (2K,)
    r = np.sort(np.abs(x[:, None] - ends[None, :]), axis=1)
    r = np.concatenate([np.zeros((x.size, 1)), r], axis=1)  # (X, 2K+1) breakpoints

    def mass(rr):  # F_j(rr) for rr of shape (X, B): (X, B, K)
        lo = np.maximum(x[:, None, None] - rr[..., None], lefts)
        hi = np.minimum(x[:, None, None] + rr[..., None], rights)
        return np.clip(hi - lo, 0.0, None) * dens

    F = np.clip(mass(r).sum(axis=2), 0.0, 1.0)  # (X, B)
    mid = 0.5 * (r[:, 1:] + r[:, :-1])  # (X, B-1)
    right_in = (x[:, None, None] + mid[..., None] > lefts) & (x[:, None, None] + mid[..., None] < rights)
    left_in = (x[:, None, None] - mid[..., None] > lefts) & (x[:, None, None] - mid[..., None] < rights)
    s = (right_in.astype(float) + left_in) * dens  # (X, B-1, K) slope of F_j on each segment
    S = s.sum(axis=2)
    drop = (1.0 - F[:, :-1]) ** n - (1.0 - F[:, 1:]) ** n  # (X, B-1) P(NN distance in segment)
    share = np.divide(s, S[..., None], out=np.zeros_like(s), where=S[..., None] > 0)
    return np.einsum("xbk,xb->xk", share, drop)


def _mean_power(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """int_0^1 ((1 - t) a + t b)^n dt = (a^(n+1) - b^(n+1)) / ((n + 1)(a - b)) for a, b in [0, 1],
    evaluated stably as hi^n (1 - u^(n+1)) / ((n + 1)(1 - u)), u = lo / hi, through expm1/log
    (no cancellation when a ~ b; the limit a^n at a = b, hi^n / (n + 1) at lo = 0).

    >>> float(_mean_power(np.array(1.0), np.array(0.0), 3))   # int_0^1 (1 - t)^3 dt
    0.25
    """
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    m = n + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(hi > 0, lo / hi, 0.0)
        lu = np.log(u)
        ratio = np.where(u == 1.0, 1.0, np.where(u == 0.0, 1.0 / m, np.expm1(m * lu) / np.expm1(lu) / m))
    return np.where(hi > 0, hi**n * ratio, 0.0)


def _nn_probs_integrated(edges: np.ndarray, n: int, lefts, rights, dens) -> np.ndarray:
    """sum over the pieces [edges[i], edges[i+1]] of int P(NN class j | x) dx (shape (K,)), in closed form.

    Inside a piece the distances from x to the interval ends keep their order (the pieces are cut at
    the ends and at the midpoints of pairs of ends), so each breakpoint r_k(x) = |x - e_(k)| and the
    mass F_k(x) = F(r_k(x)) within it are linear in x and the shares s_jk / S_k are constant. Then
    int (1 - F_k(x))^n dx over a piece of length L is L * _mean_power(1 - F_k(x0), 1 - F_k(x1), n):
    two evaluations of F per piece and breakpoint instead of ceil((n + 1) / 2) quadrature nodes."""
    ends = np.concatenate([lefts, rights])  # (2K,)
    x0, x1 = edges[:-1], edges[1:]
    xm = 0.5 * (x0 + x1)
    order = np.argsort(np.abs(xm[:, None] - ends[None, :]), axis=1, kind="stable")  # (P, 2K) at the midpoint
    e = ends[order]

    def breakpoints(x):  # (P, 2K+1): r_0 = 0 and |x - e_(k)| in the midpoint's order
        return np.concatenate([np.zeros((x.size, 1)), np.abs(x[:, None] - e)], axis=1)

    def mass(x, rr):  # F(rr) at x (P, B), clipped to [0, 1] against rounding
        lo = np.maximum(x[:, None, None] - rr[..., None], lefts)
        hi = np.minimum(x[:, None, None] + rr[..., None], rights)
        return np.clip((np.clip(hi - lo, 0.0, None) * dens).sum(axis=2), 0.0, 1.0)

    rm = breakpoints(xm)
    mid = 0.5 * (rm[:, 1:] + rm[:, :-1])  # (P, B-1): a radius inside each segment, at the midpoint
    right_in = (xm[:, None, None] + mid[..., None] > lefts) & (xm[:, None, None] + mid[..., None] < rights)
    left_in = (xm[:, None, None] - mid[..., None] > lefts) & (xm[:, None, None] - mid[..., None] < rights)
    sj = (right_in.astype(float) + left_in) * dens  # (P, B-1, K) slope of F_j on each segment
    S = sj.sum(axis=2)
    share = np.divide(sj, S[..., None], out=np.zeros_like(sj), where=S[..., None] > 0)
    a0 = 1.0 - mass(x0, breakpoints(x0))
    a1 = 1.0 - mass(x1, breakpoints(x1))
    integral = (x1 - x0)[:, None] * _mean_power(a0, a1, n)  # (P, B): int over the piece of (1 - F_k)^n
    drop = integral[:, :-1] - integral[:, 1:]  # (P, B-1): int over the piece of P(NN distance in segment k)
    return np.einsum("pbk,pb->k", share, drop)


_MAX_QUADRATURE_N = 10**4  # supported (and tested) range of n


def interval_mixture_nn_class_probs(n: int, lefts, widths, weights) -> np.ndarray:
    """Exact M_n[c, c'] = P(NN of n training points is of class c' | x ~ class c) on a line.

    Class c is Unif[a_c, a_c + w_c] with probability pi_c; n training points are drawn
    iid from the mixture. With F(r) the mixture mass within distance r of x,

    .. math::
        P(\\mathrm{NN}\\in j\\mid x) = n\\int_0^\\infty F_j'(r)\\,(1-F(r))^{n-1}dr
        = \\sum_k \\frac{s_{jk}}{S_k}\\big[(1-F_k)^n-(1-F_{k+1})^n\\big],

    averaged over x ~ Unif(I_c) in closed form on each piece of the piecewise-polynomial
    integrand (the distances to the interval ends keep their order there; see the module
    docstring and :func:`_nn_probs_integrated`). Rows sum to 1.
    Source: derived here for the 1-NN feature-calibration formula of Nakkiran & Bansal
    2020 (arXiv:2009.08092); the NN-distance law n F'(r)(1-F)^{n-1} is standard.

    >>> m = interval_mixture_nn_class_probs(5, [0.0, 2.0], [1.0, 1.0], [0.5, 0.5])
    >>> bool(np.allclose(np.diag(m), 1 - 0.5**5))   # separated: NN is in the own class unless it is absent
    True
    """
    n = check_int("n", n, min_value=1, max_value=_MAX_QUADRATURE_N)
    lefts = check_array("lefts", lefts)
    widths = check_array("widths", widths, min_value=0, include_min=False)
    k = lefts.size
    if widths.size != k:
        raise ValueError(f"widths has {widths.size} entries, must have {k} (one per class, like lefts)")
    w = _check_weights(weights, k)
    # Nearest-neighbour classes are invariant under x -> (x - a) / s: work on [0, 1]-scaled
    # positions, so that no distance between endpoints overflows whatever the input's scale.
    lo = float(lefts.min())
    s = float(np.max(lefts / 2 + widths / 2 - lo / 2)) * 2.0  # span, formed without overflow
    if not math.isfinite(s):
        s = float(np.max(lefts / 4 + widths / 4 - lo / 4)) * 4.0
    lefts, widths = (lefts - lo) / s, widths / s
    if not np.all(widths > 0):
        raise ValueError("widths has an entry below 1e-308 of the clusters' span, must be resolvable in floating point relative to it")
    rights = lefts + widths
    dens = w / widths
    ends = np.concatenate([lefts, rights])
    cuts = np.unique(np.concatenate([ends, 0.5 * (ends[:, None] + ends[None, :]).ravel()]))
    out = np.empty((k, k))
    for c in range(k):
        a, b = lefts[c], rights[c]
        edges = np.concatenate([[a], cuts[(cuts > a) & (cuts < b)], [b]])
        out[c] = _nn_probs_integrated(edges, n, lefts, rights, dens) / widths[c]
    return out


def nn_test_error(p, q) -> np.ndarray:
    """Per-class test error P(f(x) != y | c) = p_c + q_c - 2 p_c q_c of a classifier with
    predicted-1 rate q_c, when the test label y ~ Bernoulli(p_c) is independent of f(x)
    given the class (true for 1-NN: f(x) depends on the training labels only).

    >>> nn_test_error([0.1], [0.1]).round(4).tolist()   # a perfect sampler: 2 p (1 - p)
    [0.18]
    """
    p, q = _check_rates(p), _check_rates(q, "q")
    _check_same_size(p=p, q=q)
    return p + q - 2 * p * q


def dg_gap_class(p, q) -> np.ndarray:
    """Train/test gap of the class-conditional tests T_c(x, y_hat) = 1{y_hat = 1} on class c.

    Train: an interpolating f has f(x_i) = y_i, so E_train[T_c] = p_c; test: q_c.

    .. math:: \\Delta_c = P(f(x)=1\\mid c)_{\\text{test}} - P(f(x_i)=1\\mid c)_{\\text{train}} = q_c - p_c

    Source: Nakkiran & Bansal 2020 (arXiv:2009.08092), T-distributional generalization with
    the partition L(x) = class(x) (feature calibration).

    >>> dg_gap_class([0.1, 0.2], [0.1, 0.15]).round(4).tolist()
    [0.0, -0.05]
    """
    p, q = _check_rates(p), _check_rates(q, "q")
    _check_same_size(p=p, q=q)
    return q - p


def dg_gap_group(p, q, weights, group) -> float:
    """Gap of the coarsened test 1{y_hat = 1} on a union of classes G (seed 002's
    "Dog-coarsened" subgroup): sum_{c in G} pi_c (q_c - p_c) / sum_{c in G} pi_c.

    >>> dg_gap_group([0.1, 0.2], [0.2, 0.2], [0.5, 0.5], (0, 1))
    0.05
    """
    p, q = _check_rates(p), _check_rates(q, "q")
    _check_same_size(p=p, q=q)
    w = _check_weights(weights, p.size)
    g = _check_group(group, p.size)
    return float(np.sum(w[g] * (q[g] - p[g])) / np.sum(w[g]))


def _check_group(group, k: int) -> np.ndarray:
    g = check_int_array("group", group, ndim=1)
    if g.min() < 0 or g.max() >= k:
        raise ValueError(f"group={tuple(g.tolist())}, must be a non-empty set of classes in 0..{k - 1}")
    return np.unique(g)


def dg_gap_loss(p, q, weights) -> float:
    """Gap of the classical test T = 1{y_hat != y} (test error - train error) for an
    interpolating classifier with predicted-1 rates q: sum_c pi_c (p_c + q_c - 2 p_c q_c) - 0.

    Large (~ 2 sum pi_c p_c (1 - p_c) for a perfect sampler) while every class-conditional
    gap is ~ 0: classical generalization fails, distributional generalization holds.

    >>> round(dg_gap_loss([0.1, 0.3], [0.1, 0.3], [0.5, 0.5]), 4)
    0.3
    """
    p, q = _check_rates(p), _check_rates(q, "q")
    _check_same_size(p=p, q=q)
    w = _check_weights(weights, p.size)
    return float(np.sum(w * nn_test_error(p, q)))


def calibration_slope(p, q) -> float:
    """Least-squares slope of the per-class rates q_c on p_c (1 for q = p, 0 for Bayes's q = 0).

    .. math:: b = \\frac{\\sum_c (p_c - \\bar p)\\, q_c}{\\sum_c (p_c - \\bar p)^2}

    >>> round(calibration_slope([0.0, 0.1, 0.2], [0.0, 0.1, 0.2]), 12)
    1.0
    """
    p, q = _check_rates(p), _check_rates(q, "q")
    _check_same_size(p=p, q=q)
    d = p - p.mean()
    top = float(np.abs(d).max())
    if top == 0:
        raise ValueError("p is constant across classes, must vary (the calibration slope is undefined)")
    d = d / top  # scale-free: tiny rates (1e-300) do not underflow d @ d
    return float(d @ q / float(d @ d) / top)


def dp_dg_bound(epsilon: float, delta: float, test_stat: float) -> float:
    """Upper bound on a train-set statistic of an (epsilon, delta)-DP learner from its test value.

    For every test T(x, y_hat) in [0, 1] and a learner S -> f_S that is (eps, delta)-DP
    under replacement of one example,

    .. math:: \\mathbb E_{S}\\,\\tfrac1n\\sum_i T(x_i, f_S(x_i)) \\le e^{\\varepsilon}\\,
              \\mathbb E_{S, x}\\,T(x, f_S(x)) + \\delta,

    and the same with train and test swapped (so the gap is at most
    e^eps - 1 + delta): swap z_i with a fresh z (the pairs (S, z_i) and (S^{i<-z}, z) have
    the same law) and apply DP to the [0, 1]-valued post-processing f -> T(z, f(z)).
    Evaluated in log space: ``inf`` when e^eps t exceeds the largest float (eps > 709.78 +
    ln(1/t); the bound is then vacuous anyway), never an OverflowError.
    Source: Kulynych, Yang, Yu, Blasiok, Nakkiran 2022 (arXiv:2204.03230), "DP
    implies DG"; cf. Dwork et al. 2015 (generalization of DP algorithms).

    >>> round(dp_dg_bound(0.0, 0.0, 0.3), 12)
    0.3
    """
    eps = check_real("epsilon", epsilon, min_value=0, scalar=True)
    dl = check_real("delta", delta, min_value=0, max_value=1, scalar=True)
    t = check_real("test_stat", test_stat, min_value=0, max_value=1, scalar=True)
    if t == 0.0:
        return dl
    log_term = eps + math.log(t)  # e^eps t in log space: never an OverflowError
    return (math.exp(log_term) if log_term < _LOG_MAX_FLOAT else math.inf) + dl


def _majority_one_prob(counts: np.ndarray, p: float, extra_ones: int = 0, extra: int = 0) -> np.ndarray:
    """P(strict majority of ones) among ``counts`` Bernoulli(p) labels plus ``extra`` fixed
    labels of which ``extra_ones`` are ones (ties -> 0); vectorised over counts."""
    from scipy import stats as _st

    k = counts + extra
    need = np.floor(k / 2.0) + 1 - extra_ones  # ones among the random labels needed for a majority
    return _st.binom.sf(need - 1, counts, p)


def dp_majority_agreement(n: int, cells: int, p: float, epsilon: float) -> tuple[float, float]:
    """(train, test) agreement P(f_S(x) = y) of the eps-DP "noisy cell majority" learner.

    Inputs are uniform over ``cells`` cells, labels y ~ Bernoulli(p) independent of x.
    The learner takes the majority label of each cell (ties and empty cells -> 0) and
    releases it through randomized response with budget eps/2 (kept with probability
    r = e^{eps/2} / (1 + e^{eps/2})); replacing one example changes at most two cells,
    so the released classifier is eps-DP (parallel composition). With K ~ Bin(n-1, 1/m)
    other points in a training point's cell and K ~ Bin(n, 1/m) in a fresh point's cell,

    .. math:: P(f = y) = \\sum_{y} P(y)\\,[\\,r\\,P(\\mathrm{maj}=y) + (1-r)\\,P(\\mathrm{maj}\\ne y)\\,]

    where, on the train side, the majority includes the point's own label y.
    Source: derived here; the bound it illustrates is :func:`dp_dg_bound`
    (Kulynych et al. 2022, arXiv:2204.03230, DP implies DG).

    >>> train, test = dp_majority_agreement(n=1, cells=1, p=0.5, epsilon=0.0)
    >>> (train, test)
    (0.5, 0.5)
    """
    from scipy import stats as _st

    n = check_int("n", n, min_value=1, max_value=10**7)
    m = check_int("cells", cells, min_value=1, max_value=MAX_EXACT_INT)
    p = check_real("p", p, min_value=0, max_value=1, scalar=True)
    eps = check_real("epsilon", epsilon, min_value=0, scalar=True)
    r = 1.0 / (1.0 + math.exp(-eps / 2))
    # train side: the point's own label y plus K ~ Bin(n-1, 1/m) others
    k = np.arange(n)
    pk = _st.binom.pmf(k, n - 1, 1.0 / m)
    maj1_if_1 = float(pk @ _majority_one_prob(k, p, extra_ones=1, extra=1))
    maj1_if_0 = float(pk @ _majority_one_prob(k, p, extra_ones=0, extra=1))
    train = p * (r * maj1_if_1 + (1 - r) * (1 - maj1_if_1)) + (1 - p) * (r * (1 - maj1_if_0) + (1 - r) * maj1_if_0)
    # test side: a fresh point, K ~ Bin(n, 1/m) training points in its cell, label independent
    k = np.arange(n + 1)
    maj1 = float(_st.binom.pmf(k, n, 1.0 / m) @ _majority_one_prob(k, p))
    f1 = r * maj1 + (1 - r) * (1 - maj1)
    test = p * f1 + (1 - p) * (1 - f1)
    return float(train), float(test)
