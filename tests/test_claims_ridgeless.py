"""Ridgeless claims beyond the generic catalogue tests (tests/test_catalogue.py): family
completeness, determinism, the finite-variance domain, and the power rule."""
import pytest
from hypothesis import given, settings

import claimcheck
from claimcheck import Status

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("ridgeless.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    ids = {c.id for c in CLAIMS}
    assert {"ridgeless.minnorm_finite", "ridgeless.minnorm_asymptotic", "ridgeless.ridge_asymptotic",
            "ridgeless.optimal_lambda", "ridgeless.optimal_ridge_monotone",
            "ridgeless.samplewise_nonmonotone", "ridgeless.anisotropic"} <= ids


@pytest.mark.parametrize("claim_id", ["ridgeless.minnorm_finite", "ridgeless.ridge_asymptotic", "ridgeless.samplewise_nonmonotone"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    a, b = c.check(budget="quick", seed=11), c.check(budget="quick", seed=11)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=12).estimate != a.estimate


def test_domain_respects_the_finite_variance_region():
    claim = claimcheck.get_claim("ridgeless.minnorm_finite")

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(claim.domain)
    def inside(params):
        assert abs(params["n"] - params["p"]) >= 4

    inside()


def test_underpowered_when_budget_too_small_for_the_stated_precision():
    import dataclasses

    base = claimcheck.get_claim("ridgeless.minnorm_finite")
    claim = dataclasses.replace(base, reps=8, check=base.rule.with_options(rel_tol=0.001))
    assert claim.check({"n": 20, "p": 10}, budget="quick", seed=0).status is Status.UNDERPOWERED


def test_anisotropic_claim_rejects_a_p_that_is_not_a_multiple_of_the_levels():
    import numpy as np

    claim = claimcheck.get_claim("ridgeless.anisotropic")
    params = {**claim.default, "p0": 3 * len(claim.default["levels"]) + 1}
    with pytest.raises(ValueError, match="must be a multiple of len\\(levels\\)"):
        claim.predict(**params)
    with pytest.raises(ValueError, match="must be a multiple"):
        claim.simulate({**params, "n": params["n0"], "p": params["p0"]}, 4, np.random.default_rng(0))
