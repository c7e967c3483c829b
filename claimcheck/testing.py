"""Assertions for property-based tests of claims, for this project and its users.

Example::

    from hypothesis import given
    from claimcheck import get_claim
    from claimcheck.testing import assert_claim

    claim = get_claim("ridgeless.minnorm_finite")

    @given(claim.domain)
    def test_min_norm_risk(params):
        assert_claim(claim, params)
"""
from __future__ import annotations

import dataclasses
import zlib
from collections import OrderedDict
from typing import Any, Callable, Mapping

from claimcheck.budget import Budget, get_budget
from claimcheck.claim import Claim
from claimcheck.registry import get_claim
from claimcheck.verdict import Status, Verdict

__all__ = ["ClaimAssertionError", "assert_claim", "assert_rejects", "params_seed", "add_observer", "remove_observer",
           "default_budget", "set_defaults"]

from claimcheck._session import DEFAULTS as _DEFAULTS, OBSERVERS as _OBSERVERS  # noqa: E402

_MEMO: "OrderedDict[tuple, tuple[Claim, Verdict]]" = OrderedDict()
_MEMO_SIZE = 256


def add_observer(fn: Callable[[Verdict, str], None]) -> None:
    """Call ``fn(verdict, role)`` after every :func:`assert_claim` (role ``"claim"``) and
    :func:`assert_rejects` (role ``"mutant"``); the pytest plugin uses it for its summary table."""
    _OBSERVERS.append(fn)


def remove_observer(fn: Callable[[Verdict, str], None]) -> None:
    if fn in _OBSERVERS:
        _OBSERVERS.remove(fn)


def set_defaults(*, budget: "str | Budget | None" = None, seed: "int | None | type(...)" = ...) -> None:
    """Session defaults of :func:`assert_claim` / :func:`assert_rejects` when a call names no budget or
    seed (the pytest plugin's ``--claimcheck-budget`` / ``--claimcheck-seed`` set them)."""
    if budget is not None:
        _DEFAULTS["budget"] = get_budget(budget)
    if seed is not ...:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed={seed!r}, must be an integer >= 0 or None (a hash of the parameters)")
        _DEFAULTS["seed"] = seed


def default_budget() -> "str | Budget":
    """The budget :func:`assert_claim` uses when the call names none (``"quick"`` unless changed)."""
    return _DEFAULTS["budget"]


def _budget(budget, reps) -> "str | Budget":
    """The budget a call asked for; ``reps`` (explicit replicates) overrides its starting count."""
    b = get_budget(default_budget() if budget is None else budget)
    if reps is None:
        return b
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 2:
        raise ValueError(f"reps={reps!r}, must be an integer >= 2")
    return get_budget(f"{b.name.split(':')[0]}:reps={reps}")


def _claim_with(claim: Claim, rel_tol, alpha) -> Claim:
    """The claim with its check's ``rel_tol`` (where it has one) and ``alpha`` replaced."""
    if rel_tol is None and alpha is None:
        return claim
    return dataclasses.replace(claim, check=claim.rule.with_options(rel_tol=rel_tol, alpha=alpha))


def _memo_key(claim: Claim, params: Mapping[str, Any], budget, seed: int):
    from claimcheck.io import jsonable

    try:  # the claim object itself is kept alive beside its verdict, so its id is never reused
        return (id(claim), repr(jsonable(dict(params))), repr(budget), seed)
    except Exception:  # pragma: no cover - unrepresentable params: no memo
        return None


def _check(claim: Claim, params, budget, seed) -> Verdict:
    """``claim.check`` memoised on (claim object, params, budget, seed): hypothesis replays a
    failing example (and shrinking revisits examples); the same check is never simulated twice."""
    key = _memo_key(claim, params, budget, seed)
    if key is not None and key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key][1]
    verdict = claim.check(params, budget=budget, seed=seed)
    if key is not None:
        _MEMO[key] = (claim, verdict)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return verdict


def _notify(verdict: Verdict, role: str) -> None:
    for fn in list(_OBSERVERS):
        fn(verdict, role)


class ClaimAssertionError(AssertionError):
    """A claim check that did not pass; the message holds everything needed to reproduce it."""

    def __init__(self, message: str, verdict: Verdict):
        super().__init__(message)
        self.verdict = verdict


def params_seed(params: Mapping[str, Any]) -> int:
    """A deterministic seed from a parameter dict (same params -> same seed, any process;
    a function-valued parameter counts by its qualified name, not its memory address)."""
    from claimcheck.io import jsonable

    return zlib.crc32(repr(sorted((k, jsonable(v) if callable(v) else v) for k, v in params.items())).encode())


def assert_claim(
    claim: "Claim | str",
    params: Mapping[str, Any] | None = None,
    *,
    budget: "str | Budget | None" = None,
    seed: int | None = None,
    reps: int | None = None,
    rel_tol: float | None = None,
    alpha: float | None = None,
    allow_underpowered: bool = False,
) -> Verdict:
    """Check ``claim`` at ``params``; raise :class:`ClaimAssertionError` unless it passes.

    The error message shows the prediction, the estimate with its SE, z, alpha and a line
    of code that reproduces the check (same seed, same bits). ``seed`` defaults to a hash
    of the parameters, so a hypothesis example is reproducible on its own.

    ``budget`` is a name from :data:`claimcheck.BUDGETS` (default ``"quick"``, or the pytest
    plugin's ``--claimcheck-budget``); ``reps`` instead fixes the starting replicate count
    (still doubled while underpowered, as the budget allows). ``rel_tol`` (the deviation the
    check must be powered to detect) and ``alpha`` (its false-failure rate) override the claim's.
    Verdicts are memoised, so hypothesis replaying a failing example does not re-simulate it.
    """
    __tracebackhide__ = True
    claim = _claim_with(get_claim(claim), rel_tol, alpha)
    resolved = claim.resolve(params)
    seed = _DEFAULTS["seed"] if seed is None else seed
    verdict = _check(claim, resolved, _budget(budget, reps), params_seed(resolved) if seed is None else seed)
    _notify(verdict, "claim")
    if verdict.status is Status.FAILED:
        raise ClaimAssertionError(f"claim does not hold\n{verdict}", verdict)
    if verdict.status is Status.UNDERPOWERED and not allow_underpowered:
        raise ClaimAssertionError(f"simulation too imprecise to confirm the claim (raise the budget)\n{verdict}", verdict)
    return verdict


def assert_rejects(
    claim: "Claim | str",
    predict: Callable[..., float] | None,
    params: Mapping[str, Any] | None = None,
    *,
    budget: "str | Budget | None" = None,
    seed: int = 0,
    reps: int | None = None,
    rel_tol: float | None = None,
    alpha: float | None = None,
) -> Verdict:
    """Mutation test: the claim's own check must *fail* when ``predict`` replaces the formula.

    ``predict=None`` keeps the claim's formula and checks it at ``params``: for coverage claims,
    whose formula is the nominal level 1 - delta while the bound under test is a parameter
    (e.g. ``assert_rejects("pac_bayes.tuning_coverage", None, {"bound": my_wrong_bound})``).
    """
    __tracebackhide__ = True
    claim = _claim_with(get_claim(claim), rel_tol, alpha)
    mutated = claim if predict is None else claim.mutate(predict)
    verdict = _check(mutated, mutated.resolve(params), _budget(budget, reps), seed)
    _notify(verdict, "mutant")
    if verdict.status is not Status.FAILED:
        raise ClaimAssertionError(f"the check did not reject the mutant predictor\n{verdict}", verdict)
    return verdict
