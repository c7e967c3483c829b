"""MNIST-1D (Greydanus 2020) generated vectorised: a million samples in seconds, never downloaded.

``mnist1d.data.make_dataset`` transforms one template at a time in Python (``mnist1d.transform
.transform``: pad, dilate, scale, translate, correlated and iid noise, shear, subsample), about
0.3 ms a sample: the ~1.3M fresh samples of ``real_vs_ideal --profile small`` took more than six
minutes. :func:`transform_batch` applies the same transformation to N samples at once, given the
random draws of each sample (:func:`draws`); the test ``tests/test_gpu_mnist1d.py`` feeds it the
draws that ``mnist1d.transform`` consumes from numpy's global generator and compares the outputs
sample by sample (float64 rounding). :func:`make` then draws from a seeded
``numpy.random.Generator`` (so the samples are distributed as mnist1d's, not bit-equal to them),
uses mnist1d's own templates and default arguments, balances the classes as ``make_dataset``
does, and standardises with the mean and standard deviation of the whole generated set (as
``make_dataset`` does for its set).
"""
from __future__ import annotations

import numpy as np

__all__ = ["defaults", "templates", "draws", "transform_batch", "make"]


def defaults() -> dict:
    """mnist1d's generator arguments (``get_dataset_args``), without the download URL."""
    from mnist1d.data import get_dataset_args

    args = get_dataset_args(as_dict=True)
    args.pop("url", None)
    return args


def templates() -> tuple[np.ndarray, np.ndarray]:
    """(x (10, template_len), t (template_len,)): mnist1d's digit templates and their time axis."""
    from mnist1d.data import get_templates

    t = get_templates()
    return np.asarray(t["x"], dtype=np.float64), np.asarray(t["t"], dtype=np.float64)


def draws(rng: np.random.Generator, n: int, args: dict) -> dict[str, np.ndarray]:
    """The random numbers of ``n`` transformations, one row per sample (what ``transform`` draws)."""
    low, high = args["padding"]
    length = args["template_len"] + high
    return {
        "pad": low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64),   # pad(): zeros appended
        "scale": rng.random(n),                                                     # 1 + scale_coeff (u - 1/2)
        "shift": rng.integers(0, args["max_translation"], n),                       # translate(): np.random.choice
        "corr": rng.standard_normal((n, length)),                                   # corr_noise_like
        "iid": rng.standard_normal((n, length)),                                    # iid_noise_like
        "shear": rng.random(n),                                                     # shear(): scale (u - 1/2)
    }


def _resample(x: np.ndarray, lengths: np.ndarray, n_out: int) -> np.ndarray:
    """Linear interpolation of each row's first ``lengths[i]`` entries from ``linspace(0, 1, L)``
    to ``linspace(0, 1, n_out)``, computed as ``np.interp`` does (what ``interp1d(kind="linear")``
    of a 1-D signal calls): segment j with xp[j] <= u < xp[j+1], the value fp[j] exactly at a grid
    point, else ``slope * (u - xp[j]) + fp[j]``. Rows are grouped by their length L."""
    u = np.linspace(0.0, 1.0, n_out)
    out = np.empty((x.shape[0], n_out))
    for L in np.unique(lengths):
        rows = np.flatnonzero(lengths == L)
        xp = np.linspace(0.0, 1.0, int(L))
        j = np.clip(np.searchsorted(xp, u, side="right") - 1, 0, L - 1)
        last = j == L - 1
        jn = np.minimum(j + 1, L - 1)
        f = x[rows][:, :L]
        f_lo, f_hi = f[:, j], f[:, jn]
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (f_hi - f_lo) / np.where(last, 1.0, xp[jn] - xp[j])
            val = slope * (u - xp[j]) + f_lo
        exact = last | (xp[j] == u)
        out[rows] = np.where(exact, f_lo, val)
    return out


def transform_batch(x: np.ndarray, d: dict[str, np.ndarray], args: dict, eps: float = 1e-8) -> np.ndarray:
    """``mnist1d.transform.transform`` of every row of ``x`` (N, template_len) with the draws ``d``.

    Steps (as in mnist1d): append ``pad`` zeros to x + eps; resample to template_len + padding[1];
    scale by 1 + scale_coeff (u - 1/2); roll by ``shift``; where the signal is 0 put
    Gaussian-filtered (sigma 2) correlated noise; add iid noise; subtract a shear ramp; resample to
    ``final_seq_length``. Returns (N, final_seq_length) float64.
    """
    from scipy.ndimage import gaussian_filter1d

    n, tl = x.shape
    low, high = args["padding"]
    length = tl + high
    padded = np.zeros((n, tl + high))
    padded[:, :tl] = x + eps
    out = _resample(padded, tl + d["pad"], length)                                   # pad + dilate
    out *= (1 + args["scale_coeff"] * (d["scale"] - 0.5))[:, None]                  # scale
    k = d["shift"]
    idx = (np.arange(length)[None, :] - k[:, None]) % length                        # translate = roll by k
    out = out[np.arange(n)[:, None], idx]
    mask = out != 0
    corr = gaussian_filter1d(args["corr_noise_scale"] * d["corr"], 2, axis=-1)
    out = mask * out + (1 - mask) * corr
    out = out + args["iid_noise_scale"] * d["iid"]
    coeff = args["shear_scale"] * (d["shear"] - 0.5)
    out = out - coeff[:, None] * np.linspace(-0.5, 0.5, length)[None, :]             # shear
    return _resample(out, np.full(n, length), args["final_seq_length"])              # subsample


CHUNK = 65536
"""Samples transformed at a time (bounds the float64 work arrays to ~40 MB each); part of the
definition of the samples (the draws come chunk after chunk from one generator)."""


def make(num: int, seed: int, **overrides) -> tuple[np.ndarray, np.ndarray]:
    """``num`` fresh MNIST-1D samples ``(x float32 (num, 40), y int64 (num,))`` from ``seed``.

    Classes are balanced (each digit ``num // 10`` or one more times) in random order; x is
    standardised with the mean and standard deviation of all ``num`` samples.

    >>> x, y = make(50, seed=0)
    >>> x.shape, y.shape, sorted(np.bincount(y).tolist()) == [5] * 10
    ((50, 40), (50,), True)
    >>> bool(np.array_equal(make(50, seed=0)[0], x))
    True
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"num={num!r}, must be an integer >= 1")
    args = defaults()
    unknown = sorted(set(overrides) - set(args))
    if unknown:
        raise ValueError(f"unknown mnist1d argument(s) {unknown}; valid: {sorted(args)}")
    args.update(overrides)
    if args.get("shuffle_seq"):
        raise ValueError("shuffle_seq=True is not supported by the vectorised generator")
    tx, _ = templates()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6D6E31]))
    y = rng.permutation(np.arange(num) % len(tx))
    xs = np.empty((num, args["final_seq_length"]), dtype=np.float64)
    for start in range(0, num, CHUNK):
        stop = min(num, start + CHUNK)
        xs[start:stop] = transform_batch(tx[y[start:stop]], draws(rng, stop - start, args), args)
    xs = (xs - xs.mean()) / xs.std()
    return xs.astype(np.float32), y.astype(np.int64)
