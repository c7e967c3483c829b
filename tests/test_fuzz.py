"""Fuzz test: every public function refuses every bad input clearly and survives extreme valid ones.

The table :data:`TABLE` lists every public callable (``__all__``) of ``claimcheck.theory.*``
and ``claimcheck.sims.*`` (a test fails when a new one is missing) with a valid base call and
the declared domain of each parameter. From the domain:

* **invalid inputs** (enumerated, so their number is fixed and stated in the README): NaN,
  +-inf, values just and far outside the range, an open end itself, wrong types (numeric
  strings such as ``"2.0"``, bytes, ``bool``, ``None``, complex, arbitrary objects, an
  array where a scalar belongs), for arrays also empty / ragged / wrongly shaped arrays and
  single bad entries, plus the out-of-domain combinations listed per function. Each must be
  refused with ``ValueError`` or ``TypeError`` whose message names the parameter and says
  what it ``must`` be; anything else (acceptance, a NaN, ``AttributeError``,
  ``OverflowError``, ``IndexError``, ``ZeroDivisionError``, a call running longer than
  :data:`HANG_S`) fails.
* **extreme valid inputs** (enumerated): every real parameter at its ends and at 1e300,
  1e308, the largest float, 10**400 (a Python int), the smallest subnormal, alone and all
  at once (corners). Each must return a result without NaN, or be refused with the supported
  range (a ``ValueError`` naming a parameter), never raise anything else.
* **random valid inputs** (hypothesis): the same no-NaN / no-crash property at points drawn
  over the whole declared domain (log-uniform magnitudes, edges oversampled).
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import math
import os
import pkgutil
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimcheck.errors import DataUnavailable
from claimcheck.theory.validation import MAX_REPS

HANG_S = 10.0
"""A single call running longer than this counts as a hang."""

LONG = os.environ.get("CLAIMCHECK_FUZZ_LONG", "") not in ("", "0")
"""``CLAIMCHECK_FUZZ_LONG=1 pytest tests/test_fuzz.py``: the long run. The suite's run (default)
makes every enumerated invalid call (functions and claims) but only the extreme valid calls of
:func:`quick_extremes` and :data:`QUICK_EXAMPLES` random points per function, so that it costs a
few CPU seconds beyond the imports; the long run makes every enumerated extreme call and
:data:`LONG_EXAMPLES` random points per function."""

QUICK_EXAMPLES, LONG_EXAMPLES = 2, 60

NAN, INF = math.nan, math.inf
TINY = 5e-324
BIG = (1e300, 1e308, sys.float_info.max)


# --------------------------------------------------------------------------- parameter specs
class Spec:
    none: bool = False  # None is a valid value (an optional argument)

    def invalid(self, base) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def extremes(self, base) -> list[tuple[str, Any]]:
        return []


def _common_type_errors(none: bool) -> list[tuple[str, Any]]:
    out = [("bool", True), ("numeric string", "2.0"), ("bytes", b"1"), ("complex", 1 + 1j), ("object", object())]
    return out if none else out + [("None", None)]


@dataclass(frozen=True)
class R(Spec):
    """A real number in [lo, hi] (ends excluded by lo_open/hi_open); ``arr``: arrays broadcast."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    inf: bool = False  # +inf is a valid value
    arr: bool = False
    none: bool = False

    def invalid(self, base):
        x = 0.5 if base is None or np.ndim(base) else float(base)
        out = _common_type_errors(self.none) + [("nan", NAN)]
        if self.arr:
            out += [("array with a nan entry", [x, NAN]), ("ragged nested list", [[x], [x, x]]),
                    ("array of numeric strings", ["0.5", "0.5"]), ("bool array", np.array([True, False]))]
        else:
            out += [("array for a scalar", [x, x])]
        if not self.inf:
            out.append(("+inf", INF))
        if self.lo is not None or not self.inf:
            out.append(("-inf", -INF))
        if self.lo is not None:
            out += [("below min", self.lo - max(1.0, abs(self.lo))), ("just below min", math.nextafter(self.lo, -INF)),
                    ("-1e308", -1e308)]
            if self.lo_open:
                out.append(("at open min", self.lo))
            if self.arr:
                out.append(("array with an entry below min", [x, self.lo - 1.0]))
        if self.hi is not None:
            out += [("above max", self.hi + max(1.0, abs(self.hi))), ("just above max", math.nextafter(self.hi, INF)),
                    ("10**400", 10**400)]
            if self.hi_open:
                out.append(("at open max", self.hi))
        return out

    def extremes(self, base):
        out = []
        if self.lo is not None:
            lo = math.nextafter(self.lo, INF) if self.lo_open else self.lo
            out.append(("min", lo))
            if self.lo == 0:
                out += [("subnormal", TINY), ("1e-300", 1e-300)]
        else:
            out += [("-1e308", -1e308), ("-1e300", -1e300)]
        if self.hi is not None:
            out.append(("max", math.nextafter(self.hi, -INF) if self.hi_open else self.hi))
            if self.hi == 1 and not self.hi_open:
                out.append(("1 - 1e-16", 1 - 1e-16))
        else:
            out += [(f"{b:g}", b) for b in BIG] + [("10**400", 10**400)]
            if self.inf:
                out.append(("inf", INF))
        return out

    def strategy(self):
        lo = -1e308 if self.lo is None else self.lo
        hi = sys.float_info.max if self.hi is None else self.hi
        edges = [v for _, v in self.extremes(None) if isinstance(v, float) and lo <= v <= hi]
        inner = st.floats(lo, hi, exclude_min=self.lo_open, exclude_max=self.hi_open, allow_nan=False, allow_infinity=False)
        if self.lo is not None and self.lo >= 0 and self.hi is None:  # log-uniform magnitudes
            inner = st.one_of(inner, st.floats(-320, 308).map(lambda e: 10.0**e).filter(lambda v: v > lo or (v == lo and not self.lo_open)))
        return st.one_of(st.sampled_from(edges), inner) if edges else inner


@dataclass(frozen=True)
class I(Spec):
    """An integer in [lo, hi]; ``work``: it sizes the computation (only its refusal above hi is fuzzed)."""

    lo: int | None = None
    hi: int | None = None
    work: bool = False
    none: bool = False

    def invalid(self, base):
        b = 3 if base is None else int(base)
        out = [("nan", NAN), ("inf", INF), ("-inf", -INF), ("fraction", b + 0.5), ("numeric string", str(b)),
               ("bool", True), ("object", object()), ("complex", 1j), ("array for a scalar", [b, b]),
               ("float array", np.array([float(b)]))]
        if not self.none:
            out.append(("None", None))
        if self.lo is not None:
            out += [("below min", self.lo - 1), ("far below min", self.lo - 10**6), ("-10**400", -(10**400))]
        if self.hi is not None:
            out += [("above max", self.hi + 1), ("10**400", 10**400)]
        return out

    def extremes(self, base):
        out = []
        if self.lo is not None:
            out.append(("min", self.lo))
        if not self.work:
            if self.hi is not None:
                out.append(("max", self.hi))
            else:
                out += [("2**53", 2**53), ("2**63", 2**63), ("10**400", 10**400)]
        return out

    def strategy(self):
        lo = -(10**6) if self.lo is None else self.lo
        hi = (lo + 8 if self.work else 2**63) if self.hi is None else (min(self.hi, lo + 8) if self.work else self.hi)
        return st.integers(lo, hi)


@dataclass(frozen=True)
class A(Spec):
    """A numeric array: ``ndim`` (None: any), entries in [lo, hi], integers only (``integer``)."""

    ndim: int | None = 1
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    integer: bool = False
    none: bool = False
    empty_ok: bool = False
    scalar_ok: bool = True  # a bare number counts as a length-1 vector
    inf: bool = False  # +inf entries are valid

    def invalid(self, base):
        a = np.asarray(base)
        x = a.ravel()
        out = _common_type_errors(self.none)
        out += [("scalar numeric string", "1.0"), ("array of numeric strings", x.astype(str)),
                ("bool array", np.ones(a.shape, dtype=bool)), ("ragged nested list", [[1.0], [1.0, 2.0]])]
        if not self.empty_ok:
            out.append(("empty", np.empty((0,) * (self.ndim or 1))))
        if self.ndim is not None:
            out.append(("one more dimension", a[..., None]))
            if self.ndim >= 2:
                out.append(("flattened", x))
        if not self.scalar_ok:
            out.append(("a bare number", 1.0))
        if not self.integer:
            out += [("nan entry", _with(a, NAN)), ("-inf entry", _with(a, -INF))] + ([] if self.inf else [("inf entry", _with(a, INF))])
        else:
            out += [("fractional entry", _with(a.astype(float), 0.5)), ("nan entry", _with(a.astype(float), NAN))]
        if self.lo is not None:
            out.append(("entry below min", _with(a.astype(float) if not self.integer else a, self.lo - max(1, abs(self.lo)))))
            if self.lo_open:
                out.append(("entry at open min", _with(a.astype(float), self.lo)))
        if self.hi is not None:
            out.append(("entry above max", _with(a.astype(float) if not self.integer else a, self.hi + max(1, abs(self.hi)))))
        return out

    def extremes(self, base):
        if self.integer:
            return []
        a = np.asarray(base, dtype=float)
        out = []
        if self.hi is None:
            out += [("entries x 1e300", a * 1e300), ("one entry 1e308", _with(a, 1e308))]
        if self.lo is None or self.lo >= 0:
            if self.lo is not None and self.lo == 0:
                out += [("entries x 1e-300", a * 1e-300), ("one subnormal entry", _with(a, TINY))]
        if self.lo is None:
            out += [("one entry -1e308", _with(a, -1e308))]
        return out


def _with(a: np.ndarray, value) -> np.ndarray:
    b = np.array(a, dtype=np.asarray(value).dtype if np.asarray(a).dtype.kind in "iu" and isinstance(value, int) else float, copy=True)
    if b.ndim == 0:
        return np.asarray(value, dtype=b.dtype)
    b.flat[min(1, b.size - 1)] = value
    return b


@dataclass(frozen=True)
class E(Spec):
    """One of ``choices``."""

    choices: tuple
    none: bool = False

    def invalid(self, base):
        c = self.choices[0]
        out = [("unknown choice", "bogus"), ("int", 1), ("object", object())]
        if isinstance(c, str):
            out += [("upper case", c.upper()), ("bytes", c.encode())]
        if not self.none:
            out.append(("None", None))
        return out

    def extremes(self, base):
        return [(f"choice {c!r}", c) for c in self.choices]


@dataclass(frozen=True)
class Kind(Spec):
    """A value of a given kind: rng, callable, bool, path, object."""

    kind: str
    none: bool = False

    def invalid(self, base):
        out = {
            "rng": [("int seed", 0), ("legacy RandomState", np.random.RandomState(0)), ("string", "rng")],
            "fn": [("string", "maurer"), ("int", 1)],
            "bool": [("int 1", 1), ("string", "True"), ("float", 1.0)],
            "path": [("int", 1), ("object", object())],
            "obj": [("dict", {}), ("int", 1), ("string", "x")],
        }[self.kind]
        return out if self.none else out + [("None", None)]


RNG, FN, BOOL, PATH, OBJ = (Kind(k) for k in ("rng", "fn", "bool", "path", "obj"))


@dataclass(frozen=True)
class Skip(Spec):
    """Not fuzzed, with the reason."""

    reason: str

    def invalid(self, base):
        return []


# --------------------------------------------------------------------------- the table
def _rng():
    return np.random.default_rng(0)


class Fresh:
    """A base value made fresh for every call (e.g. a generator, a data split)."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make


@dataclass
class F:
    """One public callable: a valid base call, the domain of each parameter, bad combinations."""

    base: dict
    spec: dict
    combos: list = field(default_factory=list)  # (label, overrides, names any of which the message must name)
    slow: bool = False  # extremes only at the base call's own ends (each call costs ~0.1 s)
    extremes: bool = True  # False: no extreme-value calls (symbolic functions: nothing numeric to overflow)
    nan_ok: tuple = ()  # output keys that may be NaN by documented convention
    heavy: bool = False  # each call costs ~0.05 s: the suite's run makes only the corner extremes


def _survival_g(q):
    """A probability-valued g for chi2_expectation: P(N(0, 1) > sqrt(q) - 2)."""
    return float(0.5 * math.erfc((math.sqrt(q) - 2.0) / math.sqrt(2.0)))


def _V2():
    return np.diag([1.0, 0.5])


Rp = R(0)                          # real >= 0
Rpos = R(0, lo_open=True)          # real > 0
Rprob = R(0, 1)                    # [0, 1]
Rdelta = R(0, 1, lo_open=True, hi_open=True)
Ipos = I(1)
REPS = I(1, MAX_REPS, work=True)
LINK = E(("identity", "sign"))
BOUND = E(("mcallester", "maurer", "catoni"))
COV = A(2, scalar_ok=False)
CLASSES = None  # filled below (needs a split)


def _th(mod):
    return f"claimcheck.theory.{mod}"


def _sm(mod):
    return f"claimcheck.sims.{mod}"


def _maurer():
    from claimcheck.theory.pac_bayes import maurer_bound
    return maurer_bound


def _draws():
    from claimcheck.sims.pac_bayes import threshold_gibbs_draws
    return threshold_gibbs_draws(50, 4, 0.1, 2.0, 3, np.random.default_rng(0))


def _split():
    from claimcheck.sims.distributional import load_split
    return load_split("digits", 20, 20)


_X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, -1.0]])
_Y = np.array([1.0, -0.5, 0.3, 0.2])
SIGNAL_NOISE = {"signal": Rp, "noise": Rp}
UC = {"n": Ipos, "D": Ipos, "signal": Rp, "noise": Rpos}
BOUNDS_SPEC = {"emp_risk": R(0, 1, arr=True), "kl": R(0, arr=True), "n": Ipos, "delta": R(0, 1, lo_open=True, hi_open=True, arr=True),
               "k": R(1, arr=True)}
BOUND_BASE = {"emp_risk": 0.1, "kl": 5.0, "n": 1000, "delta": 0.05, "k": 1}
ML = {"X": A(2), "y": A(1), "prior_var": Rpos, "noise_var": Rpos}
ML_BASE = {"X": _X, "y": _Y, "prior_var": 1.0, "noise_var": 0.5}
ML_COMBOS = [("X rows != len(y)", {"y": _Y[:3]}, ("X", "y"))]
P3 = np.array([0.1, 0.2, 0.3])
W3 = np.array([0.25, 0.25, 0.5])

TABLE: dict[str, F] = {
    # ---------------------------------------------------------------- theory.ridgeless
    _th("ridgeless.min_norm_risk_finite"): F(dict(n=10, p=5, signal=1.0, noise=1.0), {"n": Ipos, "p": Ipos, **SIGNAL_NOISE}),
    _th("ridgeless.min_norm_risk_asymptotic"): F(dict(gamma=0.5, signal=1.0, noise=1.0), {"gamma": R(0, lo_open=True, arr=True), **SIGNAL_NOISE}),
    _th("ridgeless.samplewise_risk"): F(dict(n_values=[10, 30], p=20, signal=1.0, noise=0.25),
                                        {"n_values": A(1, lo=1, integer=True), "p": Ipos, **SIGNAL_NOISE}),
    _th("ridgeless.samplewise_rise_start"): F(dict(p=30, signal=2.0, noise=0.5), {"p": I(2, 2**53), **SIGNAL_NOISE}),
    _th("ridgeless.mp_stieltjes"): F(dict(z=-1.0, gamma=0.5), {"z": R(hi=0, arr=True), "gamma": R(0, lo_open=True, arr=True)}),
    _th("ridgeless.mp_stieltjes_derivative"): F(dict(z=-1.0, gamma=0.5), {"z": R(hi=0, arr=True), "gamma": R(0, lo_open=True, arr=True)}),
    _th("ridgeless.ridge_risk_asymptotic"): F(dict(gamma=2.0, lam=0.5, signal=1.0, noise=1.0),
                                              {"gamma": R(0, lo_open=True, arr=True), "lam": R(0, arr=True), **SIGNAL_NOISE},
                                              [("gamma and lam of unequal lengths", {"gamma": [1.0, 2.0], "lam": [0.1, 0.2, 0.3]}, ("gamma", "lam"))]),
    _th("ridgeless.optimal_ridge_lambda"): F(dict(gamma=2.0, signal=1.0, noise=0.5), {"gamma": R(0, lo_open=True, arr=True), **SIGNAL_NOISE}),
    _th("ridgeless.optimal_ridge_risk_asymptotic"): F(dict(gamma=1.0, signal=1.0, noise=1.0), {"gamma": R(0, lo_open=True, arr=True), **SIGNAL_NOISE}),
    _th("ridgeless.effective_regularization"): F(dict(n=5, spectrum=[1.0, 0.5, 0.25], lam=0.1),
                                                 {"n": I(1), "spectrum": A(1, lo=0, lo_open=True), "lam": Rp}),
    _th("ridgeless.ridge_risk_anisotropic"): F(dict(n=5, spectrum=[1.0, 0.5, 0.25], lam=0.1, signal=1.0, noise=1.0, beta_sq=None),
                                               {"n": I(1), "spectrum": A(1, lo=0, lo_open=True), "lam": Rp, **SIGNAL_NOISE,
                                                "beta_sq": A(1, lo=0, none=True)},
                                               [("beta_sq of another length", {"beta_sq": [1.0, 1.0]}, ("beta_sq", "spectrum"))]),
    _th("ridgeless.powerlaw_spectrum"): F(dict(p=3, alpha=1.0), {"p": I(1, 10**8, work=True), "alpha": Rp}),
    # ---------------------------------------------------------------- theory.uniform_convergence
    **{_th(f"uniform_convergence.{f}"): F(dict(n=8, D=64, signal=1 / 32, noise=1.0), UC)
       for f in ("linear_test_error", "linear_train_error", "linear_sprime_error", "uniform_convergence_lower_bound",
                 "generalization_gap", "margin_moments", "cantelli_test_error_bound", "cantelli_sprime_error_bound")},
    **{_th(f"uniform_convergence.{f}"): F(dict(n=8, signal=1 / 32, noise=1.0), {"n": Ipos, "signal": Rp, "noise": Rpos})
       for f in ("signal_to_noise_ratio", "sprime_error_limit", "rademacher_margin_bound")},
    _th("uniform_convergence.chi2_expectation"): F(dict(g=_survival_g, D=3, centre=None),
                                                   {"g": FN, "D": I(1, 2**53), "centre": R(none=True)},
                                                   [("g returning NaN", {"g": lambda q: math.nan}, ("g",)),
                                                    ("g returning inf", {"g": lambda q: math.inf}, ("g",))]),
    _th("uniform_convergence.expected_weight_norm_sq"): F(dict(n=8, signal=1 / 32, noise=1.0, eta=1.0),
                                                          {"n": Ipos, "signal": Rp, "noise": Rpos, "eta": Rpos}),
    # ---------------------------------------------------------------- theory.pac_bayes
    _th("pac_bayes.kl_bernoulli"): F(dict(q=0.1, p=0.5), {"q": R(0, 1, arr=True), "p": R(0, 1, arr=True)},
                                     [("q and p of unequal lengths", {"q": [0.1, 0.2], "p": [0.1, 0.2, 0.3]}, ("q", "p"))]),
    _th("pac_bayes.kl_inverse_upper"): F(dict(q=0.1, c=0.05), {"q": R(0, 1, arr=True), "c": R(0, inf=True, arr=True)},
                                         [("q and c of unequal lengths", {"q": [0.1, 0.2], "c": [0.1, 0.2, 0.3]}, ("q", "c"))]),
    _th("pac_bayes.mcallester_bound"): F(dict(BOUND_BASE), BOUNDS_SPEC),
    _th("pac_bayes.maurer_bound"): F(dict(BOUND_BASE), BOUNDS_SPEC),
    _th("pac_bayes.catoni_bound"): F(dict(BOUND_BASE, C=1.0), {**BOUNDS_SPEC, "C": Rpos}),
    _th("pac_bayes.maurer_xi"): F(dict(n=10), {"n": I(1, 10**7, work=True)}),
    _th("pac_bayes.occam_bound"): F(dict(emp_risk=0.0, code_length_bits=100.0, n=1000, delta=0.05, k=1, bound="maurer"),
                                    {**{k: v for k, v in BOUNDS_SPEC.items() if k != "kl"}, "code_length_bits": R(0, arr=True), "bound": BOUND}),
    _th("pac_bayes.tuning_cost"): F(dict(kl=5.0, n=1000, delta=0.05, k=20, bound="maurer", emp_risk=0.1),
                                    {"kl": R(0, arr=True), "n": Ipos, "delta": R(0, 1, lo_open=True, hi_open=True, arr=True), "k": R(1, arr=True),
                                     "bound": BOUND, "emp_risk": R(0, 1, arr=True, none=True)},
                                    [("maurer without emp_risk", {"emp_risk": None}, ("emp_risk",))], heavy=True),
    _th("pac_bayes.tuning_cost_upper"): F(dict(n=1000, k=20), {"n": Ipos, "k": R(1, arr=True)}),
    _th("pac_bayes.break_even_k"): F(dict(risk_gain=0.01, kl=5.0, n=1000, delta=0.05, bound="mcallester", emp_risk=None, log=False),
                                     {"risk_gain": Rp, "kl": Rp, "n": Ipos, "delta": Rdelta, "bound": BOUND, "emp_risk": R(0, 1, none=True),
                                      "log": BOOL},
                                     [("maurer without emp_risk", {"bound": "maurer"}, ("emp_risk",)),
                                      ("emp_risk + risk_gain > 1", {"bound": "maurer", "emp_risk": 0.9, "risk_gain": 0.2}, ("risk_gain", "emp_risk"))]),
    _th("pac_bayes.tuned_bound"): F(dict(emp_risk=0.1, kl=5.0, n=1000, delta=0.05, k=20, bound="maurer"),
                                    {"emp_risk": Rprob, "kl": Rp, "n": Ipos, "delta": Rdelta, "k": R(1), "bound": BOUND},
                                    [("an option the bound does not take", {"C": 1.0}, ("C",))], heavy=True),
    _th("pac_bayes.quantize_uniform"): F(dict(weights=[0.0, 0.4, 1.0], num_levels=3),
                                         {"weights": A(None), "num_levels": I(1, 2**24, work=True)}),
    _th("pac_bayes.code_length_bits"): F(dict(symbols=[0, 0, 0, 1], num_levels=2, codebook_bits_per_level=32),
                                         {"symbols": A(None, lo=0, integer=True), "num_levels": I(1, 2**24, work=True),
                                          "codebook_bits_per_level": I(0, 2**53)},
                                         [("a symbol >= num_levels", {"symbols": [0, 2]}, ("symbols",))]),
    _th("pac_bayes.elias_gamma_bits"): F(dict(x=5), {"x": I(1)}),
    _th("pac_bayes.gaussian_kl"): F(dict(w_norm_sq=2.0, d=3, sigma=1.0, sigma0=1.0),
                                    {"w_norm_sq": R(0, arr=True), "d": I(1, 2**53), "sigma": Rpos, "sigma0": Rpos}),
    _th("pac_bayes.gibbs_risk_linear"): F(dict(w=[1.0, 0.0], mu=[2.0, 0.0], sigma=0.5),
                                          {"w": A(None, scalar_ok=False), "mu": A(1, scalar_ok=False), "sigma": Rpos},
                                          [("w and mu of different dimension", {"w": [1.0, 0.0, 0.0]}, ("w", "mu")),
                                           ("mu nonzero in d = 3", {"w": [1.0, 0.0, 0.0], "mu": [1.0, 0.0, 0.0]}, ("mu",))]),
    # ---------------------------------------------------------------- theory.distributional
    _th("distributional.linear_rates"): F(dict(p_max=0.09, num_classes=10), {"p_max": Rprob, "num_classes": I(2, 10**7, work=True)}),
    _th("distributional.nn_feature_calibration"): F(dict(p=[0.0, 0.1], nn_class_probs=[[0.5, 0.5], [0.25, 0.75]]),
                                                    {"p": A(1, lo=0, hi=1), "nn_class_probs": A(2, lo=0, hi=1, scalar_ok=False)},
                                                    [("rows not summing to 1", {"nn_class_probs": [[0.5, 0.4], [0.25, 0.75]]}, ("nn_class_probs",)),
                                                     ("non-square", {"nn_class_probs": [[0.5, 0.5]]}, ("nn_class_probs",)),
                                                     ("size mismatch", {"p": [0.1, 0.2, 0.3]}, ("nn_class_probs", "p"))]),
    _th("distributional.separated_nn_class_probs"): F(dict(n=5, weights=[0.5, 0.5]), {"n": Ipos, "weights": A(1, lo=0, lo_open=True)},
                                                      [("weights not summing to 1", {"weights": [0.5, 0.6]}, ("weights",))]),
    _th("distributional.interval_mixture_nn_class_probs"): F(dict(n=5, lefts=[0.0, 2.0], widths=[1.0, 1.0], weights=[0.5, 0.5]),
                                                             {"n": I(1, 10**4, work=True), "lefts": A(1), "widths": A(1, lo=0, lo_open=True),
                                                              "weights": A(1, lo=0, lo_open=True)},
                                                             [("widths of another length", {"widths": [1.0]}, ("widths", "lefts")),
                                                              ("weights of another length", {"weights": [1.0]}, ("weights",))]),
    _th("distributional.line_clusters"): F(dict(num_classes=3, spacing=0.5, width=1.0),
                                           {"num_classes": I(1, 10**7, work=True), "spacing": Rpos, "width": Rpos}),
    **{_th(f"distributional.{f}"): F(dict(p=P3, q=P3), {"p": A(1, lo=0, hi=1), "q": A(1, lo=0, hi=1)},
                                     [("p and q of unequal lengths", {"q": [0.1, 0.2]}, ("p", "q"))])
       for f in ("nn_test_error", "dg_gap_class", "calibration_slope")},
    _th("distributional.dg_gap_group"): F(dict(p=P3, q=P3, weights=W3, group=(0, 1)),
                                          {"p": A(1, lo=0, hi=1), "q": A(1, lo=0, hi=1), "weights": A(1, lo=0, lo_open=True),
                                           "group": A(1, lo=0, integer=True)},
                                          [("group with a class out of range", {"group": (0, 3)}, ("group",)),
                                           ("q of another length", {"q": [0.1, 0.2]}, ("p", "q"))]),
    _th("distributional.dg_gap_loss"): F(dict(p=P3, q=P3, weights=W3),
                                         {"p": A(1, lo=0, hi=1), "q": A(1, lo=0, hi=1), "weights": A(1, lo=0, lo_open=True)},
                                         [("q of another length", {"q": [0.1, 0.2]}, ("p", "q"))]),
    _th("distributional.dp_dg_bound"): F(dict(epsilon=0.5, delta=0.01, test_stat=0.3), {"epsilon": Rp, "delta": Rprob, "test_stat": Rprob}),
    _th("distributional.dp_majority_agreement"): F(dict(n=5, cells=2, p=0.3, epsilon=1.0),
                                                   {"n": I(1, 10**7, work=True), "cells": Ipos, "p": Rprob, "epsilon": Rp}),
    # ---------------------------------------------------------------- theory.deep_bootstrap
    _th("deep_bootstrap.check_covariance"): F(dict(V=_V2(), name="V"), {"V": COV, "name": Skip("the label used in messages")},
                                              [("not symmetric", {"V": [[1.0, 0.5], [0.0, 1.0]]}, ("V",)),
                                               ("not PSD", {"V": [[1.0, 0.0], [0.0, -0.5]]}, ("V",)),
                                               ("not square", {"V": [[1.0, 0.0]]}, ("V",))]),
    _th("deep_bootstrap.check_beta_star"): F(dict(beta_star=[1.0, 0.5], V=_V2()), {"beta_star": A(1), "V": COV},
                                             [("beta_star of another length", {"beta_star": [1.0, 0.0, 0.0]}, ("beta_star",)),
                                              ("zero beta_star", {"beta_star": [0.0, 0.0]}, ("beta_star",)),
                                              ("non-square V", {"V": np.ones((2, 3))}, ("V",))]),
    _th("deep_bootstrap.check_link"): F(dict(link="sign"), {"link": LINK}),
    _th("deep_bootstrap.powerlaw_covariance"): F(dict(d=3, exponent=1.0, trace=3.0),
                                                 {"d": I(1, 10**4, work=True), "exponent": Rp, "trace": Rpos}),
    _th("deep_bootstrap.default_beta_star"): F(dict(V=_V2()), {"V": COV}, [("zero V", {"V": np.zeros((2, 2))}, ("V",))]),
    _th("deep_bootstrap.link_coefficient"): F(dict(link="sign", s=1.0), {"link": LINK, "s": Rpos}),
    _th("deep_bootstrap.best_linear_predictor"): F(dict(beta_star=[2.0, 0.0], V=np.eye(2), link="sign"),
                                                   {"beta_star": A(1), "V": COV, "link": LINK},
                                                   [("beta_star of another length", {"beta_star": [1.0]}, ("beta_star",)),
                                                    ("beta_star in V's null space", {"V": np.diag([0.0, 1.0]), "beta_star": [1.0, 0.0]}, ("beta_star",))]),
    _th("deep_bootstrap.best_linear_risk"): F(dict(link="sign", s=1.0), {"link": LINK, "s": Rpos}),
    _th("deep_bootstrap.residual_moments"): F(dict(link="sign"), {"link": LINK}),
    _th("deep_bootstrap.population_loss"): F(dict(beta=[0.0, 0.0], beta_star=[1.0, 0.0], V=np.eye(2), link="sign"),
                                             {"beta": A(None), "beta_star": A(1), "V": COV, "link": LINK},
                                             [("beta of another dimension", {"beta": [0.0, 0.0, 0.0]}, ("beta",))]),
    _th("deep_bootstrap.sgd_stability_threshold"): F(dict(V=_V2(), batch=2), {"V": COV, "batch": I(1, 2**53)},
                                                     [("zero V", {"V": np.zeros((2, 2))}, ("V",))]),
    _th("deep_bootstrap.second_moment_spectral_radius"): F(dict(V=_V2(), batch=2, eta=0.5), {"V": COV, "batch": I(1, 2**53), "eta": Rpos}),
    _th("deep_bootstrap.stable_second_moment"): F(dict(V=_V2(), batch=2, eta=0.5), {"V": COV, "batch": I(1, 2**53), "eta": Rpos},
                                                  [("eta beyond the Perron range", {"eta": 10.0}, ("eta",))]),
    _th("deep_bootstrap.ideal_world_loss"): F(dict(V=_V2(), beta_star=[1.0, 0.5], link="sign", batch=2, eta=0.5, steps=3, allow_unstable=False),
                                              {"V": COV, "beta_star": A(1), "link": LINK, "batch": I(1, 2**53), "eta": Rpos,
                                               "steps": I(0, 10**7, work=True), "allow_unstable": BOOL},
                                              [("eta above the stability threshold", {"eta": 10.0}, ("eta",))]),
    _th("deep_bootstrap.gd_loss_given_spectrum"): F(dict(mu=[[1.0, 0.5]], d=3, eta=0.5, steps=[0, 1, INF], s2=1.0),
                                                    {"mu": A(None, lo=0, scalar_ok=False), "d": I(1), "eta": Rpos,
                                                     "steps": A(1, lo=0, inf=True), "s2": Rp},
                                                    [("d below the number of eigenvalues", {"d": 1}, ("d",)),
                                                     ("mu with 3 dimensions", {"mu": np.ones((1, 1, 2))}, ("mu",))]),
    _th("deep_bootstrap.real_world_gd_limit"): F(dict(n=20, d=50, s2=1.0), {"n": Ipos, "d": Ipos, "s2": Rp}),
    _th("deep_bootstrap.sign_ols_excess_risk"): F(dict(n=100, d=50), {"n": Ipos, "d": Ipos},
                                                  [("n <= d", {"n": 50}, ("n",))]),
    # ---------------------------------------------------------------- theory.marginal_likelihood
    _th("marginal_likelihood.make_regression_data"): F(dict(n=5, d=2, w_scale=1.0, noise_var=1.0, seed=0, n_test=0, sparse=False),
                                                       {"n": I(1, 10**7, work=True), "d": I(1, 10**5, work=True), "w_scale": R(0, 1e40),
                                                        "noise_var": R(0, 1e80), "seed": I(0), "n_test": I(0, 10**7, work=True), "sparse": BOOL}),
    _th("marginal_likelihood.posterior"): F(dict(ML_BASE), ML, ML_COMBOS),
    _th("marginal_likelihood.log_marginal_likelihood"): F(dict(ML_BASE), ML, ML_COMBOS),
    _th("marginal_likelihood.sequential_log_predictive"): F(dict(ML_BASE), ML, ML_COMBOS),
    _th("marginal_likelihood.conditional_log_marginal_likelihood"): F(dict(ML_BASE, m=2), {**ML, "m": I(1, 4)}, ML_COMBOS),
    _th("marginal_likelihood.log_likelihood"): F(dict(X=_X, y=_Y, W=[[0.1, 0.2]], noise_var=0.5),
                                                 {"X": A(2), "y": A(1), "W": A(None), "noise_var": Rpos},
                                                 ML_COMBOS + [("W of another dimension", {"W": [[0.1, 0.2, 0.3]]}, ("W",))]),
    _th("marginal_likelihood.log_marginal_likelihood_mc"): F(
        dict(ML_BASE, num_samples=10, rng=Fresh(_rng), proposal="posterior", widen=2.0, return_weights=False),
        {**ML, "num_samples": I(2, 10**8, work=True), "rng": RNG, "proposal": E(("prior", "posterior")), "widen": R(0.5, lo_open=True),
         "return_weights": BOOL}, ML_COMBOS),
    _th("marginal_likelihood.predictive_log_density"): F(dict(ML_BASE, X_test=_X[:2], y_test=_Y[:2]),
                                                         {**ML, "X_test": A(2), "y_test": A(1)},
                                                         ML_COMBOS + [("X_test of another width", {"X_test": [[1.0, 2.0, 3.0]], "y_test": [1.0]}, ("X_test",))]),
    _th("marginal_likelihood.prior_scale_sweep"): F(dict(X=_X, y=_Y, prior_vars=[0.1, 1.0], noise_var=0.5, m=2, X_test=None, y_test=None),
                                                    {"X": A(2), "y": A(1), "prior_vars": A(1, lo=0, lo_open=True), "noise_var": Rpos, "m": I(1, 4),
                                                     "X_test": A(2, none=True), "y_test": A(1, none=True)},
                                                    ML_COMBOS + [("X_test without y_test", {"X_test": _X[:2]}, ("X_test", "y_test"))]),
    # ---------------------------------------------------------------- theory sympy derivations
    _th("ridgeless_sympy.min_norm_risk_finite_expr"): F(dict(regime="under"), {"regime": E(("under", "over"))}),
    _th("ridgeless_sympy.min_norm_risk_asymptotic_expr"): F(dict(regime="under"), {"regime": E(("under", "over"))}),
    _th("ridgeless_sympy.finite_to_asymptotic_limit"): F(dict(regime="under"), {"regime": E(("under", "over"))}, slow=True, extremes=False),
    _th("ridgeless_sympy.finite_correction_term"): F(dict(regime="under"), {"regime": E(("under", "over"))}, slow=True, extremes=False),
    _th("ridgeless_sympy.ridge_to_min_norm_limit"): F(dict(regime="under"), {"regime": E(("under", "over"))}, slow=True, extremes=False),
    _th("deep_bootstrap_sympy.check_fourth_moment_identity"): F(dict(trace_coefficient=1, vmv_coefficient=2, d=2),
                                                                {"trace_coefficient": Skip("a sympy candidate"), "vmv_coefficient": Skip("a sympy candidate"),
                                                                 "d": I(1, 6, work=True)}, slow=True),
    # ---------------------------------------------------------------- sims.ridgeless
    _sm("ridgeless.laguerre_bidiagonal"): F(dict(dof=5, m=3, reps=4, rng=Fresh(_rng)),
                                            {"dof": I(1, 2**53), "m": I(1, 10**8, work=True), "reps": REPS, "rng": RNG},
                                            [("m > dof", {"m": 6}, ("m",))]),
    _sm("ridgeless.wishart_traces"): F(dict(a=np.ones((2, 3)), b=np.ones((2, 2)), shift=0.0),
                                       {"a": A(2, lo=1e-100, hi=1e100, scalar_ok=False), "b": A(2, lo=0, hi=1e100, scalar_ok=False, empty_ok=True),
                                        "shift": R(0, 1e150)},
                                       [("b of the wrong shape", {"b": np.ones((2, 3))}, ("b",))]),
    **{_sm(f"ridgeless.{f}"): F(dict(n=6, p=3, signal=1.0, noise=1.0, lam=0.1, reps=3, rng=Fresh(_rng)),
                                {"n": I(1, 10**8, work=True), "p": I(1, 10**8, work=True), **SIGNAL_NOISE, "lam": R(0, 1e140), "reps": REPS,
                                 "rng": RNG})
       for f in ("fast_risk_samples", "direct_risk_samples", "bartlett_risk_samples")},
    **{_sm(f"ridgeless.{f}"): F(dict(n=6, p=3, signal=1.0, noise=1.0, reps=3, rng=Fresh(_rng)),
                                {"n": I(1, 10**8, work=True), "p": I(1, 10**8, work=True), **SIGNAL_NOISE, "reps": REPS, "rng": RNG})
       for f in ("direct_ridge_curves", "spectral_ridge_curves")},
    # ---------------------------------------------------------------- sims.uniform_convergence
    _sm("uniform_convergence.direct_error_samples"): F(dict(n=4, D=8, signal=1 / 32, noise=1.0, reps=3, rng=Fresh(_rng), K=2, test_points=None),
                                                       {"n": I(1, 10**7, work=True), "D": I(1, 2**53, work=True), "signal": R(0, 1e100), "noise": R(1e-100, 1e100),
                                                        "reps": REPS, "rng": RNG, "K": I(1, 10**7, work=True),
                                                        "test_points": I(1, 10**7, work=True, none=True)}),
    _sm("uniform_convergence.fast_error_samples"): F(dict(n=4, D=8, signal=1 / 32, noise=1.0, reps=3, rng=Fresh(_rng)),
                                                     {"n": I(1, 10**4, work=True), "D": I(1, 2**53), "signal": R(0, 1e100), "noise": R(1e-100, 1e100),
                                                      "reps": REPS, "rng": RNG}, [("D < n", {"D": 2}, ("D",))]),
    # ---------------------------------------------------------------- sims.anisotropic
    _sm("anisotropic.anisotropic_risk_samples"): F(dict(n=4, spectrum=[1.0, 0.5, 0.25], lam=0.1, signal=1.0, noise=1.0, reps=3, rng=Fresh(_rng)),
                                                   {"n": I(1, 10**5, work=True), "spectrum": A(1, lo=0, lo_open=True, hi=1e100), "lam": R(1e-100, 1e100), **SIGNAL_NOISE,
                                                    "reps": REPS, "rng": RNG}),
    # ---------------------------------------------------------------- sims.deep_bootstrap
    _sm("deep_bootstrap.link_function"): F(dict(link="sign"), {"link": LINK}),
    _sm("deep_bootstrap.ideal_world_sgd_losses"): F(
        dict(V=_V2(), beta_star=[1.0, 0.5], link="sign", batch=2, eta=0.5, steps=3, log_steps=[0, 3], reps=3, rng=Fresh(_rng)),
        {"V": COV, "beta_star": A(1), "link": LINK, "batch": I(1, 10**7, work=True), "eta": Rpos, "steps": I(0, 10**7, work=True),
         "log_steps": A(1, lo=0, integer=True), "reps": REPS, "rng": RNG},
        [("log_steps beyond steps", {"log_steps": [0, 4]}, ("log_steps",)), ("log_steps not increasing", {"log_steps": [2, 1]}, ("log_steps",))]),
    _sm("deep_bootstrap.real_world_sgd_losses"): F(
        dict(V=_V2(), beta_star=[1.0, 0.5], link="sign", n=4, batch=2, eta=0.5, steps=3, log_steps=[0, 3], reps=3, rng=Fresh(_rng),
             return_train=False),
        {"V": COV, "beta_star": A(1), "link": LINK, "n": I(1, 10**7, work=True), "batch": I(1, 10**7, work=True), "eta": Rpos,
         "steps": I(0, 10**7, work=True), "log_steps": A(1, lo=0, integer=True), "reps": REPS, "rng": RNG, "return_train": BOOL},
        [("batch > n", {"batch": 5}, ("batch",))]),
    _sm("deep_bootstrap.one_step_quadratic"): F(dict(V=_V2(), batch=2, eta=0.5, C=np.eye(2), reps=3, rng=Fresh(_rng)),
                                                {"V": COV, "batch": I(1, 10**7, work=True), "eta": Rpos, "C": COV, "reps": REPS, "rng": RNG},
                                                [("C of another size", {"C": np.eye(3)}, ("C",)), ("zero C", {"C": np.zeros((2, 2))}, ("C",))]),
    **{_sm(f"deep_bootstrap.{f}"): F(dict(n=4, d=3, v=1.0, eta=0.5, log_steps=[0, 1, INF], reps=3, rng=Fresh(_rng)),
                                     {"n": I(1, 10**5, work=True), "d": I(1, 10**4, work=True), "v": R(1e-100, 1e100), "eta": Rpos,
                                      "log_steps": A(1, lo=0, inf=True), "reps": REPS, "rng": RNG},
                                     [("log_steps not increasing", {"log_steps": [2, 1]}, ("log_steps",))])
       for f in ("gd_direct_losses", "gd_spectral_losses")},
    _sm("deep_bootstrap.ols_excess_risks"): F(dict(V=_V2(), beta_star=[1.0, 0.5], link="sign", n=6, reps=3, rng=Fresh(_rng), chunk=256),
                                              {"V": COV, "beta_star": A(1), "link": LINK, "n": I(1, 10**7, work=True), "reps": REPS, "rng": RNG,
                                               "chunk": I(1, 10**7, work=True)},
                                              [("n <= d", {"n": 2}, ("n",)), ("singular V", {"V": np.diag([1.0, 0.0])}, ("V",))]),
    # ---------------------------------------------------------------- sims.pac_bayes
    _sm("pac_bayes.min_binomial"): F(dict(n=10, p=0.5, k=3, reps=4, rng=Fresh(_rng), method="inverse"),
                                     {"n": I(1, 10**7, work=True), "p": Rprob, "k": I(1, 2**53), "reps": REPS, "rng": RNG,
                                      "method": E(("inverse", "brute"))},
                                     [("brute force over too many classifiers", {"method": "brute", "k": 2**40}, ("k",))]),
    _sm("pac_bayes.best_of_k_noise_errors"): F(dict(n=10, k=3, reps=4, rng=Fresh(_rng), method="inverse"),
                                               {"n": I(1, 10**7, work=True), "k": I(1, 2**53), "reps": REPS, "rng": RNG,
                                                "method": E(("inverse", "brute"))}),
    _sm("pac_bayes.tuning_coverage_draws"): F(dict(n=10, k=3, delta=0.05, bound_fn=Fresh(_maurer), reps=4, rng=Fresh(_rng), charge_k=None,
                                                   method="inverse"),
                                              {"n": I(1, 10**7, work=True), "k": I(1, 2**53), "delta": Rdelta, "bound_fn": FN, "reps": REPS,
                                               "rng": RNG, "charge_k": R(1, none=True), "method": E(("inverse", "brute"))}, heavy=True),
    _sm("pac_bayes.tuning_coverage_exact"): F(dict(n=10, k=3, delta=0.05, bound_fn=Fresh(_maurer), charge_k=None),
                                              {"n": I(1, 10**7, work=True), "k": I(1, 2**53), "delta": Rdelta, "bound_fn": FN,
                                               "charge_k": R(1, none=True)}, heavy=True),
    _sm("pac_bayes.threshold_true_risks"): F(dict(grid=4, noise=0.1, target=2),
                                             {"grid": I(1, 10**7, work=True), "noise": R(0, 0.5), "target": I(0, 4)}),
    _sm("pac_bayes.threshold_gibbs_draws"): F(dict(n=50, grid=4, noise=0.1, beta=2.0, reps=3, rng=Fresh(_rng), target=None),
                                              {"n": I(1, 2**53), "grid": I(1, 10**6, work=True), "noise": R(0, 0.5), "beta": R(0, inf=True),
                                               "reps": REPS, "rng": RNG, "target": I(0, 4, none=True)}),
    _sm("pac_bayes.bound_coverage_draws"): F(dict(draws=Fresh(_draws), n=50, delta=0.05, bound_fn=Fresh(_maurer)),
                                             {"draws": OBJ, "n": Ipos, "delta": Rdelta, "bound_fn": FN}),
    _sm("pac_bayes.occam_index_draws"): F(dict(n=20, groups=3, delta=0.05, bound_fn=Fresh(_maurer), reps=4, rng=Fresh(_rng), charge=1.0),
                                          {"n": I(1, 10**6, work=True), "groups": I(1, 40, work=True), "delta": Rdelta, "bound_fn": FN,
                                           "reps": REPS, "rng": RNG, "charge": R(0, 1e300)}, heavy=True),
    _sm("pac_bayes.occam_index_exact"): F(dict(n=20, groups=3, delta=0.05, bound_fn=Fresh(_maurer), charge=1.0),
                                          {"n": I(1, 10**6, work=True), "groups": I(1, 40, work=True), "delta": Rdelta, "bound_fn": FN,
                                           "charge": R(0, 1e300)}, heavy=True),
    _sm("pac_bayes.quantized_code_lengths"): F(dict(symbols=np.array([[0, 1, 1], [0, 0, 0]]), num_levels=2, codebook_bits_per_level=32),
                                               {"symbols": A(2, lo=0, integer=True, scalar_ok=False), "num_levels": I(1, 2**16, work=True),
                                                "codebook_bits_per_level": I(0, 2**53)},
                                               [("a symbol >= num_levels", {"symbols": np.array([[0, 2]])}, ("symbols",))]),
    _sm("pac_bayes.occam_quantized_draws"): F(dict(n=10, d=3, snr=1.0, max_levels=3, delta=0.05, bound_fn=Fresh(_maurer), reps=3,
                                                   rng=Fresh(_rng), charge=1.0),
                                              {"n": I(1, 10**6, work=True), "d": I(1, 10**4, work=True), "snr": R(0, 1e100), "max_levels": I(1, 256, work=True),
                                               "delta": Rdelta, "bound_fn": FN, "reps": REPS, "rng": RNG, "charge": R(0, 1e300)}, heavy=True),
    _sm("pac_bayes.gaussian_posterior_draws"): F(dict(n=10, d=2, snr=1.0, scale=1.0, sigma=0.5, sigma0=1.0, reps=3, rng=Fresh(_rng), chunk=500),
                                                 {"n": I(1, 10**6, work=True), "d": I(1, 10**4, work=True), "snr": R(0, 1e100), "scale": R(1e-100, 1e100),
                                                  "sigma": R(1e-100, 1e100), "sigma0": R(1e-100, 1e100), "reps": REPS, "rng": RNG, "chunk": I(1, 10**7, work=True)},
                                                 [("snr > 0 in d = 3", {"d": 3}, ("d",))]),
    # ---------------------------------------------------------------- sims.distributional
    _sm("distributional.noisy_binary_labels"): F(dict(y=[0, 1, 1], p_c=[0.0, 1.0], rng=Fresh(_rng)),
                                                 {"y": A(None, lo=0, integer=True, empty_ok=True), "p_c": A(1, lo=0, hi=1), "rng": RNG},
                                                 [("a class without a rate", {"y": [0, 2]}, ("y",))]),
    _sm("distributional.calibration_table"): F(dict(pred=[0, 1, 0, 1], y_class=[0, 0, 1, 1], p_c=[0.25, 0.75], confidence=0.95),
                                               {"pred": A(1, lo=0, hi=1, integer=True), "y_class": A(1, lo=0, integer=True), "p_c": A(1, lo=0, hi=1),
                                                "confidence": R(0, 1, lo_open=True, hi_open=True)},
                                               [("pred and y_class of unequal lengths", {"pred": [0, 1]}, ("pred", "y_class")),
                                                ("a class without a rate", {"y_class": [0, 0, 1, 2]}, ("y_class",))],
                                               nan_ok=("rate", "ci_low", "ci_high", "slope", "intercept")),
    _sm("distributional.line_nn_classes"): F(dict(n=5, lefts=[0.0, 2.0], widths=[1.0, 1.0], weights=[0.5, 0.5],
                                                  test_classes=np.zeros((2, 3), dtype=int), rng=Fresh(_rng)),
                                             {"n": I(1, 10**7, work=True), "lefts": A(1), "widths": A(1, lo=0, lo_open=True),
                                              "weights": A(1, lo=0, lo_open=True), "test_classes": A(2, lo=0, integer=True, scalar_ok=False),
                                              "rng": RNG},
                                             [("a test class out of range", {"test_classes": np.full((2, 3), 2)}, ("test_classes",)),
                                              ("weights not summing to 1", {"weights": [0.5, 0.6]}, ("weights",))]),
    _sm("distributional.line_calibration_samples"): F(dict(n=5, spacing=2.0, p=[0.1, 0.2], c=0, reps=3, rng=Fresh(_rng), m_test=4, width=1.0),
                                                      {"n": I(1, 10**7, work=True), "spacing": Rpos, "p": A(1, lo=0, hi=1), "c": I(0, 1),
                                                       "reps": REPS, "rng": RNG, "m_test": I(1, 10**7, work=True), "width": Rpos}),
    _sm("distributional.line_dg_gap_samples"): F(dict(n=5, spacing=2.0, p=[0.1, 0.2, 0.3], test="group", reps=3, rng=Fresh(_rng), c=0,
                                                      group=(0, 1), m_test=4, width=1.0),
                                                 {"n": I(1, 10**7, work=True), "spacing": Rpos, "p": A(1, lo=0, hi=1),
                                                  "test": E(("class", "group", "loss")), "reps": REPS, "rng": RNG, "c": I(0, 2),
                                                  "group": A(1, lo=0, integer=True), "m_test": I(1, 10**7, work=True), "width": Rpos},
                                                 [("a group class out of range", {"group": (0, 3)}, ("group",))]),
    _sm("distributional.nn_label_predictions"): F(dict(y_train=[0, 1, 1], nn_idx=[2, 0], p_c=[0.1, 0.9], reps=3, rng=Fresh(_rng)),
                                                  {"y_train": A(1, lo=0, integer=True), "nn_idx": A(1, lo=0, integer=True),
                                                   "p_c": A(1, lo=0, hi=1), "reps": REPS, "rng": RNG},
                                                  [("a class without a rate", {"y_train": [0, 2, 1]}, ("y_train",)),
                                                   ("an index beyond the training set", {"nn_idx": [3]}, ("nn_idx",))]),
    _sm("distributional.class_rates"): F(dict(pred=np.array([[1, 0], [0, 1], [1, 1]]), y_class=[0, 1, 1], k=2),
                                         {"pred": A(2, lo=0, hi=1, integer=True, scalar_ok=False), "y_class": A(1, lo=0, integer=True),
                                          "k": I(1, 10**7)},
                                         [("a class without points", {"k": 3}, ("y_class",)),
                                          ("pred of another length", {"pred": np.ones((2, 2), dtype=int)}, ("pred",))]),
    _sm("distributional.dp_majority_train_agreement"): F(dict(n=5, cells=2, p=0.3, epsilon=1.0, reps=3, rng=Fresh(_rng)),
                                                         {"n": I(1, 10**7, work=True), "cells": I(1, 10**7, work=True), "p": Rprob, "epsilon": Rp,
                                                          "reps": REPS, "rng": RNG}),
    _sm("distributional.load_split"): F(dict(dataset="digits", n_train=20, n_test=20, split_seed=0),
                                        {"dataset": E(("digits", "mnist")), "n_train": I(10, 1787), "n_test": I(10, 1777), "split_seed": I(0)},
                                        [("n_train + n_test beyond the data set", {"n_train": 1000, "n_test": 1000}, ("n_test",))], slow=True),
    _sm("distributional.squared_distances"): F(dict(a=_X, b=_X[:2]), {"a": A(2, lo=-1e100, hi=1e100, scalar_ok=False),
                                                                       "b": A(2, lo=-1e100, hi=1e100, scalar_ok=False)},
                                               [("b of another dimension", {"b": np.ones((2, 3))}, ("b", "a"))]),
    _sm("distributional.KernelInterpolator"): F(dict(x_train=_X, ridge=1e-8, bandwidth_factor=0.1, sq_dists=None),
                                                {"x_train": A(2, lo=-1e100, hi=1e100, scalar_ok=False), "ridge": Rpos, "bandwidth_factor": R(1e-100, 1e100),
                                                 "sq_dists": A(2, lo=0, none=True, scalar_ok=False)},
                                                [("sq_dists of the wrong shape", {"sq_dists": np.ones((2, 2))}, ("sq_dists",)),
                                                 ("one training point", {"x_train": _X[:1]}, ("x_train",))]),
    _sm("distributional.predict_binary"): F(dict(model="knn1", split=Fresh(_split), labels=np.zeros((20, 2), dtype=int), rng=Fresh(_rng),
                                                 split_key=None),
                                            {"model": E(("kernel", "kernel_wide", "tree", "knn1", "mlp", "kernel_ridge", "logistic")),
                                             "split": OBJ, "labels": A(2, lo=0, hi=1, integer=True, scalar_ok=False), "rng": RNG,
                                             "split_key": Skip("a cache key (any hashable)")},
                                            [("labels of the wrong length", {"labels": np.zeros((19, 2), dtype=int)}, ("labels",))], slow=True),
    _sm("distributional.ensemble_slope"): F(dict(test_pred=np.array([0.0, 1.0, 0.0, 1.0, 1.0, 1.0]), y_class=np.array([0, 0, 0, 1, 1, 1]),
                                                 p=[0.2, 0.8]),
                                            {"test_pred": A(None, lo=0, hi=1), "y_class": A(1, lo=0, integer=True), "p": A(1, lo=0, hi=1)},
                                            [("constant p", {"p": [0.5, 0.5]}, ("p",)),
                                             ("y_class of another length", {"y_class": np.array([0, 1])}, ("y_class", "test_pred"))]),
    _sm("distributional.feature_calibration_run"): F(dict(dataset="digits", model="knn1", p=np.linspace(0, 0.09, 10), n_train=30, n_test=30,
                                                          reps=2, rng=Fresh(_rng), split_seed=0),
                                                     {"dataset": E(("digits", "mnist")), "model": E(("kernel", "kernel_wide", "tree", "knn1", "mlp",
                                                                                                     "kernel_ridge", "logistic")),
                                                      "p": A(1, lo=0, hi=1), "n_train": I(10, 1787, work=True), "n_test": I(10, 1777, work=True),
                                                      "reps": I(1, 10**4, work=True), "rng": RNG, "split_seed": I(0)},
                                                     [("p with fewer rates than classes", {"p": [0.1, 0.2]}, ("p",))], slow=True),
    # ---------------------------------------------------------------- sims.datasets
    _sm("datasets.read_idx"): F(dict(path=Fresh(lambda: _mnist_file())), {"path": PATH}),
    _sm("datasets.load_idx_dataset"): F(dict(directory=Fresh(lambda: _mnist_dir()), split="test"), {"directory": PATH, "split": E(("train", "test"))},
                                        slow=True),
    _sm("datasets.load_cifar10"): F(dict(directory=Fresh(lambda: _cifar_dir()), split="test"), {"directory": PATH, "split": E(("train", "test"))}),
    _sm("datasets.make_mnist1d"): F(dict(seed=0, num_samples=20), {"seed": I(0, 2**32 - 1), "num_samples": I(20, 10**7, work=True)}, slow=True),
}

EXEMPT: dict[str, str] = {
    _sm("datasets.mnist_dir"): "no parameters",
    _sm("datasets.load_digits"): "no parameters",
    _th("pac_bayes.TunedBound"): "a frozen result record built by tuned_bound",
    _sm("pac_bayes.ThresholdDraws"): "a frozen result record built by the simulators",
    _th("ridgeless_sympy.MonotonicityResult"): "a frozen result record",
    _sm("datasets.CifarUnpickler"): "a pickle.Unpickler subclass; crafted batches are fuzzed in tests/test_safe_loading.py",
}
"""Public callables that take no fuzzable input (with the reason)."""


def _module_exempt(qualname: str) -> str | None:
    """The argument validators themselves (``claimcheck.theory.validation``): every row of
    :data:`TABLE` goes through them, and their own doctests and tests pin their messages."""
    return "an argument validator (exercised by every row of TABLE)" if qualname.startswith("claimcheck.theory.validation.") else None


def _sympy_exempt(qualname: str, obj) -> str | None:
    """The sympy derivation modules: functions without parameters, and the ``check_*`` functions
    whose parameters are candidate expressions (anything ``sympify`` accepts; a wrong one makes
    the check return False, which their own tests assert)."""
    if not qualname.split(".")[2].endswith("_sympy"):
        return None
    params = [p for p in inspect.signature(obj).parameters.values() if p.kind is not p.VAR_KEYWORD]
    if not params:
        return "no parameters"
    if all(p.default is not inspect.Parameter.empty or p.name in ("expr", "var", "variances", "m_value", "z_value", "w2", "d", "s", "s0")
           for p in params):
        return "symbolic arguments (sympy expressions or candidates)"
    return None


# --------------------------------------------------------------------------- data fixtures
_TMP: dict[str, Path] = {}


def _tmpdir() -> Path:
    if "dir" not in _TMP:
        import tempfile
        _TMP["dir"] = Path(tempfile.mkdtemp(prefix="claimcheck-fuzz-"))
    return _TMP["dir"]


def _mnist_dir() -> Path:
    from claimcheck.sims.datasets import mnist_dir
    return mnist_dir()


def _mnist_file() -> Path:
    return _mnist_dir() / "t10k-labels-idx1-ubyte.gz"


def _cifar_dir() -> Path:
    d = _tmpdir() / "cifar"
    if not d.exists():
        import pickle
        d.mkdir()
        batch = {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 1]}
        (d / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    return d


# --------------------------------------------------------------------------- running a call
class Hang(Exception):
    pass


@contextlib.contextmanager
def watchdog(seconds: float):
    """Raise :class:`Hang` in the calling (main) thread after ``seconds``."""
    def on_alarm(signum, frame):
        raise Hang(f"call still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def resolve(qualname: str):
    mod, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(mod), name)


def _materialise(kwargs: dict) -> dict:
    return {k: (v.make() if isinstance(v, Fresh) else v) for k, v in kwargs.items()}


def _has_nan(x, skip=()) -> bool:
    if x is None or isinstance(x, (str, bytes, bool, Path)) or callable(x) and not hasattr(x, "__dataclass_fields__"):
        return False
    if isinstance(x, dict):
        return any(_has_nan(v) for k, v in x.items() if k not in skip)
    if isinstance(x, (list, tuple)):
        return any(_has_nan(v) for v in x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_has_nan(getattr(x, f.name)) for f in dataclasses.fields(x))
    try:
        a = np.asarray(x)
    except Exception:
        return False
    if a.dtype.kind in "fc":
        return bool(np.isnan(a).any())
    return False


def _names_one(msg: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg) for n in names)


def call(fn, kwargs):
    """(outcome, detail): 'ok' with the result, 'refused' with the exception, or 'crash'/'hang'."""
    kw = _materialise(kwargs)
    try:
        with watchdog(HANG_S), np.errstate(all="ignore"):
            out = fn(**kw)
    except Hang as exc:
        return "hang", exc
    except (ValueError, TypeError) as exc:
        return "refused", exc
    except DataUnavailable as exc:  # a valid call whose optional data set is not installed: says where to put it
        return "unavailable", exc
    except Exception as exc:  # noqa: BLE001 - the point: any other exception is a finding
        return "crash", exc
    return "ok", out


def invalid_cases(qualname: str, f: F) -> list[tuple[str, dict, tuple]]:
    """Every enumerated invalid call of ``f``: (label, kwargs, names the message may name)."""
    cases = []
    for name, spec in f.spec.items():
        base = f.base.get(name)
        for label, value in spec.invalid(base):
            cases.append((f"{name}: {label}", {**f.base, name: value}, (name,)))
    for label, over, names in f.combos:
        cases.append((f"combination: {label}", {**f.base, **over}, names))
    return cases


def extreme_cases(qualname: str, f: F) -> list[tuple[str, dict]]:
    if not f.extremes:
        return []
    cases = []
    lows, highs = {}, {}
    for name, spec in f.spec.items():
        base = f.base.get(name)
        ex = spec.extremes(base)
        for label, value in ex:
            cases.append((f"{name}={label}", {**f.base, name: value}))
        if isinstance(spec, R) and ex:
            lows[name], highs[name] = ex[0][1], ex[-1][1] if not isinstance(ex[-1][1], int) else ex[-2][1]
    if f.slow:
        cases = cases[:4]
    if len(lows) > 1:
        cases += [("all reals at their low ends", {**f.base, **lows}), ("all reals at their high ends", {**f.base, **highs})]
    return cases


_QUICK_LABELS = {"min", "max", "subnormal", f"{sys.float_info.max:g}", "inf", "entries x 1e300", "entries x 1e-300"}


def quick_extremes(qualname: str, f: F) -> list[tuple[str, dict]]:
    """The extreme calls of the suite's run: each parameter at its low end, at the smallest
    subnormal and at the largest float (or +inf where valid), and the two corners; for a
    ``heavy`` function the corners only, for a ``slow`` one none (both: the long run)."""
    if f.slow:
        return []
    cases = extreme_cases(qualname, f)
    corners = [c for c in cases if c[0].startswith("all reals")]
    if f.heavy:
        return corners
    return [c for c in cases if c[0].split("=", 1)[-1] in _QUICK_LABELS] + corners


def check_refused(qualname, label, kwargs, names, f: F) -> str | None:
    """None if the call was refused properly, else a one-line finding."""
    outcome, detail = call(resolve(qualname), kwargs)
    if outcome == "refused":
        msg = str(detail)
        if not _names_one(msg, names):
            return f"{qualname} [{label}]: {type(detail).__name__} does not name {'/'.join(names)}: {msg[:160]!r}"
        if "must" not in msg:
            return f"{qualname} [{label}]: message does not say what {'/'.join(names)} must be: {msg[:160]!r}"
        return None
    if outcome == "ok":
        nan = " (with NaN)" if _has_nan(detail) else ""
        return f"{qualname} [{label}]: accepted{nan}"
    return f"{qualname} [{label}]: {outcome}: {type(detail).__name__}: {str(detail)[:160]}"


def check_survived(qualname, label, kwargs, f: F) -> str | None:
    outcome, detail = call(resolve(qualname), kwargs)
    if outcome == "unavailable":
        return None
    if outcome == "ok":
        return f"{qualname} [{label}]: NaN in the result" if _has_nan(detail, f.nan_ok) else None
    if outcome == "refused":
        msg = str(detail)
        if _names_one(msg, list(f.spec)) and "must" in msg:
            return None
        return f"{qualname} [{label}]: valid input refused without naming a parameter's supported range: {msg[:160]!r}"
    return f"{qualname} [{label}]: {outcome}: {type(detail).__name__}: {str(detail)[:160]}"


# --------------------------------------------------------------------------- enumeration
def public_callables() -> dict[str, Any]:
    import claimcheck.sims as sims
    import claimcheck.theory as theory

    out = {}
    for pkg in (theory, sims):
        for m in pkgutil.iter_modules(pkg.__path__):
            if m.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{pkg.__name__}.{m.name}")
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if callable(obj) and getattr(obj, "__module__", "") == mod.__name__:
                    out[f"{mod.__name__}.{name}"] = obj
    return out


def _available(qualname: str) -> bool:
    if qualname.endswith("make_mnist1d"):
        try:
            import mnist1d  # noqa: F401
        except ImportError:
            return False
    return True


FUZZED = sorted(TABLE)


def count_inputs() -> tuple[int, int]:
    """(number of enumerated invalid calls, number of enumerated extreme valid calls)."""
    return (sum(len(invalid_cases(q, TABLE[q])) for q in FUZZED), sum(len(extreme_cases(q, TABLE[q])) for q in FUZZED))


# --------------------------------------------------------------------------- the tests
def test_every_public_callable_is_fuzzed_or_exempt():
    missing = []
    for q, obj in public_callables().items():
        if q in TABLE or q in EXEMPT or _module_exempt(q) or _sympy_exempt(q, obj):
            continue
        missing.append(q)
    assert not missing, f"public callables without a fuzz spec (add them to TABLE): {missing}"


def test_specs_match_the_signatures():
    bad = []
    for q in FUZZED:
        sig = inspect.signature(resolve(q))
        params = [p.name for p in sig.parameters.values() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and not p.name.startswith("_")]
        if sorted(params) != sorted(TABLE[q].spec) or sorted(params) != sorted(TABLE[q].base):
            bad.append(f"{q}: signature {params}, spec {sorted(TABLE[q].spec)}, base {sorted(TABLE[q].base)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("qualname", FUZZED)
def test_base_call_is_valid(qualname):
    if not _available(qualname):
        pytest.skip("optional dependency missing")
    if TABLE[qualname].slow and not LONG:
        pytest.skip("a slow base call (a data set, a trained model): checked by the long run (CLAIMCHECK_FUZZ_LONG=1)")
    outcome, detail = call(resolve(qualname), TABLE[qualname].base)
    assert outcome == "ok", f"{qualname}: the valid base call gave {outcome}: {detail!r}"
    assert not _has_nan(detail, TABLE[qualname].nan_ok)


@pytest.mark.parametrize("qualname", FUZZED)
def test_every_invalid_input_is_refused_naming_the_parameter(qualname):
    if not _available(qualname):
        pytest.skip("optional dependency missing")
    f = TABLE[qualname]
    findings = [r for label, kw, names in invalid_cases(qualname, f) if (r := check_refused(qualname, label, kw, names, f))]
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings)


@pytest.mark.parametrize("qualname", FUZZED)
def test_extreme_valid_inputs_give_no_nan_and_no_crash(qualname):
    if not _available(qualname):
        pytest.skip("optional dependency missing")
    f = TABLE[qualname]
    cases = extreme_cases(qualname, f) if LONG else quick_extremes(qualname, f)
    findings = [r for label, kw in cases if (r := check_survived(qualname, label, kw, f))]
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings)


_RANDOM = [q for q in FUZZED if not TABLE[q].slow and (LONG or (not TABLE[q].heavy and ".theory." in q))
           and any(isinstance(s, (R, I)) for s in TABLE[q].spec.values())]
"""Random valid points: the closed forms (``theory``) in the suite's run, every function in the long run."""


@pytest.mark.parametrize("qualname", _RANDOM)
@settings(max_examples=LONG_EXAMPLES if LONG else QUICK_EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_random_valid_inputs_give_no_nan_and_no_crash(qualname, data):
    f = TABLE[qualname]
    kw = dict(f.base)
    for name, spec in f.spec.items():
        if isinstance(spec, (R, I)) and data.draw(st.booleans(), label=f"vary {name}"):
            kw[name] = data.draw(spec.strategy(), label=name)
    finding = check_survived(qualname, "random", kw, f)
    assert finding is None, finding


# --------------------------------------------------------------------------- registered claims
def _claim_specs(claim) -> dict[str, list]:
    """Each parameter's specs over the claim's declared domain (one per branch of an AnyOf)."""
    from claimcheck.domain import AnyOf

    spec = claim.param_spec
    branches = spec.branches if isinstance(spec, AnyOf) else (spec,)
    out: dict[str, list] = {}
    for b in branches:
        for name, s in b.params.items():
            out.setdefault(name, []).append(s)
    return out


def _ends(specs, params) -> tuple[float | None, float | None]:
    """The lowest low end and highest high end over the branches (None: unbounded or not numeric)."""
    from claimcheck.domain import Int, Real, _bound

    lows, highs = [], []
    for s in specs:
        if isinstance(s, (Int, Real)):
            try:
                lows.append(float(_bound(s.low, params)))
                highs.append(float(_bound(s.high, params)))
            except (KeyError, TypeError, ValueError):
                return None, None
    return (min(lows) if lows else None), (max(highs) if highs else None)


def claim_invalid_values(claim, name: str) -> list[tuple[str, Any]]:
    """Values of parameter ``name`` that no branch of ``claim``'s declared domain accepts."""
    from claimcheck.domain import Choice, Int, Real, Seq

    specs = _claim_specs(claim)[name]
    default = claim.default[name]
    out: list[tuple[str, Any]] = [("None", None), ("object", object()), ("complex", 1 + 1j), ("bytes", b"1")]
    kinds = {type(s) for s in specs}
    if kinds <= {Int, Real}:
        lo, hi = _ends(specs, claim.default)
        out += [("numeric string", str(default)), ("bool", True), ("nan", NAN), ("-inf", -INF),
                ("array for a scalar", np.array([default, default]))]
        if not any(isinstance(s, Real) and s.allow_inf for s in specs):
            out.append(("+inf", INF))
        if lo is not None and math.isfinite(lo):
            out += [("below min", lo - max(1.0, abs(lo))), ("far below min", lo - 1e6 - abs(lo) * 1e3)]
            if all(isinstance(s, Int) for s in specs):
                out.append(("min - 1", int(lo) - 1))
            elif all(isinstance(s, Real) and s.low_open for s in specs):
                out.append(("at open min", lo))
        if hi is not None and math.isfinite(hi):
            out += [("above max", hi + max(1.0, abs(hi))), ("10**400", 10**400)]
            if all(isinstance(s, Int) for s in specs):
                out.append(("max + 1", int(hi) + 1))
        if all(isinstance(s, Int) for s in specs):
            out.append(("fraction", float(default) + 0.5))
    elif kinds == {Choice}:
        if not any(s.callable_ok for s in specs):
            out += [("unknown choice", "bogus-choice")]
        if all(isinstance(v, str) for s in specs for v in s.values):
            out += [("int", 1), ("upper case", str(default).upper() if str(default).upper() != str(default) else "BOGUS")]
    elif kinds == {Seq}:
        s0 = specs[0]
        out += [("a bare number", 1.0), ("string", "1,2"), ("sequence with a nan", tuple(default)[:1] + (NAN,) + tuple(default)[2:])]
        if all(s.min_len >= 1 for s in specs):
            out.append(("empty", ()))
        out.append(("too long", tuple(default) * (max(s.max_len for s in specs) // max(1, len(default)) + 2)))
        if all(s.increasing for s in specs) and len(default) >= 2:
            out.append(("not increasing", tuple(reversed(tuple(default)))))
        if isinstance(s0.element, (Int, Real)):
            out.append(("sequence of numeric strings", tuple(str(v) for v in default)))
    return out


def _claims():
    from claimcheck.registry import all_claims

    return list(all_claims())


CLAIM_IDS = [c.id for c in _claims()]


def _no_simulation(params, *args, **kwargs):
    raise AssertionError("simulated: the parameters were not validated first")


def _measured_claim_cases(tmp: Path) -> list[tuple[str, Any, tuple]]:
    """Invalid ``result`` values of a claim on measured results (no declared domain: its one
    parameter is a result file): (label, value, exception types allowed)."""
    tmp.mkdir(parents=True, exist_ok=True)
    corrupt, truncated, listed = tmp / "corrupt.json", tmp / "truncated.json", tmp / "list.json"
    corrupt.write_bytes(b"\x80\x81 not json")
    truncated.write_text('{"job": "x", "measurements": {"a": ')
    listed.write_text("[1, 2]")
    return [("None", None, (TypeError,)), ("int", 1, (TypeError,)), ("nan", NAN, (TypeError,)), ("bool", True, (TypeError,)),
            ("bytes", b"x", (TypeError,)), ("empty string", "", (TypeError,)), ("object", object(), (TypeError,)),
            ("a folder", str(tmp), (DataUnavailable,)), ("a missing file", str(tmp / "absent.json"), (DataUnavailable,)),
            ("a corrupt file", str(corrupt), (ValueError,)), ("a truncated file", str(truncated), (ValueError,)),
            ("a JSON list", str(listed), (ValueError,))]


def claim_findings(claim) -> tuple[int, list[str]]:
    """(number of invalid calls made, findings) for every invalid value of every parameter."""
    guarded = dataclasses.replace(claim, simulate=_no_simulation)
    n, findings = 0, []
    if claim.param_spec is None:  # a claim on measured results: its parameter is a result file, read by its simulate
        for label, value, allowed in _measured_claim_cases(_tmpdir() / "measured"):
            n += 1
            try:
                v = claim.check({"result": value}, budget="quick", seed=0)
            except allowed as exc:
                msg = str(exc)
                if not (_names_one(msg, ["result"]) or (isinstance(value, str) and value and value in msg)):
                    findings.append(f"{claim.id} [result: {label}]: {type(exc).__name__} names neither result nor the file: {msg[:160]!r}")
            except Exception as exc:  # noqa: BLE001
                findings.append(f"{claim.id} [result: {label}]: {type(exc).__name__}: {str(exc)[:160]}")
            else:
                findings.append(f"{claim.id} [result: {label}]: accepted with status {v.status}")
        return n, findings
    for name in claim.default:
        for label, value in claim_invalid_values(claim, name):
            n += 1
            try:
                with watchdog(HANG_S), np.errstate(all="ignore"):
                    v = guarded.check({name: value}, budget="quick", seed=0)
            except (ValueError, TypeError) as exc:
                msg = str(exc)
                if not (_names_one(msg, [name]) or re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}\[", msg)):
                    findings.append(f"{claim.id} [{name}: {label}]: {type(exc).__name__} does not name {name}: {msg[:160]!r}")
                elif "must" not in msg and "violate" not in msg:
                    findings.append(f"{claim.id} [{name}: {label}]: message does not say what {name} must be: {msg[:160]!r}")
            except AssertionError as exc:
                findings.append(f"{claim.id} [{name}: {label}]: accepted ({exc})")
            except Exception as exc:  # noqa: BLE001 - any other exception is a finding
                findings.append(f"{claim.id} [{name}: {label}]: {type(exc).__name__}: {str(exc)[:160]}")
            else:
                findings.append(f"{claim.id} [{name}: {label}]: accepted with status {v.status}")
    return n, findings


def count_claim_inputs() -> int:
    claims = _claims()
    n_measured = len(_measured_claim_cases(_tmpdir() / "measured"))
    return sum(n_measured if c.param_spec is None else sum(len(claim_invalid_values(c, name)) for name in c.default)
               for c in claims)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_every_claim_refuses_nonsense_parameters_before_simulating(claim_id):
    """``Claim.check`` validates against the declared domain first: an invalid value of any
    parameter is a ValueError/TypeError naming it and its range; the simulator is never called,
    so nonsense never produces PASSED or FAILED."""
    from claimcheck.registry import get_claim

    n, findings = claim_findings(get_claim(claim_id))
    assert n > 0
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings)


def test_the_readme_states_the_fuzz_figures():
    """The README's fuzz figures are this file's enumeration (kept in step when specs change)."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    n_invalid, n_extreme = count_inputs()
    n_claims = count_claim_inputs()
    n_quick = sum(len(quick_extremes(q, TABLE[q])) for q in FUZZED)
    figures = {
        "functions": f"{len(FUZZED)} `__all__` entries with {sum(len(TABLE[q].spec) for q in FUZZED)} parameters",
        "claims": f"registered claim ({len(CLAIM_IDS)},",
        "invalid calls": f"**{n_invalid + n_claims:,} invalid calls** ({n_invalid:,} to the functions, {n_claims:,} claim parameters)",
        "extreme calls": f"{n_extreme:,} extreme valid calls",
        "quick extremes": f"{n_quick:,} of the extreme ones",
    }
    flat = " ".join(text.split())
    missing = {k: v for k, v in figures.items() if " ".join(v.split()) not in flat}
    assert not missing, f"README fuzz figures out of date: {missing}"


# --------------------------------------------------------------------------- check objects
_CHECK_BAD = [("nan", NAN), ("+inf", INF), ("-inf", -INF), ("bool", True), ("None", None), ("object", object()),
              ("complex", 1j), ("zero", 0), ("negative", -1.0), ("empty tuple", ())]


def _check_classes():
    import claimcheck.checks as C

    return [getattr(C, n) for n in C.__all__ if isinstance(getattr(C, n), type) and issubclass(getattr(C, n), C.Check)
            and getattr(C, n) is not C.Check]


def _check_base(cls) -> dict:
    """The fields a check needs to be constructible at all (Asymptotic: sizes; Band: an end)."""
    import claimcheck.checks as C

    return {C.Asymptotic: {"sizes": lambda p: []}, C.Band: {"low": 0.0}, C.AllOf: {"parts": (("a", C.Exact()),)}}.get(cls, {})


@pytest.mark.parametrize("cls", _check_classes(), ids=lambda c: c.__name__)
def test_every_check_field_refuses_values_it_cannot_hold(cls):
    """A check built with rel_tol=nan, alpha=True, direction=0, ... is refused at construction,
    naming the field: such a rule could otherwise pass or fail every claim."""
    from claimcheck.checks import _FIELD_RULES

    cls(**_check_base(cls))  # the base is valid
    findings, n = [], 0
    for f in dataclasses.fields(cls):
        rule = _FIELD_RULES.get(f.name)
        if rule is None:
            continue
        for label, value in _CHECK_BAD:
            if rule[0](value):  # a valid value of this field (e.g. None for an optional end)
                continue
            n += 1
            kw = {**_check_base(cls), f.name: value}
            if cls.__name__ == "Band" and f.name in ("high", "half_width"):
                kw.pop("low")
            try:
                cls(**kw)
            except (ValueError, TypeError) as exc:
                if not _names_one(str(exc), [f.name]) or "must" not in str(exc):
                    findings.append(f"{cls.__name__}({f.name}={label}): message {str(exc)[:120]!r}")
            except Exception as exc:  # noqa: BLE001
                findings.append(f"{cls.__name__}({f.name}={label}): {type(exc).__name__}: {exc}")
            else:
                findings.append(f"{cls.__name__}({f.name}={label}): accepted")
    assert not findings, "\n".join(findings)
