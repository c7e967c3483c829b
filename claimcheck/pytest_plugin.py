"""pytest plugin for claim tests (installed with claimcheck as the ``pytest11`` entry point ``claimcheck``).

Options::

    pytest --claimcheck-budget standard      # budget of assert_claim / assert_rejects calls that name none
    pytest --claimcheck-seed 7               # a fixed seed instead of the hash of each call's parameters
    pytest --claimcheck-no-summary           # no verdict table at the end

The fixture ``claimcheck`` hands a test the session's settings and the two assertions::

    def test_my_theorem(claimcheck):
        claimcheck.assert_claim("ridgeless.minnorm_finite", {"n": 80, "p": 20})

and the marker ``@pytest.mark.claim("ridgeless.minnorm_finite", ...)`` tags a test with the claims it
checks (``pytest -m claim`` selects claim tests; an unknown id is a collection error, not a silent
pass). Every verdict that ``assert_claim`` / ``assert_rejects`` produced during the session is listed
in a table in the terminal summary, and a failed assertion shows the verdict, not the library's
frames (``__tracebackhide__``).

A hypothesis settings profile for claim tests is registered as ``"claimcheck"`` (no deadline: one
example is a whole simulation; the health checks that flag slow or filtered data suppressed;
derandomised, so the same code gives the same examples and the same verdicts)::

    from hypothesis import settings
    settings.load_profile("claimcheck")

Verdicts are memoised on (claim, parameters, budget, seed), so hypothesis replaying or shrinking
towards a failing example does not re-simulate the examples it has already checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from claimcheck import _session
from claimcheck.budget import BUDGETS

__all__ = ["HYPOTHESIS_PROFILE", "ClaimcheckSession", "register_hypothesis_profile"]

HYPOTHESIS_PROFILE = "claimcheck"


def register_hypothesis_profile(max_examples: int = 25) -> None:
    """Register the ``"claimcheck"`` hypothesis profile (idempotent)."""
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        HYPOTHESIS_PROFILE,
        deadline=None,
        max_examples=max_examples,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@dataclass
class ClaimcheckSession:
    """What the ``claimcheck`` fixture gives a test: the session budget and seed, the assertions
    (with those defaults) and the verdicts recorded so far."""

    budget: str
    seed: int | None
    verdicts: list

    def assert_claim(self, claim, params=None, **kw):
        __tracebackhide__ = True
        from claimcheck import testing

        return testing.assert_claim(claim, params, **kw)

    def assert_rejects(self, claim, predict, params=None, **kw):
        __tracebackhide__ = True
        from claimcheck import testing

        return testing.assert_rejects(claim, predict, params, **kw)


_STATE: dict[str, Any] = {"verdicts": [], "observer": None}


def pytest_addoption(parser):
    group = parser.getgroup("claimcheck", "claimcheck: claim checks in tests")
    group.addoption("--claimcheck-budget", choices=list(BUDGETS), default=None,
                    help="budget of assert_claim/assert_rejects calls that name none (default: quick)")
    group.addoption("--claimcheck-seed", type=int, default=None,
                    help="seed of assert_claim calls that name none (default: a hash of each call's parameters)")
    group.addoption("--claimcheck-no-summary", action="store_true", default=False,
                    help="do not print the table of claim verdicts at the end of the session")


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): the test checks these registered claims (pytest -m claim selects them)")
    register_hypothesis_profile()
    budget = config.getoption("--claimcheck-budget", None)
    seed = config.getoption("--claimcheck-seed", None)
    if seed is not None and seed < 0:
        raise pytest.UsageError(f"--claimcheck-seed={seed}, must be >= 0")
    _STATE["saved"] = dict(_session.DEFAULTS)
    if budget is not None:
        _session.DEFAULTS["budget"] = budget
    _session.DEFAULTS["seed"] = seed
    _STATE["verdicts"] = []

    def observe(verdict, role):
        _STATE["verdicts"].append((role, verdict))

    if _STATE["observer"] in _session.OBSERVERS:
        _session.OBSERVERS.remove(_STATE["observer"])
    _STATE["observer"] = observe
    _session.OBSERVERS.append(observe)


def pytest_unconfigure(config):
    if _STATE["observer"] in _session.OBSERVERS:
        _session.OBSERVERS.remove(_STATE["observer"])
    _STATE["observer"] = None
    _session.DEFAULTS.update(_STATE.pop("saved", {"budget": "quick", "seed": None}))


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.claim(ids)`` must name registered claims (a typo would otherwise select nothing)."""
    marked = [(item, m) for item in items for m in item.iter_markers("claim")]
    if not marked:
        return
    from claimcheck.registry import get_claim

    for item, mark in marked:
        for cid in mark.args:
            try:
                get_claim(cid)
            except ValueError as exc:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim({cid!r}): {exc}") from None


@pytest.fixture
def claimcheck(request) -> ClaimcheckSession:
    """The session's claimcheck settings and assertions (see the module docstring)."""
    b = _session.DEFAULTS["budget"]
    return ClaimcheckSession(budget=b if isinstance(b, str) else b.name, seed=_session.DEFAULTS["seed"],
                             verdicts=_STATE["verdicts"])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = _STATE["verdicts"]
    if not rows or config.getoption("--claimcheck-no-summary", False):
        return
    tr = terminalreporter
    tr.section("claimcheck verdicts")
    seen: set = set()
    lines = []
    for role, v in rows:
        key = (role, v.claim_id, repr(v.params), v.budget, v.seed)
        if key in seen:
            continue
        seen.add(key)
        expect = "rejected" if role == "mutant" else "passed"
        ok = (v.status.value == "failed") if role == "mutant" else (v.status.value == "passed")
        params = " ".join(f"{k}={_short(val)}" for k, val in v.params.items())
        lines.append((v.claim_id, params, v.status.value.upper() if role == "claim" else
                      ("REJECTED" if ok else f"NOT REJECTED ({v.status.value})"), f"{v.z:+.2f}", "" if ok else f"expected {expect}"))
    w = [max(len(r[i]) for r in lines + [("claim", "parameters", "verdict", "z", "")]) for i in range(4)]
    w[1] = min(w[1], 48)
    tr.write_line("  ".join(h.ljust(x) for h, x in zip(("claim", "parameters", "verdict", "z"), w)))
    for r in lines:
        params = r[1] if len(r[1]) <= w[1] else r[1][: w[1] - 3] + "..."
        tr.write_line("  ".join((r[0].ljust(w[0]), params.ljust(w[1]), r[2].ljust(w[2]), r[3].rjust(w[3]), r[4])).rstrip())
    n_claim = sum(1 for r in rows if r[0] == "claim")
    tr.write_line(f"{len(lines)} distinct checks ({n_claim} claim calls, {len(rows) - n_claim} mutant calls)")


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if callable(v):
        return getattr(v, "__qualname__", str(v))
    text = str(v)
    return text if len(text) <= 20 else text[:17] + "..."
