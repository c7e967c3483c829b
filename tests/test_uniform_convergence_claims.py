"""Uniform-convergence claims beyond the generic catalogue tests (tests/test_catalogue.py):
family completeness, determinism, and the vacuous-bound claim's read-out and failure mode."""
import dataclasses

import pytest

import claimcheck
from claimcheck import Status

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("uniform_convergence.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    assert {c.id for c in CLAIMS} == {
        "uniform_convergence.test_error", "uniform_convergence.sprime_error", "uniform_convergence.train_error",
        "uniform_convergence.weight_norm", "uniform_convergence.vacuous_bound", "uniform_convergence.norm_bound_grows"}


def test_same_seed_same_verdict_bit_for_bit():
    c = claimcheck.get_claim("uniform_convergence.sprime_error")
    a, b = c.check(budget="quick", seed=5), c.check(budget="quick", seed=5)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=6).estimate != a.estimate


def test_vacuous_claim_reports_bound_near_one_and_gap_near_zero():
    v = claimcheck.get_claim("uniform_convergence.vacuous_bound").check(budget="quick", seed=0)
    assert v.status is Status.PASSED
    ucb, gap = v.extra["uc_lower_bound"], v.extra["generalization_gap"]
    assert ucb[-1] > 0.95 and gap[-1] < 0.01   # the bound is vacuous, the true gap is tiny
    assert all(a > b for a, b in zip(v.extra["test"], v.extra["test"][1:]))


def test_vacuous_claim_fails_where_the_signal_outgrows_the_noise():
    # n ||u||^2 > s^2 at n = 128: the S' error collapses and the claim's S' >= 0.95 part must fail.
    # That point is outside the declared domain (refused there); the same check on an undeclared copy fails.
    c = claimcheck.get_claim("uniform_convergence.vacuous_bound")
    with pytest.raises(ValueError, match="signal=0.03125, must be >= .* and <= 0.0046875"):
        c.check({"signal": 4 / 128}, budget="quick", seed=0)
    v = dataclasses.replace(c, param_spec=None).check({"signal": 4 / 128}, budget="quick", seed=0)
    assert v.status is Status.FAILED and v.detail.startswith("sprime")


def test_underpowered_when_budget_too_small_for_the_stated_precision():
    base = claimcheck.get_claim("uniform_convergence.test_error")
    claim = dataclasses.replace(base, reps=8, check=base.rule.with_options(rel_tol=0.001))
    assert claim.check(budget="quick", seed=0).status is Status.UNDERPOWERED
