"""The Claim engine: estimates, statistical tests (each outcome reachable), claims, registry, I/O."""
import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st

import claimcheck
from claimcheck import Claim, Estimate, Mutant, Status, stats
from claimcheck.budget import get_budget
from claimcheck.checks import Exact, Monotone
from claimcheck.domain import Domain, Real
from claimcheck.io import atomic_write_json, atomic_write_text
from claimcheck.testing import ClaimAssertionError, assert_claim, assert_rejects, params_seed


# ------------------------------------------------------------------ a toy claim with a known answer
def _sim_mean_of_uniform(params, reps, rng):
    return Estimate.from_samples(rng.uniform(0, params["b"], size=reps))


def toy(**overrides):
    rel_tol = overrides.pop("rel_tol", 0.05)
    kw = dict(
        id="toy.uniform_mean", title="E U(0, b) = b/2", statement=r"\mathbb E U = b/2", source="folklore",
        check=Exact(rel_tol=rel_tol), predict=lambda b: b / 2, domain=Domain({"b": Real(0.5, 5.0)}),
        default={"b": 2.0}, simulate=_sim_mean_of_uniform, reps=8000,
        mutants=(Mutant("b_over_3", "b/3", lambda b: b / 3),),
    )
    kw.update(overrides)
    return Claim(**kw)


def test_estimate_from_samples_uses_unbiased_standard_error():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    e = Estimate.from_samples(x)
    assert e.mean == pytest.approx(3.5) and e.n == 4
    assert e.se == pytest.approx(np.std(x, ddof=1) / 2)


def test_estimate_rejects_non_finite_and_too_few_samples():
    with pytest.raises(ValueError, match="inf or NaN"):
        Estimate.from_samples([1.0, np.inf])
    with pytest.raises(ValueError, match=">= 2"):
        Estimate.from_samples([1.0])


def test_pooled_estimate_matches_estimate_of_concatenated_samples():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(size=700)
    pooled = Estimate.pooled([Estimate.from_samples(a), Estimate.from_samples(b)])
    whole = Estimate.from_samples(np.concatenate([a, b]))
    assert pooled.mean == pytest.approx(whole.mean)
    assert pooled.se == pytest.approx(whole.se, rel=0.05)


def test_z_critical_matches_normal_quantile():
    assert stats.z_critical(1e-6) == pytest.approx(4.8916, abs=1e-4)
    assert stats.z_critical(0.05, two_sided=False) == pytest.approx(1.6449, abs=1e-4)
    with pytest.raises(ValueError, match="alpha=0"):
        stats.z_critical(0)


@pytest.mark.parametrize(
    "est, status",
    [(Estimate(1.0, 0.001, 10**4), Status.PASSED), (Estimate(1.02, 0.001, 10**4), Status.FAILED),
     (Estimate(1.0, 0.05, 10), Status.UNDERPOWERED), (Estimate(1.5, 0.05, 1000), Status.FAILED), (Estimate(1.5, 0.05, 4), Status.UNDERPOWERED)],
)
def test_exact_test_reaches_every_outcome(est, status):
    assert stats.exact_test(1.0, est).status is status


def test_exact_test_power_rule_is_the_stated_formula():
    need = stats.required_se(0.05)  # large n: normal critical value
    assert stats.exact_test(1.0, Estimate(1.0, need * 0.99, 10**7)).status is Status.PASSED
    assert stats.exact_test(1.0, Estimate(1.0, need * 1.01, 10**7)).status is Status.UNDERPOWERED


def test_exact_test_fails_on_infinite_prediction():
    assert stats.exact_test(math.inf, Estimate(1.0, 0.01, 100)).status is Status.FAILED


def test_bound_test_is_one_sided():
    assert stats.bound_test(1.0, Estimate(0.2, 0.001, 100)).status is Status.PASSED  # far below: fine
    assert stats.bound_test(1.0, Estimate(1.1, 0.001, 100)).status is Status.FAILED
    assert stats.bound_test(1.0, Estimate(0.9, 0.5, 100)).status is Status.UNDERPOWERED


def test_coverage_test_uses_exact_binomial():
    assert stats.coverage_test(9500, 10000, 0.95).status is Status.PASSED
    assert stats.coverage_test(9300, 10000, 0.95).status is Status.FAILED
    assert stats.coverage_test(19, 20, 0.95).status is Status.UNDERPOWERED
    with pytest.raises(ValueError, match="successes"):
        stats.coverage_test(11, 10, 0.9)


def test_asymptotic_test_accepts_true_limit_and_rejects_offset():
    n = np.array([20, 40, 80, 160.0])
    se = 0.001 * 20 / n
    good = [Estimate(1.0 + 0.5 / k, s, 1000) for k, s in zip(n, se)]
    bad = [Estimate(1.05 + 0.5 / k, s, 1000) for k, s in zip(n, se)]
    assert stats.asymptotic_test(1.0, n, good).status is Status.PASSED
    r = stats.asymptotic_test(1.0, n, bad)
    assert r.status is Status.FAILED and "wrong limit" in r.detail


def test_asymptotic_test_rejects_a_wrong_rate():
    n = np.array([10, 20, 40, 80.0])
    se = np.full(4, 1e-4)
    slow = [Estimate(1.0 + 0.5 / np.sqrt(k), s, 1000) for k, s in zip(n, se)]  # n^-1/2, claimed n^-1
    r = stats.asymptotic_test(1.0, n, slow, rate=1.0)
    assert r.status is Status.FAILED


def test_asymptotic_test_reports_observed_rate():
    n = np.array([20, 40, 80, 160.0])
    ests = [Estimate(2.0 + 3.0 / k, 1e-4, 1000) for k in n]
    r = stats.asymptotic_test(2.0, n, ests)
    assert r.extra["observed_rate"] == pytest.approx(1.0, abs=0.05)


# ------------------------------------------------------------------ Claim protocol
def test_claim_check_passes_true_formula_and_rejects_mutant():
    c = toy()
    assert c.check(seed=1).status is Status.PASSED
    mc, pt = c.mutant("b_over_3")
    assert mc.check(pt, seed=1).status is Status.FAILED


def test_same_seed_gives_bit_identical_verdict():
    c = toy()
    a, b = c.check({"b": 3.0}, seed=7), c.check({"b": 3.0}, seed=7)
    assert a.estimate == b.estimate and a.z == b.z
    assert c.check({"b": 3.0}, seed=8).estimate != a.estimate


def test_underpowered_budget_never_reports_pass():
    c = toy(reps=4, rel_tol=0.001)
    v = c.check(budget="quick", seed=0)
    assert v.status is Status.UNDERPOWERED


def test_replicates_double_until_powered():
    c = toy(reps=40, rel_tol=0.05)
    v = c.check(budget="standard", seed=0)
    assert v.estimate.n > 40  # needed extra rounds
    assert v.status in (Status.PASSED, Status.UNDERPOWERED)


def test_unknown_parameter_is_rejected_with_valid_names():
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['c'\].*valid: \['b'\]"):
        toy().check({"c": 1})


def test_bad_seed_and_budget_are_rejected():
    with pytest.raises(ValueError, match="seed=-1"):
        toy().check(seed=-1)
    with pytest.raises(ValueError, match="budget='huge', must be one of"):
        toy().check(budget="huge")
    assert get_budget("thorough").scale > get_budget("standard").scale > get_budget("quick").scale


def test_claim_requires_a_simulator_and_a_check_object():
    with pytest.raises(ValueError, match="needs simulate"):
        toy(simulate=None)
    with pytest.raises(TypeError, match="must be a check from claimcheck.checks"):
        toy(check="exact")
    c = toy()
    assert c.kind == "exact" and c.check.rule == Exact(rel_tol=0.05) and c.check.rel_tol == 0.05


def test_unknown_mutant_name_lists_choices():
    with pytest.raises(ValueError, match=r"mutant='x', must be one of \['b_over_3'\]"):
        toy().mutant("x")


# ------------------------------------------------------------------ registry and testing helpers
def test_registry_lists_claims_and_rejects_unknown_ids():
    ids = claimcheck.claim_ids()
    assert "ridgeless.minnorm_finite" in ids and len(ids) == len(set(ids))
    with pytest.raises(ValueError, match="unknown claim id 'nope'; valid ids: ridgeless"):
        claimcheck.get_claim("nope")


def test_registering_a_different_claim_under_an_existing_id_fails():
    existing = claimcheck.get_claim("ridgeless.minnorm_finite")
    with pytest.raises(ValueError, match="already registered"):
        claimcheck.register(toy(id=existing.id))


def test_assert_claim_message_has_everything_to_reproduce():
    c = toy().mutate(lambda b: b / 3)
    with pytest.raises(ClaimAssertionError) as info:
        assert_claim(c, {"b": 2.0}, seed=3)
    msg = str(info.value)
    for needle in ("prediction", "estimate", "SE", "z ", "alpha", "seed=3", "reproduce"):
        assert needle in msg
    assert info.value.verdict.status is Status.FAILED


def test_assert_claim_refuses_underpowered_unless_allowed():
    c = toy(reps=4, rel_tol=0.001)
    with pytest.raises(ClaimAssertionError, match="too imprecise"):
        assert_claim(c, budget="quick")
    assert assert_claim(c, budget="quick", allow_underpowered=True).status is Status.UNDERPOWERED


def test_assert_rejects_raises_when_the_mutant_survives():
    with pytest.raises(ClaimAssertionError, match="did not reject"):
        assert_rejects(toy(), lambda b: b / 2)  # the "mutant" is the true formula
    assert assert_rejects(toy(), lambda b: b / 3).status is Status.FAILED


@given(toy().domain)
def test_user_style_property_test_on_toy_claim(params):
    assert_claim(toy(), params)


def test_params_seed_is_stable_and_order_free():
    assert params_seed({"a": 1, "b": 2.0}) == params_seed({"b": 2.0, "a": 1})
    assert params_seed({"a": 1}) != params_seed({"a": 2})


def test_verdict_serialises_to_strict_json():
    v = toy().check(seed=0)
    d = v.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["status"] == "passed"
    assert "toy.uniform_mean" in str(v) and "reproduce" in str(v)


# ------------------------------------------------------------------ atomic I/O
def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"a": float("nan")})  # strict JSON refuses NaN mid-write
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["r.json"]


def test_atomic_write_creates_parent_folders(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "b.txt", "x")
    assert p.read_text() == "x"


def test_small_samples_use_student_t_critical_values():
    assert stats.z_critical(1e-6, df=3) > 50 > stats.z_critical(1e-6, df=1000) > stats.z_critical(1e-6)
    # z = 10 from 4 replicates is not evidence at alpha = 1e-6; from 1000 it is
    assert stats.exact_test(1.0, Estimate(1.5, 0.05, 4)).status is not Status.FAILED
    assert stats.exact_test(1.0, Estimate(1.5, 0.05, 1000)).status is Status.FAILED


def test_zero_prediction_needs_an_absolute_scale_to_ever_pass():
    def sim(params, reps, rng):
        return Estimate.from_samples(rng.normal(0.0, 1.0, size=reps))

    base = dict(id="toy.zero", title="E N(0,1) = 0", statement="0", source="folklore", check=Exact(rel_tol=0.05),
                predict=lambda: 0.0, domain=st.just({}), default={}, simulate=sim, reps=20000)
    scaled = Exact(rel_tol=0.05, abs_scale=1.0)
    assert Claim(**base).check(seed=0).status is Status.UNDERPOWERED  # 5% of 0 is unresolvable
    assert Claim(**{**base, "check": scaled}).check(seed=0).status is Status.PASSED
    assert Claim(**{**base, "check": scaled, "predict": lambda: 0.2}).check(seed=0).status is Status.FAILED


# ------------------------------------------------------------------ domains, bad simulators, bad predictions
def test_a_simulator_returning_a_float_gets_a_clear_type_error():
    c = toy(simulate=lambda params, reps, rng: float(rng.uniform(0, params["b"])))
    with pytest.raises(TypeError, match=r"simulate returned float .* the exact check needs Estimate or Curve"):
        c.check(budget="quick")


def test_a_nan_prediction_is_an_error_and_an_infinite_one_says_so():
    with pytest.raises(ValueError, match="the prediction is NaN"):
        toy(predict=lambda b: math.nan).check(budget="quick")
    v = toy(predict=lambda b: math.inf).check(budget="quick")
    assert v.status is Status.FAILED and "the prediction is inf" in v.detail and "contradicts" not in v.detail


def test_declared_domain_validates_and_gives_strategy_and_boundary_points():
    from hypothesis import find

    from claimcheck.domain import AnyOf, Choice, Constraint, Domain, Expr, Int, Seq

    d = Domain({"d": Int(1, 10), "n": Int(Expr("d + 2", lambda q: q["d"] + 2), 40), "grid": Seq(Int(1, 99), 1, 4, increasing=True, explore=((1, 5),))},
               (Constraint("n even", lambda q: q["n"] % 2 == 0),))
    assert d.validate({"d": 3, "n": 6, "grid": [1, 2]}) == {"d": 3, "n": 6, "grid": (1, 2)}
    with pytest.raises(ValueError, match=r"n=4, must be an integer >= 5 \(d \+ 2\) and <= 40"):
        d.validate({"d": 3, "n": 4, "grid": (1,)})
    with pytest.raises(ValueError, match="violate the domain constraint n even"):
        d.validate({"d": 3, "n": 7, "grid": (1,)})
    with pytest.raises(ValueError, match="strictly increasing"):
        d.validate({"d": 3, "n": 6, "grid": (2, 1)})
    with pytest.raises(TypeError, match="d=True, must be an integer"):
        d.validate({"d": True, "n": 6, "grid": (1,)})
    corners = d.boundary_points({"d": 3, "n": 6, "grid": (1, 5)})
    assert {"d": 1, "n": 6, "grid": (1, 5)} in corners and {"d": 10, "n": 12, "grid": (1, 5)} in corners  # n clamped to d + 2
    assert all(d.contains(p) for p in corners)
    assert find(d.strategy(), lambda p: p["d"] == 10)["n"] >= 12
    assert d.describe()["n"] == "integer >= d + 2 and <= 40" and d.describe()["constraints"] == "n even"
    u = AnyOf((Domain({"m": Choice(("a",)), "x": Int(0, 1)}), Domain({"m": Choice(("b",)), "x": Int(5, 6)})))
    assert u.validate({"m": "b", "x": 6}) == {"m": "b", "x": 6}
    with pytest.raises(ValueError, match=r"not in any branch .*\(1\) m='b', must be one of \['a'\]; \(2\) x=0, must be"):
        u.validate({"m": "b", "x": 0})


def test_claims_with_a_check_that_needs_a_curve_refuse_an_estimate():
    c = toy(check=Monotone(), simulate=_sim_mean_of_uniform)
    with pytest.raises(TypeError, match="the monotone check needs Curve"):
        c.check(budget="quick")
