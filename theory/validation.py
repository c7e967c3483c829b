"""Argument checks shared by every public formula (one place, one message format).

Modelled on scikit-learn's ``check_scalar``: a validator returns the validated value,
raises ``TypeError`` for a wrong type and ``ValueError`` for a value out of range, and
the message echoes ``name=value`` and the allowed range, e.g. ``noise=-1.0, must be >= 0``.
Array arguments are checked elementwise and the first offending value is reported.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_int", "check_real", "check_array", "is_scalar", "as_output"]


def _fmt_range(min_value, max_value, include_min, include_max) -> str:
    parts = []
    if min_value is not None:
        parts.append(f"{'>=' if include_min else '>'} {min_value}")
    if max_value is not None:
        parts.append(f"{'<=' if include_max else '<'} {max_value}")
    return " and ".join(parts)


def _out_of_range(x, min_value, max_value, include_min, include_max):
    bad = np.zeros(np.shape(x), dtype=bool)
    if min_value is not None:
        bad |= (x < min_value) if include_min else (x <= min_value)
    if max_value is not None:
        bad |= (x > max_value) if include_max else (x >= max_value)
    return bad


def check_int(name: str, value, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking type and range (inclusive bounds).

    >>> check_int("n", 5, min_value=1)
    5
    >>> check_int("n", 0, min_value=1)
    Traceback (most recent call last):
    ...
    ValueError: n=0, must be >= 1
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r}, must be an integer")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name}={value!r}, must be an integer")
    value = int(value)
    if _out_of_range(value, min_value, max_value, True, True):
        raise ValueError(f"{name}={value}, must be {_fmt_range(min_value, max_value, True, True)}")
    return value


def check_real(
    name: str,
    value,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
    allow_inf: bool = False,
):
    """Return ``value`` (float, or float ndarray for array input) after type and range checks.

    NaN is always rejected; +-inf only with ``allow_inf``.

    >>> check_real("noise", 0.5, min_value=0)
    0.5
    >>> check_real("noise", -1.0, min_value=0)
    Traceback (most recent call last):
    ...
    ValueError: noise=-1.0, must be >= 0
    """
    if isinstance(value, bool):
        raise TypeError(f"{name}={value!r}, must be a real number")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r}, must be a real number") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name}=nan, must be a real number {_fmt_range(min_value, max_value, include_min, include_max)}".rstrip())
    if not allow_inf and np.isinf(arr).any():
        bad = arr[np.isinf(arr)].flat[0]
        raise ValueError(f"{name}={bad}, must be finite")
    bad = _out_of_range(arr, min_value, max_value, include_min, include_max)
    if bad.any():
        first = float(arr[bad].flat[0]) if arr.ndim else float(arr)
        raise ValueError(f"{name}={first!r}, must be {_fmt_range(min_value, max_value, include_min, include_max)}")
    if arr.ndim == 0:
        return float(arr)
    return arr


def check_array(name: str, value, *, min_value: float | None = None, include_min: bool = True, ndim: int = 1) -> np.ndarray:
    """Return a finite float array of the given ``ndim`` with every entry in range."""
    arr = check_real(name, value, min_value=min_value, include_min=include_min)
    arr = np.atleast_1d(np.asarray(arr, dtype=float))
    if arr.ndim != ndim or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-d array, got shape {arr.shape}")
    return arr


def is_scalar(x) -> bool:
    return np.ndim(x) == 0


def as_output(x):
    """float for 0-d results, ndarray otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


INF = math.inf
