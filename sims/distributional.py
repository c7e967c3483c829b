"""Simulators for distributional generalization / feature calibration (Nakkiran & Bansal 2020).

Three layers, reusable by the GPU suite's feature-calibration job (a ResNet at scale):

* **labels and read-out**: :func:`noisy_binary_labels` draws the noisy-binary training
  labels y ~ Bernoulli(p_class) once; :func:`calibration_table` turns any classifier's test
  predictions into per-class predicted-1 rates with exact (Clopper-Pearson) intervals and
  the calibration slope of rate_c on p_c with its standard error and confidence interval.
* **1-NN on clusters on a line** (:func:`line_nn_classes` and the estimators built on it):
  exact geometry, batched over replicates, checked against
  :func:`theory.distributional.interval_mixture_nn_class_probs`.
* **real data** (:func:`feature_calibration_run`): kernel interpolation (ridge -> 0),
  decision trees grown to purity, 1-NN, a small MLP trained to zero training error
  (torch, CPU, batched over independent networks), and regularised contrasts (kernel ridge
  with a large ridge, strongly regularised logistic regression) on scikit-learn digits and
  on the real MNIST test set (:mod:`sims.datasets`).

Estimators are Rao-Blackwellised where that is free: given the class c' of a test point's
nearest neighbour, the prediction is Bernoulli(p_{c'}), so a replicate records p_{c'}
instead of a coin flip (same mean, smaller variance).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from claimcheck._lazy import lazy_module
from claimcheck.sims._blas import one_blas_thread
from claimcheck.theory import distributional as T
from claimcheck.stats import clopper_pearson
from claimcheck.theory.validation import (MAX_REPS, check_array, check_choice, check_int, check_int_array, check_real, check_rng,
                                          check_size)

sps = lazy_module("scipy.stats")  # imported on first use (claimcheck list/--help stay cheap)

__all__ = [
    "noisy_binary_labels",
    "calibration_table",
    "nn_label_predictions",
    "class_rates",
    "line_nn_classes",
    "line_calibration_samples",
    "line_dg_gap_samples",
    "dp_majority_train_agreement",
    "DATASETS",
    "MODELS",
    "INTERPOLATING",
    "REGULARISED",
    "load_split",
    "KernelInterpolator",
    "KERNEL_SETTINGS",
    "predict_binary",
    "ensemble_slope",
    "squared_distances",
    "feature_calibration_run",
]


# --------------------------------------------------------------------------- labels and read-out
def noisy_binary_labels(y, p_c, rng: np.random.Generator) -> np.ndarray:
    """Noisy-binary labels: b_i ~ Bernoulli(p_c[y_i]) independently (int64 0/1, shape of y).

    ``y`` holds class indices 0..K-1 (any integer array), ``p_c`` the K rates.
    Source: Nakkiran & Bansal 2020 (arXiv:2009.08092), "Noisy-binary CIFAR" (seed 002).

    >>> noisy_binary_labels([0, 1, 1], [0.0, 1.0], np.random.default_rng(0)).tolist()
    [0, 1, 1]
    """
    y = check_int_array("y", y, ndim=None, min_size=0)
    p = check_array("p_c", p_c, min_value=0, max_value=1)
    check_rng("rng", rng)
    if y.size and (y.min() < 0 or y.max() >= p.size):
        bad = int(y[(y < 0) | (y >= p.size)].flat[0])
        raise ValueError(f"y contains class {bad}, must be in 0..{p.size - 1} (one rate per class in p_c)")
    return (rng.random(y.shape) < p[y]).astype(np.int64)


def nn_label_predictions(y_train, nn_idx, p_c, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Predictions (len(nn_idx), reps) uint8 0/1 of 1-NN under ``reps`` independent noisy-binary label
    draws: the labels of the training points ``nn_idx`` (each test point's nearest neighbour).

    The same draws and values as ``noisy_binary_labels(np.repeat(y_train[:, None], reps, axis=1),
    p_c, rng)[nn_idx]`` (one uniform per training point and draw, compared with p_c of its class;
    the same stream), without forming the (n_train, reps) label matrix.

    >>> nn_label_predictions([0, 1], [1, 1, 0], [0.0, 1.0], 2, np.random.default_rng(0)).tolist()
    [[1, 1], [1, 1], [0, 0]]
    """
    y = check_int_array("y_train", y_train, min_value=0)
    p = check_array("p_c", p_c, min_value=0, max_value=1)
    if y.size and y.max() >= p.size:
        raise ValueError(f"y_train contains class {int(y.max())}, must be in 0..{p.size - 1} (one rate per class in p_c)")
    idx = check_int_array("nn_idx", nn_idx, min_value=0, max_value=max(y.size - 1, 0))
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_size("len(y_train) x reps", y.size * reps)
    u = rng.random((y.size, reps))
    return (u[idx] < p[y[idx]][:, None]).view(np.uint8)  # 0/1 (a free view of the booleans)


def class_rates(pred, y_class, k: int) -> np.ndarray:
    """Per-draw, per-class predicted-1 rates (R, k) of 0/1 predictions ``pred`` (n, R) on points of
    classes ``y_class`` (n,): the counts are exact integer sums (k boolean-masked column sums, the
    same values as one weighted ``np.bincount`` per draw) divided by the class counts (NaN-free: every
    class must have a point).

    >>> class_rates(np.array([[1, 0], [0, 0], [1, 1]]), [0, 0, 1], 2).tolist()
    [[0.5, 1.0], [0.0, 1.0]]
    """
    k = check_int("k", k, min_value=1, max_value=10**7)
    pred = check_int_array("pred", pred, min_value=0, max_value=1, ndim=2)
    y = check_int_array("y_class", y_class, min_value=0, max_value=k - 1)
    if pred.shape[0] != y.size:
        raise ValueError(f"pred has shape {pred.shape}, must be (n, R) with n = {y.size} (one row per point of y_class)")
    counts = np.bincount(y, minlength=k)
    if counts.min() == 0:
        raise ValueError(f"y_class has no point of class {int(np.argmin(counts))}, must have one in every class 0..{k - 1}")
    ones = np.stack([pred[y == c].sum(axis=0, dtype=np.int64) for c in range(k)], axis=1)
    return ones / counts


def calibration_table(pred, y_class, p_c, *, confidence: float = 0.95) -> dict:
    """Per-class predicted-1 rates of a binary classifier and its calibration slope.

    Returns a dict of arrays over classes: ``p`` (the training rates p_c), ``count``
    (test points per class), ``ones`` (predicted 1), ``rate`` = ones/count, ``ci_low`` /
    ``ci_high`` (exact Clopper-Pearson at ``confidence``, :func:`claimcheck.stats.clopper_pearson`), and the
    scalars ``slope``, ``intercept`` (least squares of rate_c on p_c over classes with test
    points), ``slope_se`` (test-sampling SE: sqrt(sum_c d_c^2 v_c) / sum_c d_c^2 with
    d_c = p_c - mean p and v_c = r~_c (1 - r~_c) / N_c, r~_c = (ones + 1) / (count + 2)),
    ``slope_ci`` (normal interval at ``confidence``), ``confidence``. The SE is conditional
    on the trained classifier (sampling of test points only).
    Feature calibration predicts slope 1; the Bayes classifier (predict 0) has slope 0.
    Missing values are NaN by convention: ``rate``, ``ci_low``, ``ci_high`` of a class without
    test points, and ``slope``/``intercept`` (with ``slope_se`` = inf) when fewer than two
    classes have test points or p is constant over them (the slope is then undefined).

    >>> t = calibration_table([0, 1, 0, 1], [0, 0, 1, 1], [0.25, 0.75])
    >>> t["rate"].tolist(), round(t["slope"], 6)
    ([0.5, 0.5], 0.0)
    """
    pred = check_int_array("pred", pred, min_value=0, max_value=1)
    y_class = check_int_array("y_class", y_class, min_value=0)
    if pred.shape != y_class.shape:
        raise ValueError(f"pred has {pred.size} entries, must have {y_class.size} (one per test point, like y_class)")
    if not np.isin(pred, (0, 1)).all():
        raise ValueError("pred must hold binary predictions 0/1")
    confidence = check_real("confidence", confidence, min_value=0, max_value=1, include_min=False, include_max=False, scalar=True)
    p = check_array("p_c", p_c, min_value=0, max_value=1)
    k = p.size
    if y_class.dtype.kind not in "iu" or (y_class.size and (y_class.min() < 0 or y_class.max() >= k)):
        raise ValueError(f"y_class must hold integer classes in 0..{k - 1} (one rate per class in p_c)")
    count = np.bincount(y_class, minlength=k)
    ones = np.bincount(y_class, weights=pred.astype(float), minlength=k).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(count > 0, ones / np.maximum(count, 1), np.nan)
    lo, hi = np.full(k, np.nan), np.full(k, np.nan)
    have = count > 0
    if have.any():
        lo[have], hi[have] = clopper_pearson(ones[have], count[have], confidence)
    d = p[have] - p[have].mean()
    ss = float(d @ d)
    out = {"p": p, "count": count, "ones": ones, "rate": rate, "ci_low": lo, "ci_high": hi, "confidence": confidence}
    if have.sum() < 2 or ss == 0:
        out.update(slope=math.nan, intercept=math.nan, slope_se=math.inf, slope_ci=(-math.inf, math.inf))
        return out
    r = rate[have]
    slope = float(d @ r / ss)
    intercept = float(r.mean() - slope * p[have].mean())
    rt = (ones[have] + 1.0) / (count[have] + 2.0)
    v = rt * (1 - rt) / count[have]
    se = float(math.sqrt(d**2 @ v) / ss)
    z = float(sps.norm.isf((1 - confidence) / 2))
    out.update(slope=slope, intercept=intercept, slope_se=se, slope_ci=(slope - z * se, slope + z * se))
    return out


# --------------------------------------------------------------------------- 1-NN on a line
def line_nn_classes(n: int, lefts, widths, weights, test_classes, rng: np.random.Generator):
    """Classes of the training points and of each test point's nearest training neighbour.

    ``test_classes`` (reps, m) fixes the class of every test point; for every replicate
    r an independent training set of n points is drawn from the mixture (class c with
    probability weights[c], position Unif[lefts[c], lefts[c] + widths[c]]) and each test
    point from its class. Returns (train_classes (reps, n), nn_class (reps, m)).
    Batched: all replicates share one sort and one ``searchsorted`` (rows are shifted
    apart by more than the support's length).
    """
    n = check_int("n", n, min_value=1, max_value=10**7)
    lefts, widths, w = _check_clusters(lefts, widths, weights)
    tc = check_int_array("test_classes", test_classes, min_value=0, max_value=w.size - 1, ndim=2)
    check_rng("rng", rng)
    reps, m = tc.shape
    check_size("reps x (n + m)", reps * (n + m))
    cls = rng.choice(w.size, size=(reps, n), p=w)
    pos = lefts[cls] + widths[cls] * rng.random((reps, n))
    tpos = lefts[tc] + widths[tc] * rng.random((reps, m))
    span = float((lefts + widths).max() - lefts.min()) + 1.0
    shift = (np.arange(reps) * 3.0 * span)[:, None]
    order = np.argsort(pos, axis=1)  # introsort (SIMD): 3x a stable sort; the same order unless a row has tied positions
    spos = np.take_along_axis(pos, order, axis=1)
    if np.any(spos[:, 1:] == spos[:, :-1]):  # ties (probability ~ n^2 2^-53): the stable sort's order of tied points
        order = np.argsort(pos, axis=1, kind="stable")
        spos = np.take_along_axis(pos, order, axis=1)
    spos += shift
    scls = np.take_along_axis(cls, order, axis=1)
    flat = spos.ravel()
    q = (tpos + shift).ravel()
    idx = np.searchsorted(flat, q)
    row = np.repeat(np.arange(reps), m)
    lo_ok = idx > row * n
    hi_ok = idx < (row + 1) * n
    left = np.where(lo_ok, idx - 1, row * n)
    right = np.where(hi_ok, idx, (row + 1) * n - 1)
    dl = np.where(lo_ok, q - flat[left], np.inf)
    dr = np.where(hi_ok, flat[right] - q, np.inf)
    nn = np.where(dl <= dr, left, right)
    return cls, scls.ravel()[nn].reshape(reps, m)


def _check_clusters(lefts, widths, weights):
    """(lefts, widths, weights) of clusters on a line, validated (one entry per class each)."""
    lefts = check_array("lefts", lefts, min_value=-1e300, max_value=1e300)
    widths = check_array("widths", widths, min_value=0, include_min=False, max_value=1e300)
    w = check_array("weights", weights, min_value=0, include_min=False)
    if widths.size != lefts.size or w.size != lefts.size:
        raise ValueError(f"widths and weights have {widths.size} and {w.size} entries, must have {lefts.size} each (one per class, like lefts)")
    if not math.isclose(float(w.sum()), 1.0, abs_tol=1e-9):
        raise ValueError(f"weights sum to {float(w.sum())!r}, must sum to 1 (class probabilities)")
    return lefts, widths, w


def _check_line(n, p, reps, rng, m_test):
    return (check_int("n", n, min_value=1, max_value=10**7), check_array("p", p, min_value=0, max_value=1),
            check_int("reps", reps, min_value=1, max_value=MAX_REPS), check_rng("rng", rng),
            check_int("m_test", m_test, min_value=1, max_value=10**7))


def _check_geometry(spacing, width, k: int) -> None:
    spacing = check_real("spacing", spacing, min_value=0, include_min=False, scalar=True)
    width = check_real("width", width, min_value=0, include_min=False, scalar=True)
    if spacing * (k - 1) + width > 1e300:
        raise ValueError(f"spacing={spacing!r}, width={width!r}: the clusters span {spacing * (k - 1) + width:.3g}, "
                         "must span <= 1e300 (positions are shifted apart by that span)")


def line_calibration_samples(n: int, spacing: float, p, c: int, reps: int, rng: np.random.Generator,
                             *, m_test: int = 20, width: float = 1.0) -> np.ndarray:
    """Per-replicate estimates of P(f(x) = 1 | class c) for 1-NN on K equally likely line
    clusters (:func:`theory.distributional.line_clusters`): mean over m_test class-c test
    points of p_{class of the nearest neighbour} (Rao-Blackwellised over the NN's label)."""
    n, p, reps, rng, m_test = _check_line(n, p, reps, rng, m_test)
    c = check_int("c", c, min_value=0, max_value=p.size - 1)
    _check_geometry(spacing, width, p.size)
    lefts, widths, weights = T.line_clusters(p.size, spacing, width)
    _, nn = line_nn_classes(n, lefts, widths, weights, np.full((reps, m_test), c), rng)
    return p[nn].mean(axis=1)


def line_dg_gap_samples(n: int, spacing: float, p, test: str, reps: int, rng: np.random.Generator,
                        *, c: int = 0, group=(0, 1, 2, 3, 4), m_test: int = 20, width: float = 1.0) -> np.ndarray:
    """Per-replicate estimates of the 1-NN train/test gap E_test T - E_train T of one test.

    ``test``: "class" (T = 1{y_hat = 1} on class c), "group" (on the union of classes
    ``group``) or "loss" (T = 1{y_hat != y}). Test side: Rao-Blackwellised over the NN's
    label and the fresh test label. Train side: the labels are drawn; 1-NN interpolates
    (a training point is its own nearest neighbour), so f(x_i) = y_i and the train side of
    the class/group tests is sum_{i in G} y_i / (n pi_G) (unbiased for the rate) and the
    train error is 0.
    """
    n, p, reps, rng, m_test = _check_line(n, p, reps, rng, m_test)
    k = p.size
    check_choice("test", test, ("class", "group", "loss"))
    c = check_int("c", c, min_value=0, max_value=k - 1)
    g = check_int_array("group", group, min_value=0, max_value=k - 1)
    _check_geometry(spacing, width, k)
    lefts, widths, weights = T.line_clusters(k, spacing, width)
    if test == "class":
        members = np.array([c])
    elif test == "group":
        members = np.unique(g)
    else:
        members = np.arange(k)
    wg = weights[members] / weights[members].sum()
    tc = members[rng.choice(members.size, size=(reps, m_test), p=wg)]
    cls, nn = line_nn_classes(n, lefts, widths, weights, tc, rng)
    if test == "loss":
        pc, pn = p[tc], p[nn]
        return (pc + pn - 2 * pc * pn).mean(axis=1)  # train error of 1-NN is 0
    y = rng.random(cls.shape) < p[cls]
    train = (np.isin(cls, members) & y).sum(axis=1) / (n * weights[members].sum())
    return p[nn].mean(axis=1) - train


# --------------------------------------------------------------------------- DP learner
def dp_majority_train_agreement(n: int, cells: int, p: float, epsilon: float, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Per-replicate train agreement (1/n) sum_i 1{f_S(x_i) = y_i} of the eps-DP noisy
    cell-majority learner (:func:`theory.distributional.dp_majority_agreement`)."""
    n = check_int("n", n, min_value=1, max_value=10**7)
    cells = check_int("cells", cells, min_value=1, max_value=10**7)
    p = check_real("p", p, min_value=0, max_value=1, scalar=True)
    epsilon = check_real("epsilon", epsilon, min_value=0, scalar=True)
    reps = check_int("reps", reps, min_value=1, max_value=MAX_REPS)
    check_rng("rng", rng)
    check_size("reps x max(n, cells)", reps * max(n, cells))
    keep = 1.0 / (1.0 + math.exp(-min(epsilon, 1400.0) / 2))  # e^{-eps/2} underflows to 0 beyond: keep = 1
    cell = rng.integers(0, cells, size=(reps, n))
    y = (rng.random((reps, n)) < p).astype(np.int64)
    flat = (cell + cells * np.arange(reps)[:, None]).ravel()
    ones = np.bincount(flat, weights=y.ravel(), minlength=reps * cells)
    tot = np.bincount(flat, minlength=reps * cells)
    maj = (2 * ones > tot).astype(np.int64)
    released = np.where(rng.random(reps * cells) < keep, maj, 1 - maj)
    return (released[flat].reshape(reps, n) == y).mean(axis=1)


# --------------------------------------------------------------------------- real data
DATASETS = ("digits", "mnist")
"""Real data sets of :func:`feature_calibration_run` (scikit-learn digits; real MNIST test set)."""
INTERPOLATING = ("kernel", "kernel_wide", "tree", "knn1", "mlp")
"""Models trained to zero training error: Gaussian-kernel interpolation (ridge 1e-8) with a
narrow (0.1 x median distance) or wide (0.5 x) bandwidth, a decision tree grown to purity,
1-nearest neighbour, and a one-hidden-layer MLP trained to zero training error."""
REGULARISED = ("kernel_ridge", "logistic")
"""Contrasts: Gaussian kernel ridge (bandwidth = median distance, ridge = 10) and logistic
regression with C = 1e-3; both predict the Bayes label 0 for every class when all p_c < 1/2."""
MODELS = INTERPOLATING + REGULARISED


@dataclass(frozen=True)
class Split:
    """A seeded train/test split of a real data set (features scaled to [0, 1]).

    ``xi_train`` / ``xi_test`` hold the same points as the raw non-negative integer pixels
    (x = xi / ``scale``) when the data set has them (digits: 0..16, MNIST: 0..255), for
    exact distances (:func:`_split_sq_dists`); None otherwise."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    xi_train: np.ndarray | None = field(default=None, repr=False, compare=False)
    xi_test: np.ndarray | None = field(default=None, repr=False, compare=False)
    scale: float = field(default=1.0, repr=False, compare=False)


@functools.lru_cache(maxsize=2)
def _raw_dataset(dataset: str, directory) -> tuple[np.ndarray, np.ndarray, float]:
    """(raw integer pixels uint8, y, scale) of a data set (features in [0, 1] are pixels / scale),
    read once per process (read-only arrays); ``directory`` is the MNIST directory (None for digits)."""
    from claimcheck.sims import datasets as D

    if dataset == "digits":
        x, y = D.load_digits()
        xi, scale = x.astype(np.uint8), 16.0
        if not np.array_equal(xi, x):
            raise ValueError("load_digits returned non-integer pixels, must be integers 0..16 (scikit-learn's 8x8 digits)")
    else:
        img, y = D.load_idx_dataset(directory, split="test")
        xi, scale = img.reshape(len(img), -1), 255.0
    for a in (xi, y):
        a.flags.writeable = False
    return xi, y, scale


_SPLITS: dict = {}


def load_split(dataset: str, n_train: int, n_test: int, split_seed: int = 0) -> Split:
    """Disjoint random train/test subsets (sizes n_train, n_test) of ``dataset``, cached.

    digits: 1797 points, 64 features / 16; mnist: the real MNIST test set (10,000 points,
    784 features / 255) from :func:`sims.datasets.mnist_dir`.
    """
    check_choice("dataset", dataset, DATASETS)
    n_train = check_int("n_train", n_train, min_value=10)
    n_test = check_int("n_test", n_test, min_value=10)
    split_seed = check_int("split_seed", split_seed, min_value=0)
    key = (dataset, n_train, n_test, split_seed)
    if key not in _SPLITS:
        from claimcheck.sims import datasets as D

        xi, y, scale = _raw_dataset(dataset, None if dataset == "digits" else str(D.mnist_dir()))
        n_train = check_int("n_train", n_train, min_value=10, max_value=len(y) - 10)
        n_test = check_int("n_test", n_test, min_value=10, max_value=len(y) - n_train)
        perm = np.random.default_rng(np.random.SeedSequence([split_seed, 8])).permutation(len(y))
        tr, te = perm[:n_train], perm[n_train:n_train + n_test]
        # pixels / scale of the chosen rows only: elementwise the same floats as scaling the whole set first
        xtr, xte = xi[tr], xi[te]
        _SPLITS[key] = Split(xtr / scale, y[tr], xte / scale, y[te], xtr, xte, scale)
        if len(_SPLITS) > 8:
            _SPLITS.pop(next(iter(_SPLITS)))
    return _SPLITS[key]


def _int_gram(ai: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a_i . b_j, |a_i|^2, |b_j|^2) of non-negative integer rows, exact.

    The Gram matrix is one float32 GEMM when every squared norm is below 2^24: for non-negative
    entries every product and every partial sum, in whatever order BLAS adds, is a non-negative
    integer at most a.b <= max(|a|^2, |b|^2) < 2^24, so exactly representable (the result is the exact
    integer, the same bits whatever the blocking). Otherwise one float64 GEMM: exact below 2^52, which
    keeps |a - b|^2 <= |a|^2 + |b|^2 < 2^53 exact in :func:`_int_sq_dists` too.
    ``bi is ai`` gives the symmetric product a @ a.T (numpy's SYRK: half the work). Columns that are
    0 in every row of both (MNIST's border pixels: ~15%) add nothing to any sum and are left out."""
    same = bi is ai
    for name, arr in (("ai", ai), ("bi", bi)):
        if arr.dtype.kind not in "iu" or (arr.dtype.kind == "i" and arr.size and arr.min() < 0):
            raise ValueError(f"{name} has dtype {arr.dtype}, must hold non-negative integers (raw pixels)")
    keep = ai.any(axis=0) if same else ai.any(axis=0) | bi.any(axis=0)
    if not keep.all():
        ai = ai[:, keep]
        bi = ai if same else bi[:, keep]
    na = np.einsum("ij,ij->i", ai, ai, dtype=np.int64)
    nb = na if same else np.einsum("ij,ij->i", bi, bi, dtype=np.int64)
    top = max(int(na.max(initial=0)), int(nb.max(initial=0)))
    if top >= 2**52:
        raise ValueError(f"integer rows have squared norm {top}, must be < 2**52 (exact float64 Gram matrix and distances)")
    dt = np.float32 if top < 2**24 else np.float64
    a = ai.astype(dt)
    b = a if same else bi.astype(dt)
    return a @ b.T, na, nb


def _int_sq_dists(ai: np.ndarray, bi: np.ndarray, scale: float) -> np.ndarray:
    """Squared distances of the rows of ai / scale and bi / scale, ai and bi non-negative integer
    arrays: the exact integer |a - b|^2 (:func:`_int_gram`) divided by scale^2, so each entry is
    the correctly rounded squared distance (for digits, scale 16, the same bits as
    :func:`squared_distances`, which is exact there too). ``bi is ai``: train-train (SYRK)."""
    g, na, nb = _int_gram(ai, bi)
    d = g.astype(np.float64)  # one new (n, m) array, then in place: |a|^2 + |b|^2 - 2 a.b, every step an exact integer < 2^53
    d *= -2.0
    d += na.astype(np.float64)[:, None]
    d += nb.astype(np.float64)[None, :]
    d /= scale * scale
    return d


def _split_sq_dists(split: Split, which: str) -> np.ndarray:
    """Squared distances train-train (``which="train"``) or test-train (``"test"``) of a split: exact
    from its integer pixels when it has them (:func:`_int_sq_dists`), else :func:`squared_distances`.
    One BLAS thread, so the matrix is the same bits whoever computes it."""
    x = split.x_train if which == "train" else split.x_test
    xi = split.xi_train if which == "train" else split.xi_test
    with one_blas_thread():
        if split.xi_train is None or xi is None:
            return squared_distances(x, split.x_train)
        return _int_sq_dists(xi, split.xi_train if which == "test" else xi, split.scale)


def _nn_index(split: Split, which: str = "test") -> np.ndarray:
    """Index of each test (``which="test"``) or training (``"train"``) point's nearest training
    point (first index among exact ties). With integer pixels: argmin_j |b_j|^2 - 2 a.b_j in exact
    float32 (|value| <= max(|a|^2, |b|^2) < 2^24) or float64 integers, no distance matrix formed;
    the same index as the argmin of :func:`_split_sq_dists` (whose distinct integers stay distinct
    after the division by scale^2)."""
    check_choice("which", which, ("train", "test"))
    xi = split.xi_train if which == "train" else split.xi_test
    if split.xi_train is None or xi is None:
        return np.argmin(_split_sq_dists(split, which), axis=1)
    with one_blas_thread():
        g, _, nb = _int_gram(xi, split.xi_train if which == "test" else xi)
    g *= -2
    g += nb.astype(g.dtype)
    return np.argmin(g, axis=1)


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``a`` and of ``b`` (clipped at 0 against rounding).

    ``a`` (n, d) and ``b`` (m, d) finite, entries in the supported range ``|x| <= 1e100`` (squares
    and their sums stay finite, so no inf - inf = NaN).

    >>> squared_distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])).tolist()
    [[25.0]]
    """
    a = check_array("a", a, min_value=-1e100, max_value=1e100, ndim=2)
    b = check_array("b", b, min_value=-1e100, max_value=1e100, ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b has {b.shape[1]} columns, must have {a.shape[1]} like a (points of the same dimension)")
    check_size("rows of a x rows of b", a.shape[0] * b.shape[0])
    g = 2.0 * a @ b.T
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :]
    d -= g            # the same (|a|^2 + |b|^2) - 2 a.b as one expression, without two more (n, m) temporaries
    del g
    return np.maximum(d, 0.0, out=d)


def _gaussian_kernel(d2: np.ndarray, bandwidth: float) -> np.ndarray:
    """exp(-d2 / (2 h^2)) elementwise, evaluated in one new array (the same operations in the same order)."""
    k = np.negative(d2)
    k /= 2 * bandwidth**2
    return np.exp(k, out=k)


class KernelInterpolator:
    """Kernel regression onto one-hot labels with one Cholesky factorisation, many label sets.

    Gaussian kernel k(x, x') = exp(-||x - x'||^2 / (2 h^2)) with h = ``bandwidth_factor``
    times the median pairwise training distance. ``ridge`` is lambda (k(x, x) = 1):
    1e-8 interpolates (the lambda -> 0 limit), a large ridge shrinks. Binary predictions
    are the argmax of the regressions onto the one-hot columns (1 - b, b), i.e.
    f(x) = 1{f_b(x) > f_1(x) / 2} with f_1 the regression of the constant 1, as in the
    kernel experiments of Nakkiran & Bansal 2020 (regression onto one-hot labels + argmax).
    """

    def __init__(self, x_train: np.ndarray, *, ridge: float = 1e-8, bandwidth_factor: float = 0.1, sq_dists=None):
        from scipy import linalg

        self.ridge = check_real("ridge", ridge, min_value=0, include_min=False, scalar=True)
        # supported range: the bandwidth (a median distance times the factor) and its square stay finite and > 0
        factor = check_real("bandwidth_factor", bandwidth_factor, min_value=1e-100, max_value=1e100, scalar=True)
        self.x_train = check_array("x_train", x_train, min_value=-1e100, max_value=1e100, ndim=2, min_size=2)
        if self.x_train.shape[0] < 2:
            raise ValueError(f"x_train has shape {self.x_train.shape}, must have >= 2 rows (the bandwidth is a median distance)")
        n = self.x_train.shape[0]
        if sq_dists is None:
            d2 = squared_distances(self.x_train, self.x_train)
        else:
            d2 = check_array("sq_dists", sq_dists, min_value=0, ndim=2)
            if d2.shape != (n, n):
                raise ValueError(f"sq_dists has shape {d2.shape}, must be ({n}, {n}) (squared distances between the training points)")
        upper = np.arange(n)[:, None] < np.arange(n)  # strict upper triangle as a mask: the entries of triu_indices, same order
        # the median of that fresh copy, partitioned in place (the same order statistics, the same mean of the middle two)
        self.bandwidth = factor * float(np.sqrt(np.median(d2[upper], overwrite_input=True)))
        if not 0 < self.bandwidth < math.inf:
            raise ValueError(f"x_train gives a median distance of {self.bandwidth / factor:g}, must have distinct points (bandwidth > 0)")
        kmat = _gaussian_kernel(d2, self.bandwidth)
        # kernel matrices regress() would recompute, kept read-only (at most 3) with the squared distances they
        # come from (identified by object: the same bits by construction): the training one when its squared
        # distances were given, and those of read-only (cached, :func:`_split_dists`) test distances
        self._kept: list = []
        # LAPACK factorises a column-major copy (the one cho_factor would make of kmat), ridge on its diagonal;
        # kmat itself is left as the training kernel matrix (no second copy)
        a = np.asfortranarray(kmat)
        a[np.diag_indices_from(a)] += self.ridge
        if sq_dists is not None:
            self._keep(d2, kmat)
        try:
            self._chol = linalg.cho_factor(a, lower=True, overwrite_a=True)
        except (linalg.LinAlgError, ValueError):
            raise ValueError(f"ridge={self.ridge!r}, bandwidth_factor={factor!r}: the kernel matrix is not numerically positive "
                             "definite; ridge must be larger (or bandwidth_factor smaller)") from None

    def _keep(self, d2: np.ndarray, kmat: np.ndarray) -> None:
        kmat.flags.writeable = False
        if len(self._kept) < 3:
            self._kept.append((d2, kmat))

    def _kernel_at(self, d2: np.ndarray) -> np.ndarray:
        """The kernel matrix of squared distances ``d2``: a kept one, else computed (and kept when
        ``d2`` is read-only, i.e. a cached matrix that cannot change)."""
        for d, kmat in self._kept:
            if d is d2:
                return kmat
        kmat = _gaussian_kernel(d2, self.bandwidth)
        if not d2.flags.writeable:
            self._keep(d2, kmat)
        return kmat

    def _alpha(self, targets) -> np.ndarray:
        from scipy import linalg

        return linalg.cho_solve(self._chol, np.asarray(targets, dtype=float))

    def _regress_alpha(self, alpha: np.ndarray, x, sq_dists) -> np.ndarray:
        d2 = squared_distances(np.asarray(x, dtype=float), self.x_train) if sq_dists is None else sq_dists
        return self._kernel_at(d2) @ alpha

    def regress(self, targets: np.ndarray, x: np.ndarray, sq_dists=None) -> np.ndarray:
        """Regression outputs at x for each column of targets (n_train, R) -> (len(x), R);
        ``sq_dists`` optionally holds the squared distances from x to the training points."""
        return self._regress_alpha(self._alpha(targets), x, sq_dists)

    def predict(self, labels: np.ndarray, x: np.ndarray, sq_dists=None) -> np.ndarray:
        """One-hot argmax predictions (len(x), R) for 0/1 label columns (n_train, R)."""
        return self.predict_at(labels, [(x, sq_dists)])[0]

    def predict_at(self, labels: np.ndarray, points) -> list[np.ndarray]:
        """:meth:`predict` at each ``(x, sq_dists)`` of ``points``, with one solve for the coefficients
        (the same numbers as separate calls)."""
        labels = np.asarray(labels, dtype=float)
        alpha = self._alpha(np.column_stack([labels, np.ones(len(labels))]))
        out = []
        for x, sq_dists in points:
            f = self._regress_alpha(alpha, x, sq_dists)
            out.append((f[:, :-1] > 0.5 * f[:, -1:]).astype(np.int64))
        return out


KERNEL_SETTINGS = {"kernel": (1e-8, 0.1), "kernel_wide": (1e-8, 0.5), "kernel_ridge": (10.0, 1.0)}
"""model -> (ridge, bandwidth factor): narrow-bandwidth interpolation, wide-bandwidth
interpolation, and the wide, heavily regularised contrast."""

_KERNELS: dict = {}
_DISTS: dict = {}


def _split_dists(split_key, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances (train-train, test-train) of a split (:func:`_split_sq_dists`), cached
    read-only by its key ``(dataset, n_train, n_test, split_seed)``; computed afresh for key None."""
    if split_key is None:
        return _split_sq_dists(split, "train"), _split_sq_dists(split, "test")
    if split_key not in _DISTS:
        pair = (_split_sq_dists(split, "train"), _split_sq_dists(split, "test"))
        for d in pair:
            d.flags.writeable = False
        _DISTS[split_key] = pair
        if len(_DISTS) > 3:
            _DISTS.pop(next(iter(_DISTS)))
    return _DISTS[split_key]


def _kernel(split_key, split: Split, model: str, d_train: np.ndarray) -> KernelInterpolator:
    """The fitted kernel of ``model`` on a split (``d_train``: its train-train squared distances),
    cached by (key, model) unless the key is None."""
    ridge, factor = KERNEL_SETTINGS[model]
    if split_key is None:
        return KernelInterpolator(split.x_train, ridge=ridge, bandwidth_factor=factor, sq_dists=d_train)
    key = (split_key, model)
    if key not in _KERNELS:
        _KERNELS[key] = KernelInterpolator(split.x_train, ridge=ridge, bandwidth_factor=factor, sq_dists=d_train)
        if len(_KERNELS) > 6:
            _KERNELS.pop(next(iter(_KERNELS)))
    return _KERNELS[key]


def _mlp_predict(x_train, labels, xs, seed: int, *, hidden: int = 256, max_steps: int = 3000, lr: float = 1e-2):
    """R independent one-hidden-layer ReLU MLPs (one per label column), full-batch Adam on
    the logistic loss until every network has zero training error (checked every 25 steps)
    or ``max_steps``; torch on CPU, seeded. Returns (predictions on each x in xs, steps)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batched matmuls: one thread is fastest; restored below
    try:
        g = torch.Generator().manual_seed(int(seed))
        X = torch.as_tensor(x_train, dtype=torch.float32)
        Y = torch.as_tensor(labels.T, dtype=torch.float32)  # (R, n)
        R, d = Y.shape[0], X.shape[1]
        W1 = (torch.randn(R, d, hidden, generator=g) * math.sqrt(2.0 / d)).requires_grad_()
        b1 = torch.zeros(R, 1, hidden, requires_grad=True)
        W2 = (torch.randn(R, hidden, 1, generator=g) / math.sqrt(hidden)).requires_grad_()
        b2 = torch.zeros(R, 1, 1, requires_grad=True)
        params = [W1, b1, W2, b2]
        opt = torch.optim.Adam(params, lr=lr)

        def logits(x):
            h = torch.relu(torch.einsum("nd,rdh->rnh", x, W1) + b1)
            return (h @ W2 + b2).squeeze(-1)  # (R, n)

        steps = 0
        for steps in range(1, max_steps + 1):
            opt.zero_grad(set_to_none=True)
            out = logits(X)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out, Y, reduction="sum") / X.shape[0]
            loss.backward()
            opt.step()
            if steps % 25 == 0:
                with torch.no_grad():
                    if bool(((logits(X) > 0).float() == Y).all()):
                        break
        with torch.no_grad():
            return [(logits(torch.as_tensor(x, dtype=torch.float32)) > 0).numpy().T.astype(np.int64) for x in xs], steps
    finally:
        torch.set_num_threads(threads)


def predict_binary(model: str, split: Split, labels: np.ndarray, rng: np.random.Generator, *, split_key=None):
    """Fit ``model`` to each column of ``labels`` (n_train, R); return (train_pred, test_pred),
    both int64 0/1 of shapes (n_train, R) and (n_test, R)."""
    check_choice("model", model, MODELS)
    if not isinstance(split, Split):
        raise TypeError(f"split={split!r:.60}, must be a Split (from load_split)")
    labels = check_int_array("labels", labels, min_value=0, max_value=1, ndim=2)
    if labels.shape[0] != len(split.y_train):
        raise ValueError(f"labels has shape {labels.shape}, must be (n_train, R) with n_train = {len(split.y_train)}")
    check_rng("rng", rng)
    xs = (split.x_train, split.x_test)
    if model in KERNEL_SETTINGS:
        d_train, d_test = _split_dists(split_key, split)
        ki = _kernel(split_key, split, model, d_train)
        return tuple(ki.predict_at(labels, [(split.x_train, d_train), (split.x_test, d_test)]))
    if model == "knn1":
        return labels[_nn_index(split, "train")], labels[_nn_index(split, "test")]
    if model == "mlp":
        preds, _ = _mlp_predict(split.x_train, labels, xs, int(rng.integers(2**31)))
        return tuple(preds)
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    outs = [np.empty((len(x), labels.shape[1]), dtype=np.int64) for x in xs]
    if model == "tree":  # sklearn's trees work in float32: convert once, not in every fit and predict (same values)
        xs = tuple(np.ascontiguousarray(x, dtype=np.float32) for x in xs)
    for r in range(labels.shape[1]):
        yr = labels[:, r]
        if yr.min() == yr.max():  # a constant label vector: every model predicts that constant
            for o in outs:
                o[:, r] = yr[0]
            continue
        if model == "tree":
            clf = DecisionTreeClassifier(random_state=int(rng.integers(2**31))).fit(xs[0], yr)
        else:
            clf = LogisticRegression(C=1e-3, max_iter=200).fit(split.x_train, yr)
        for o, x in zip(outs, xs):
            o[:, r] = clf.predict(x)
    return tuple(outs)


def ensemble_slope(test_pred, y_class, p) -> tuple[float, float]:
    """Calibration slope of R fitted classifiers' mean predicted-1 rates, and its SE given the fits.

    With a_j = mean_r pred[j, r] for test point j, rate_c = mean_{j in c} a_j and
    slope = sum_c d_c rate_c / sum_c d_c^2 (d_c = p_c - mean p). Conditional on the fitted
    classifiers the test points of class c are iid, so
    SE^2 = sum_c d_c^2 s_c^2 / N_c / (sum_c d_c^2)^2, s_c^2 the sample variance of a_j in class c.
    """
    a = check_array("test_pred", test_pred, min_value=0, max_value=1, ndim=None)
    if a.ndim not in (1, 2):
        raise ValueError(f"test_pred has shape {a.shape}, must be (n_test,) or (n_test, R)")
    a = a.mean(axis=1) if a.ndim == 2 else a
    p = check_array("p", p, min_value=0, max_value=1)
    y = check_int_array("y_class", y_class, min_value=0, max_value=p.size - 1)
    if y.size != a.size:
        raise ValueError(f"y_class has {y.size} entries, must have {a.size} (one per row of test_pred)")
    d = p - p.mean()
    ss = float(d @ d)
    count = np.bincount(y, minlength=p.size)
    if ss == 0:
        raise ValueError("p is constant, must vary across classes for the slope to be defined")
    if count.min() < 2:
        raise ValueError(f"y_class has {int(count.min())} test point(s) in class {int(np.argmin(count))}, must have >= 2 per class (for the SE)")
    mean = np.bincount(y, weights=a, minlength=p.size) / count
    var = (np.bincount(y, weights=a * a, minlength=p.size) - count * mean**2) / (count - 1)
    return float(d @ mean / ss), float(math.sqrt(max(float(d**2 @ (np.maximum(var, 0) / count)), 0.0)) / ss)


def feature_calibration_run(dataset: str, model: str, p, *, n_train: int, n_test: int, reps: int,
                            rng: np.random.Generator, split_seed: int = 0) -> dict:
    """Noisy-binary feature-calibration experiment, ``reps`` independent label draws.

    For each replicate: labels b ~ Bernoulli(p[class]) on a fixed seeded split, fit
    ``model``, predict the test set. Returns arrays over replicates: ``slope`` (least
    squares of the per-class test predicted-1 rate on p_c), ``rates`` (reps, K),
    ``train_error`` (fraction of training points with f(x_i) != b_i; 0 for interpolation),
    ``ensemble_slope`` / ``ensemble_slope_se`` (:func:`ensemble_slope`, SE given the fits),
    plus ``p``, ``counts`` (test points per class) and ``test_pred`` (n_test, reps).
    """
    reps = check_int("reps", reps, min_value=1, max_value=10**4)
    check_choice("model", model, MODELS)
    p = check_array("p", p, min_value=0, max_value=1)
    check_rng("rng", rng)
    split = load_split(dataset, n_train, n_test, split_seed)
    k = int(split.y_train.max()) + 1
    if p.size != k:
        raise ValueError(f"p has {p.size} rates, must have {k} (one per class of {dataset})")
    per_class = np.bincount(split.y_test, minlength=k)
    if per_class.min() < 2:
        raise ValueError(f"n_test={n_test} leaves class {int(np.argmin(per_class))} with {int(per_class.min())} test point(s), "
                         "must give >= 2 per class (for the slope's SE)")
    key = (dataset, n_train, n_test, split_seed)
    labels = noisy_binary_labels(np.repeat(split.y_train[:, None], reps, axis=1), p, rng)
    with one_blas_thread():
        train_pred, test_pred = predict_binary(model, split, labels, rng, split_key=key)
    counts = np.bincount(split.y_test, minlength=p.size)
    rates = class_rates(test_pred, split.y_test, p.size)
    d = p - p.mean()
    slope, slope_se = ensemble_slope(test_pred, split.y_test, p)
    return {
        "p": p,
        "ensemble_slope": slope,
        "ensemble_slope_se": slope_se,
        "counts": counts,
        "rates": rates,
        "slope": rates @ d / (d @ d),
        "train_error": (train_pred != labels).mean(axis=0),
        "test_pred": test_pred,
        "y_test": split.y_test,
    }
