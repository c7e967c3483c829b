"""Declared parameter domains: one definition gives a claim's validator, its hypothesis
strategy and its boundary points.

A :class:`Domain` maps each parameter to a range (:class:`Int`, :class:`Real`,
:class:`Choice`, :class:`Seq`) and adds cross-constraints (:class:`Constraint`, e.g.
``|n - p| >= 4``). A range bound may depend on parameters declared before it
(:class:`Expr`, e.g. ``n >= d + 14``). :class:`AnyOf` joins domains with different shapes
(e.g. a model whose valid range of ``p_max`` differs). From the one declaration:

* ``validate(params)`` returns the checked values, or raises ``TypeError`` (wrong type) /
  ``ValueError`` (out of range) naming the parameter, its value and the allowed range, in the
  message format of :mod:`claimcheck.theory.validation` (``noise=-1.0, must be >= 0 and <= 4``);
* ``strategy()`` is a hypothesis strategy of parameter dicts covering the whole domain;
* ``boundary_points(default)`` lists the domain's edges: every parameter at each end of its
  range with the others at the default, plus the all-low and all-high corners (points that
  violate a constraint are left out).

``Claim(domain=Domain(...))`` uses all three (``claim.param_spec`` is the declaration).

>>> d = Domain({"n": Int(8, 120), "p": Int(2, 240)}, (Constraint("|n - p| >= 4", lambda q: abs(q["n"] - q["p"]) >= 4),))
>>> d.validate({"n": 10, "p": 50})
{'n': 10, 'p': 50}
>>> d.validate({"n": 10, "p": 12})
Traceback (most recent call last):
...
ValueError: n=10, p=12 violate the domain constraint |n - p| >= 4
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from hypothesis import strategies as st

from claimcheck.theory.validation import check_int, check_real

__all__ = ["Expr", "Int", "Real", "Choice", "Seq", "Constraint", "Domain", "AnyOf"]


@dataclass(frozen=True)
class Expr:
    """A range bound computed from parameters declared earlier: ``Expr("d + 14", lambda p: p["d"] + 14)``."""

    text: str
    fn: Callable[[Mapping[str, Any]], float]

    def __call__(self, params: Mapping[str, Any]):
        return self.fn(params)


def _bound(b, params):
    return b(params) if isinstance(b, Expr) else b


def _range_text(lo, hi, lo_open=False, hi_open=False, params=None) -> str:
    parts = []
    for b, op, opn in ((lo, ">", lo_open), (hi, "<", hi_open)):
        if b is None:
            continue
        sym = op if opn else op + "="
        if isinstance(b, Expr) and params is None:  # no point to evaluate it at: the formula itself
            parts.append(f"{sym} {b.text}")
            continue
        v = _bound(b, params or {})
        parts.append(f"{sym} {v:g}" + (f" ({b.text})" if isinstance(b, Expr) else "") if isinstance(v, (int, float)) else f"{sym} {v}")
    return " and ".join(parts)


class Spec:
    """One parameter's range (subclasses: Int, Real, Choice, Seq)."""

    def validate(self, name: str, value, params: Mapping[str, Any]):
        raise NotImplementedError

    def strategy(self, params: Mapping[str, Any]):
        raise NotImplementedError

    def edges(self, params: Mapping[str, Any]) -> list:
        raise NotImplementedError

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Spec):
    """An integer in [low, high] (bounds inclusive; numbers or :class:`Expr`)."""

    low: int | Expr
    high: int | Expr

    def validate(self, name, value, params):
        lo, hi = int(_bound(self.low, params)), int(_bound(self.high, params))
        try:
            return check_int(name, value, min_value=lo, max_value=hi)
        except ValueError:
            raise ValueError(f"{name}={value!r}, must be an integer {_range_text(self.low, self.high, params=params)}") from None

    def strategy(self, params):
        lo, hi = int(_bound(self.low, params)), int(_bound(self.high, params))
        return st.integers(lo, hi) if lo <= hi else st.nothing()

    def edges(self, params):
        lo, hi = int(_bound(self.low, params)), int(_bound(self.high, params))
        return [lo, hi] if lo < hi else [lo]

    def describe(self, params=None):
        return f"integer {_range_text(self.low, self.high, params=params)}"


@dataclass(frozen=True)
class Real(Spec):
    """A finite real number in [low, high] (``low_open`` / ``high_open`` exclude an end)."""

    low: float | Expr
    high: float | Expr
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False  # +inf accepted (e.g. a logged step t = inf: the limit)

    def validate(self, name, value, params):
        lo, hi = float(_bound(self.low, params)), float(_bound(self.high, params))
        rng = _range_text(self.low, self.high, self.low_open, self.high_open, params)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}={value!r}, must be a real number {rng}")
        try:
            fv = float(value)
        except OverflowError:  # an int beyond the float range (10**400)
            raise ValueError(f"{name}={str(value)[:20]}... ({len(str(value))} digits), must be a finite real number {rng}") from None
        if self.allow_inf and fv == math.inf:
            return math.inf
        if not math.isfinite(fv):
            raise ValueError(f"{name}={fv}, must be a finite real number {rng}")
        try:
            return check_real(name, value, min_value=lo, max_value=hi, include_min=not self.low_open,
                              include_max=not self.high_open)
        except ValueError:
            raise ValueError(f"{name}={value!r}, must be {rng}") from None

    def strategy(self, params):
        lo, hi = float(_bound(self.low, params)), float(_bound(self.high, params))
        if lo > hi:
            return st.nothing()
        return st.floats(lo, hi, exclude_min=self.low_open, exclude_max=self.high_open, allow_nan=False, allow_infinity=False)

    def edges(self, params):
        lo, hi = float(_bound(self.low, params)), float(_bound(self.high, params))
        a = math.nextafter(lo, hi) if self.low_open else lo
        b = math.nextafter(hi, lo) if self.high_open else hi
        return [a, b] if a < b else [a]

    def describe(self, params=None):
        return f"real {_range_text(self.low, self.high, self.low_open, self.high_open, params)}"


@dataclass(frozen=True)
class Choice(Spec):
    """One of ``values``; with ``callable_ok`` also any callable (e.g. a user's bound function)."""

    values: tuple
    callable_ok: bool = False

    def validate(self, name, value, params):
        if self.callable_ok and callable(value):
            return value
        for v in self.values:
            if type(v) is type(value) or (isinstance(v, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool)):
                if v == value:
                    return v
        extra = " or a callable" if self.callable_ok else ""
        raise ValueError(f"{name}={value!r}, must be one of {list(self.values)}{extra}")

    def strategy(self, params):
        return st.sampled_from(self.values)

    def edges(self, params):
        return list(self.values)

    def describe(self, params=None):
        return f"one of {list(self.values)}" + (" or a callable" if self.callable_ok else "")


@dataclass(frozen=True)
class Seq(Spec):
    """A tuple of ``element`` values, ``min_len`` to ``max_len`` long (``increasing``: strictly).

    With ``explore=None`` the strategy draws any such tuple (boundary points: all entries at the
    element's low end, shortest; and at its high end, longest). A sequence that is an experiment
    design (a grid of sizes or logged steps) names the grids to ``explore`` instead: any valid
    grid is accepted, the strategy and the boundary points use the listed ones."""

    element: Spec
    min_len: int = 1
    max_len: int = 64
    increasing: bool = False
    explore: tuple | None = None

    def validate(self, name, value, params):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            raise TypeError(f"{name}={value!r}, must be a sequence of {self.element.describe(params)}")
        vals = tuple(self.element.validate(f"{name}[{i}]", v, params) for i, v in enumerate(value))
        if not self.min_len <= len(vals) <= self.max_len:
            raise ValueError(f"{name} has {len(vals)} entries, must have >= {self.min_len} and <= {self.max_len}")
        if self.increasing and any(b <= a for a, b in zip(vals, vals[1:])):
            raise ValueError(f"{name}={vals}, must be strictly increasing")
        return vals

    def strategy(self, params):
        if self.explore is not None:
            return st.sampled_from(self.explore)
        if self.increasing:
            raise ValueError("an increasing Seq needs explore=(grids, ...)")
        return st.lists(self.element.strategy(params), min_size=self.min_len, max_size=self.max_len).map(tuple)

    def edges(self, params):
        if self.explore is not None:
            return list(self.explore)
        e = self.element.edges(params)
        return [(e[0],) * self.min_len, (e[-1],) * self.max_len]

    def describe(self, params=None):
        inc = "strictly increasing " if self.increasing else ""
        return f"{inc}sequence of {self.min_len}-{self.max_len} {self.element.describe(params)}"


@dataclass(frozen=True)
class Constraint:
    """A condition across parameters, ``test(params) -> bool``, with its text for messages."""

    text: str
    test: Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Domain:
    """Parameter ranges (in dependency order: an :class:`Expr` bound reads parameters declared
    before it) and cross-constraints."""

    params: Mapping[str, Spec]
    constraints: tuple = ()
    note: str = ""

    def names(self) -> list[str]:
        return list(self.params)

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The checked parameter values (same keys and order as ``params``)."""
        missing = [k for k in self.params if k not in params]
        unknown = [k for k in params if k not in self.params]
        if missing or unknown:
            raise ValueError(f"parameters {sorted(params)} do not match the domain's {list(self.params)}"
                             + (f" (missing {missing})" if missing else "") + (f" (unknown {unknown})" if unknown else ""))
        out: dict[str, Any] = {}
        for name, spec in self.params.items():
            out[name] = spec.validate(name, params[name], out)
        for c in self.constraints:
            if not c.test(out):
                shown = ", ".join(f"{k}={out[k]!r}" for k in self.params if k in c.text or len(self.params) <= 2)
                raise ValueError(f"{shown or out} violate the domain constraint {c.text}")
        return {k: out[k] for k in params}

    def contains(self, params: Mapping[str, Any]) -> bool:
        try:
            self.validate(params)
        except (TypeError, ValueError):
            return False
        return True

    def strategy(self):
        """Hypothesis strategy of parameter dicts: each parameter over its whole range."""
        names = list(self.params)

        @st.composite
        def draw(dr):
            out: dict[str, Any] = {}
            for name in names:
                out[name] = dr(self.params[name].strategy(out))
            return out

        s = draw()
        if self.constraints:
            s = s.filter(lambda p: all(c.test(p) for c in self.constraints))
        return s

    def boundary_points(self, default: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Each parameter at each end of its range (others at ``default``, later parameters whose
        bounds moved clamped into range), then the all-low and all-high corners; only points
        inside the domain, each once."""
        pts: list[dict[str, Any]] = []

        def clamp(p):
            out = dict(p)
            for name, spec in self.params.items():
                if isinstance(spec, (Int, Real)):
                    lo, hi = _bound(spec.low, out), _bound(spec.high, out)
                    v = out[name]
                    out[name] = type(v)(min(max(v, lo), hi)) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
            return out

        for name, spec in self.params.items():
            for v in spec.edges(dict(default)):
                pts.append(clamp({**default, name: v}))
        for end in (0, -1):
            p = dict(default)
            for name, spec in self.params.items():
                e = spec.edges(p)
                if e and not isinstance(spec, (Choice, Seq)):
                    p[name] = e[end]
            pts.append(clamp(p))
        seen, out = set(), []
        for p in pts:
            key = repr(sorted(p.items()))
            if key not in seen and self.contains(p):
                seen.add(key)
                out.append({k: p[k] for k in default})
        return out

    def describe(self) -> dict[str, str]:
        d = {name: spec.describe() for name, spec in self.params.items()}
        if self.constraints:
            d["constraints"] = "; ".join(c.text for c in self.constraints)
        return d


@dataclass(frozen=True)
class AnyOf:
    """The union of several domains (a point is valid if any branch accepts it)."""

    branches: tuple
    note: str = ""

    def __post_init__(self):
        if not self.branches:
            raise ValueError("AnyOf needs at least one branch")

    def names(self) -> list[str]:
        return list(dict.fromkeys(n for b in self.branches for n in b.names()))

    def validate(self, params):
        errors = []
        for b in self.branches:
            try:
                return b.validate(params)
            except (TypeError, ValueError) as e:
                errors.append(e)
        msgs = list(dict.fromkeys(str(e) for e in errors))
        cls = TypeError if all(isinstance(e, TypeError) for e in errors) else ValueError
        if len(msgs) == 1:
            raise cls(msgs[0])
        raise cls("not in any branch of the domain: " + "; ".join(f"({i + 1}) {m}" for i, m in enumerate(msgs)))

    def contains(self, params) -> bool:
        return any(b.contains(params) for b in self.branches)

    def strategy(self):
        return st.one_of(*[b.strategy() for b in self.branches])

    def boundary_points(self, default):
        """Each branch's boundary points, around the default where the branch contains it, else
        around the branch's first boundary point."""
        out, seen = [], set()
        for b in self.branches:
            base = dict(default)
            if not b.contains(base):
                base = _branch_base(b, default)
                if base is None:
                    continue
            for p in b.boundary_points(base):
                key = repr(sorted(p.items()))
                if key not in seen:
                    seen.add(key)
                    out.append(p)
        return out

    def describe(self):
        return {f"branch {i + 1}": b.describe() for i, b in enumerate(self.branches)}


def _branch_base(branch: Domain, default):
    """A point of ``branch`` near ``default``: parameters outside their range moved to the nearest edge."""
    p = dict(default)
    for name, spec in branch.params.items():
        try:
            p[name] = spec.validate(name, p[name], p)
        except (TypeError, ValueError, KeyError):
            e = spec.edges(p)
            if not e:
                return None
            if isinstance(spec, (Int, Real)) and isinstance(p.get(name), (int, float)):
                p[name] = min(e, key=lambda v: abs(v - p[name]))
            else:
                p[name] = e[0]
    return p if branch.contains(p) else None
