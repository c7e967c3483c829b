"""Argument checks shared by every public formula and simulator (one place, one message format).

Modelled on scikit-learn's ``check_scalar``: a validator returns the validated value,
raises ``TypeError`` for a wrong type and ``ValueError`` for a value out of range, and
the message echoes ``name=value`` and the allowed range, e.g. ``noise=-1.0, must be >= 0``.
Array arguments are checked elementwise and the first offending value is reported.

What counts as a real number: Python ``int``/``float`` (and other ``numbers.Real``), numpy
integer and floating scalars and arrays. Refused with ``TypeError``: ``bool``, strings (also
numeric ones such as ``"2.0"``: a number that arrived as text is a caller's bug), bytes,
``None``, complex numbers, and arrays of any of these. An integer too large for a float
(``10**400``) is refused with ``ValueError`` naming the float range.

Work arguments (replicate counts, step counts, sample sizes that allocate memory) carry an
explicit ``max_value``, so that a typo such as ``reps=10**12`` is refused at once with the
supported range instead of running for days; :data:`MAX_REPS` and :data:`MAX_STEPS` are the
shared limits.
"""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

__all__ = [
    "check_int", "check_real", "check_array", "check_int_array", "check_broadcast", "check_rng", "check_choice", "check_callable",
    "check_bool", "check_size", "is_scalar", "as_output", "MAX_REPS", "MAX_STEPS", "MAX_FLOAT", "MAX_EXACT_INT",
    "MAX_ELEMENTS",
]

MAX_FLOAT = sys.float_info.max
"""Largest finite float (1.797...e308); a real argument beyond it cannot be represented."""

MAX_REPS = 10**7
"""Upper limit of every replicate count (``reps``): beyond it a simulation takes hours."""

MAX_STEPS = 10**7
"""Upper limit of every iteration / step count of a simulator or recursion."""

MAX_EXACT_INT = 2**53
"""Largest integer every float represents exactly: the upper limit of sizes (n, p, d, k, ...)
that a closed form only evaluates (beyond it n and n + 1 are the same float)."""

MAX_ELEMENTS = 2**27
"""Upper limit of the entries one simulator allocates at once (1 GiB of float64)."""


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return repr(v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def _fmt_range(min_value, max_value, include_min, include_max) -> str:
    parts = []
    if min_value is not None:
        parts.append(f"{'>=' if include_min else '>'} {_fmt(min_value)}")
    if max_value is not None:
        parts.append(f"{'<=' if include_max else '<'} {_fmt(max_value)}")
    return " and ".join(parts)


def _short(value) -> str:
    text = repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**20:
        return f"{'-' if value < 0 else ''}10**{len(str(abs(value))) - 1}(approx.)"
    return text if len(text) <= 80 else text[:77] + "..."


def _out_of_range(x, min_value, max_value, include_min, include_max):
    bad = np.zeros(np.shape(x), dtype=bool)
    if min_value is not None:
        bad |= (x < min_value) if include_min else (x <= min_value)
    if max_value is not None:
        bad |= (x > max_value) if include_max else (x >= max_value)
    return bad


def check_int(name: str, value, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking type and range (inclusive bounds).

    Integral floats (``3.0``) are accepted; bools, strings, NaN, inf and fractions are not.

    >>> check_int("n", 5, min_value=1)
    5
    >>> check_int("n", 0, min_value=1)
    Traceback (most recent call last):
    ...
    ValueError: n=0, must be >= 1
    >>> check_int("n", "5")
    Traceback (most recent call last):
    ...
    TypeError: n='5', must be an integer
    """
    rng = _fmt_range(min_value, max_value, True, True)
    suffix = f" {rng}" if rng else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise TypeError(f"{name}={_short(value)}, must be an integer{suffix}")
    if not isinstance(value, numbers.Integral):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"{name}={f}, must be a finite integer{suffix}")
        if not f.is_integer():
            raise TypeError(f"{name}={_short(value)}, must be an integer{suffix}")
        value = int(f)
    value = int(value)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise ValueError(f"{name}={_short(value)}, must be {rng}")
    return value


def _as_float_array(name: str, value) -> np.ndarray:
    """``value`` as a float ndarray, refusing everything that is not a real number (see module doc)."""
    if isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating)) or value is None:
        raise TypeError(f"{name}={_short(value)}, must be a real number")
    if isinstance(value, numbers.Integral) and not isinstance(value, np.integer):
        if abs(value) > MAX_FLOAT:
            raise ValueError(f"{name}={_short(value)}, must be finite and of magnitude <= {MAX_FLOAT:g} (a float)")
        return np.asarray(float(value))
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:  # ragged nested lists, ...
        raise TypeError(f"{name} must be a real number or a rectangular array of real numbers ({exc})") from None
    if raw.dtype.kind in "iuf":
        return raw.astype(float, copy=False)
    if raw.dtype.kind == "O":  # e.g. a list holding a huge int, a Fraction, or None
        flat = raw.ravel().tolist()
        for v in flat:
            if isinstance(v, (bool, np.bool_, str, bytes, complex)) or v is None or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} has an entry {_short(v)}, must hold real numbers only")
            if isinstance(v, numbers.Integral) and abs(v) > MAX_FLOAT:
                raise ValueError(f"{name} has an entry {_short(v)}, must be finite and of magnitude <= {MAX_FLOAT:g}")
        return np.asarray([float(v) for v in flat], dtype=float).reshape(raw.shape)
    what = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(raw.dtype.kind, f"dtype {raw.dtype}")
    raise TypeError(f"{name} holds {what}, must be a real number or an array of real numbers")


def check_real(
    name: str,
    value,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
    allow_inf: bool = False,
    scalar: bool = False,
):
    """Return ``value`` (float, or float ndarray for array input) after type and range checks.

    NaN is always rejected; +-inf only with ``allow_inf`` (and then still range-checked).
    ``scalar=True``: arrays are refused (TypeError), only a single number is accepted.

    >>> check_real("noise", 0.5, min_value=0)
    0.5
    >>> check_real("noise", -1.0, min_value=0)
    Traceback (most recent call last):
    ...
    ValueError: noise=-1.0, must be >= 0
    >>> check_real("noise", "2.0")
    Traceback (most recent call last):
    ...
    TypeError: noise='2.0', must be a real number
    """
    rng = _fmt_range(min_value, max_value, include_min, include_max)
    arr = _as_float_array(name, value)
    if scalar and arr.ndim:
        raise TypeError(f"{name} is an array of shape {arr.shape}, must be a single real number{' ' + rng if rng else ''}")
    if np.isnan(arr).any():
        raise ValueError(f"{name}=nan, must be a real number{' ' + rng if rng else ''}")
    if not allow_inf and np.isinf(arr).any():
        bad = arr[np.isinf(arr)].flat[0]
        raise ValueError(f"{name}={bad}, must be finite{' and ' + rng if rng else ''}")
    bad = _out_of_range(arr, min_value, max_value, include_min, include_max)
    if bad.any():
        first = float(arr[bad].flat[0]) if arr.ndim else float(arr)
        raise ValueError(f"{name}={first!r}, must be {rng}")
    if arr.ndim == 0:
        return float(arr)
    return arr


def check_array(name: str, value, *, min_value: float | None = None, max_value: float | None = None,
                include_min: bool = True, include_max: bool = True, ndim: int | None = 1, min_size: int = 1,
                max_size: int | None = None, allow_inf: bool = False) -> np.ndarray:
    """Return a float array of the given ``ndim`` (a scalar counts as length 1 for ``ndim=1``)
    with at least ``min_size`` entries, each finite (unless ``allow_inf``) and in range.

    >>> check_array("p", [0.1, 0.2], min_value=0).tolist()
    [0.1, 0.2]
    >>> check_array("p", [])
    Traceback (most recent call last):
    ...
    ValueError: p has shape (0,), must be a 1-d array with >= 1 entries
    """
    arr = check_real(name, value, min_value=min_value, max_value=max_value, include_min=include_min,
                     include_max=include_max, allow_inf=allow_inf)
    arr = np.asarray(arr, dtype=float)
    if ndim == 1:
        arr = np.atleast_1d(arr)
    if (ndim is not None and arr.ndim != ndim) or arr.size < min_size or (max_size is not None and arr.size > max_size):
        size = f">= {min_size}" + (f" and <= {max_size}" if max_size is not None else "")
        shape = f"a {ndim}-d array" if ndim is not None else "an array"
        raise ValueError(f"{name} has shape {arr.shape}, must be {shape} with {size} entries")
    return arr


def check_int_array(name: str, value, *, min_value: int | None = None, max_value: int | None = None,
                    ndim: int | None = 1, min_size: int = 1) -> np.ndarray:
    """Return an int64 array (integral floats accepted) of the given ``ndim`` (None: any) with
    at least ``min_size`` entries, each in [min_value, max_value].

    >>> check_int_array("group", [0, 2], min_value=0).tolist()
    [0, 2]
    >>> check_int_array("group", [0, 2.5])
    Traceback (most recent call last):
    ...
    TypeError: group has an entry 2.5, must hold integers only
    """
    rng = _fmt_range(min_value, max_value, True, True)
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise TypeError(f"{name}={_short(value)}, must be an array of integers{' ' + rng if rng else ''}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be a rectangular array of integers ({exc})") from None
    if raw.dtype.kind == "O" or raw.dtype.kind == "f":
        flat = raw.ravel().tolist()
        for v in flat:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} has an entry {_short(v)}, must hold integers only")
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{name} has an entry {v}, must hold finite integers{' ' + rng if rng else ''}")
            if not float(v).is_integer():
                raise TypeError(f"{name} has an entry {_short(v)}, must hold integers only")
            if abs(v) >= 2**63:
                raise ValueError(f"{name} has an entry {_short(v)}, must be of magnitude < 2**63")
        raw = np.asarray([int(v) for v in flat], dtype=np.int64).reshape(raw.shape)
    elif raw.dtype.kind not in "iu":
        what = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(raw.dtype.kind, f"dtype {raw.dtype}")
        raise TypeError(f"{name} holds {what}, must be an array of integers")
    arr = raw.astype(np.int64, copy=False)
    if ndim == 1:
        arr = np.atleast_1d(arr)
    if (ndim is not None and arr.ndim != ndim) or arr.size < min_size:
        shape = f"a {ndim}-d array" if ndim is not None else "an array"
        raise ValueError(f"{name} has shape {arr.shape}, must be {shape} with >= {min_size} entries")
    bad = _out_of_range(arr, min_value, max_value, True, True)
    if bad.any():
        raise ValueError(f"{name} has an entry {int(arr[bad].flat[0])}, must have every entry {rng}")
    return arr


def check_broadcast(**arrays) -> tuple[np.ndarray, ...]:
    """Broadcast the named arrays together; ValueError naming them and their shapes if impossible.

    >>> check_broadcast(q=[0.1, 0.2], p=[0.1, 0.2, 0.3])
    Traceback (most recent call last):
    ...
    ValueError: q has shape (2,) and p has shape (3,); they must broadcast to a common shape
    """
    vals = [np.asarray(v, dtype=float) for v in arrays.values()]
    try:
        return tuple(np.broadcast_arrays(*vals))
    except ValueError:
        shapes = " and ".join(f"{k} has shape {v.shape}" for k, v in zip(arrays, vals))
        raise ValueError(f"{shapes}; they must broadcast to a common shape") from None


def check_rng(name: str, value) -> np.random.Generator:
    """Return ``value`` if it is a ``numpy.random.Generator`` (``np.random.default_rng(seed)``).

    >>> check_rng("rng", 0)
    Traceback (most recent call last):
    ...
    TypeError: rng=0, must be a numpy.random.Generator (e.g. numpy.random.default_rng(0))
    """
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name}={_short(value)}, must be a numpy.random.Generator (e.g. numpy.random.default_rng(0))")
    return value


def check_choice(name: str, value, choices):
    """Return ``value`` if it is one of ``choices`` (compared by type and value).

    >>> check_choice("link", "sine", ("identity", "sign"))
    Traceback (most recent call last):
    ...
    ValueError: link='sine', must be one of 'identity', 'sign'
    """
    for c in choices:
        if type(c) is type(value) and c == value:
            return c
    raise ValueError(f"{name}={_short(value)}, must be one of {', '.join(repr(c) for c in choices)}")


def check_callable(name: str, value):
    """Return ``value`` if it is callable (e.g. a bound function ``f(emp_risk, kl, n, delta, k)``)."""
    if not callable(value):
        raise TypeError(f"{name}={_short(value)}, must be callable")
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is a ``bool`` (or numpy bool); ``0``/``1``/strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={_short(value)}, must be True or False")
    return bool(value)


def check_size(names: str, count: int, limit: int = MAX_ELEMENTS) -> int:
    """Refuse a computation whose arrays would hold more than ``limit`` entries.

    ``names`` describes the product, e.g. ``"reps x n x d"``.

    >>> check_size("reps x n", 10**6 * 10**6)
    Traceback (most recent call last):
    ...
    ValueError: reps x n = 1000000000000 entries, must be <= 134217728 (arrays of at most 1 GiB); use fewer
    """
    if count > limit:
        raise ValueError(f"{names} = {count} entries, must be <= {limit} (arrays of at most {limit * 8 // 2**30} GiB); use fewer")
    return count


def is_scalar(x) -> bool:
    return np.ndim(x) == 0


def as_output(x):
    """float for 0-d results, ndarray otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


INF = math.inf
