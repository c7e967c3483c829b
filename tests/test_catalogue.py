"""Every registered claim, whatever its family: documented, passes at its verify points and
over (a sample of) its hypothesis domain, and its own check rejects every registered mutant.

A new claim is covered here the moment its catalogue module registers it; family test files
hold only what is specific to a family.
"""
import math

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings

import claimcheck
from claimcheck import paper_figures
from claimcheck import Status
from claimcheck.budget import Budget
from claimcheck.domain import Choice, Int, Real, Seq
from claimcheck.testing import assert_claim, params_seed

CLAIMS = claimcheck.all_claims(evidence="simulation")   # the gpu.* claims on measured results: tests/test_gpu_verdicts.py

# Hypothesis examples per claim in the domain sweep: a family default, fewer for costly claims.
# (Every claim's boundary points are checked one by one in test_claim_never_fails_at_the_edges_of_its_domain
# and its two extreme corners are explicit examples here, so these are the random interior points.)
FAMILY_EXAMPLES = {"ridgeless": 10, "deep_bootstrap": 5, "pac_bayes": 4, "distributional": 4, "uniform_convergence": 3}
EXAMPLES = {
    "ridgeless.anisotropic": 5, "ridgeless.optimal_lambda": 6,
    "deep_bootstrap.real_world_gd": 4, "deep_bootstrap.early_agreement": 4,
    "deep_bootstrap.ideal_world_recursion": 5, "deep_bootstrap.sgd_stability": 5,
    "pac_bayes.lml_clml_disagree": 2, "pac_bayes.lml_monte_carlo": 4, "pac_bayes.lml_chain_rule": 3,
    "pac_bayes.kl_bound_ordering": 2, "pac_bayes.tuning_cost": 2,
    "distributional.feature_calibration": 2, "distributional.regularised_contrast": 2,
    "distributional.nn_calibration_real": 2, "distributional.nn_dg_gap": 3,
    "uniform_convergence.vacuous_bound": 2, "uniform_convergence.norm_bound_grows": 2,
}
# Claims whose default point and domain are exercised by their family's own tests instead.
OWN_TESTS = {"deep_bootstrap.figure7": "2 x 1000 SGD steps per example; see tests/test_deep_bootstrap_claims.py"}
# Claims whose declared domain has cheap corners that the quick budget cannot resolve (the check is
# underpowered there, never failed): the domain test runs them at the standard budget.
DOMAIN_BUDGET = {
    "deep_bootstrap.sign_ols_limit": "standard",        # d = 1, n = d + 7: inverse-Wishart tails
    "distributional.nn_dg_gap": "standard",             # n = 50: class gaps of small training sets
    "distributional.nn_calibration_real": "standard",   # 200 training / test digits
    "uniform_convergence.test_error": "standard",       # D = 2: the test error of one small-sample step is noisy
    "uniform_convergence.sprime_error": "standard",     # rho near 1.2: S' error near 1/2, noisy
    "uniform_convergence.train_error": "standard",      # training errors near 0.02 (10% relative)
}
# The domain's edge sweep: a tenth of the claim's replicates and no doubling rounds (cheap: a point it
# cannot resolve is underpowered and tolerated; a point where the check fails is a counterexample).
EDGES = Budget("edges", 0.1, 0)

POINTS = [(c.id, pt) for c in CLAIMS if c.id not in OWN_TESTS for pt in c.points()]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]

# Points this module has already seen PASS (not merely "not fail") at a budget at least as strong as
# EDGES: the verify points (quick, seed 0) and the domain sweep's two extreme corners (the claim's
# domain budget). The edge sweep does not re-simulate them at its weaker budget: the PASSED verdict
# asserts more than "never FAILED" at a tenth of the replicates. Run without those tests (e.g. -k
# edges), the dict is empty and the edge sweep simulates every boundary point itself.
_PASSED: dict = {}


def _point_key(claim_id, params) -> str:
    from claimcheck.io import jsonable

    return f"{claim_id} {jsonable(dict(params))!r}"


def _record_passed(verdict) -> None:
    assert verdict.status is Status.PASSED
    _PASSED[_point_key(verdict.claim_id, verdict.params)] = verdict


def _family(claim_id: str) -> str:
    return claim_id.split(".", 1)[0]


def test_every_family_is_registered():
    assert {_family(c.id) for c in CLAIMS} == set(FAMILY_EXAMPLES)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_is_documented_and_has_mutants(claim):
    assert claim.title and claim.statement and claim.source
    assert len(claim.mutants) >= 1, "every claim needs at least one mutation test"
    assert claim.figure in paper_figures.FIGURES, f"{claim.id} names no known figure (figure={claim.figure!r})"
    assert claim.id in paper_figures.FIGURES[claim.figure].CLAIMS, f"{claim.figure} does not list {claim.id}"


def test_every_family_has_a_figure():
    illustrated = {_family(c) for name in paper_figures.FIGURES for c in paper_figures.FIGURES[name].CLAIMS}
    assert illustrated == set(FAMILY_EXAMPLES)


@pytest.mark.parametrize("claim_id, params", POINTS, ids=[f"{i}-{k}" for k, (i, _) in enumerate(POINTS)])
def test_claim_passes_at_its_verify_points(claim_id, params):
    _record_passed(assert_claim(claim_id, params, budget="quick", seed=0))


@pytest.mark.parametrize("claim_id, mutant", MUTANTS, ids=[f"{c}:{m}" for c, m in MUTANTS])
def test_check_rejects_mutant(claim_id, mutant):
    mutated, point = claimcheck.get_claim(claim_id).mutant(mutant)
    verdict = mutated.check(point, budget="quick", seed=0)
    assert verdict.status is Status.FAILED, f"mutant survived:\n{verdict}"


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id not in OWN_TESTS], ids=lambda c: c.id)
def test_claim_holds_over_its_domain(claim):
    """Hypothesis over the whole declared domain, with its two extreme corners (every range at its
    low end, at its high end) as explicit examples; every example must pass."""
    examples = EXAMPLES.get(claim.id, FAMILY_EXAMPLES[_family(claim.id)])
    budget = DOMAIN_BUDGET.get(claim.id, "quick")

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(claim.domain)
    def holds(params):
        assert_claim(claim, params, budget=budget)

    corners = claim.boundary_points()[-2:]
    for corner in corners:
        holds = example(corner)(holds)
    holds()
    # The corners' PASSED verdicts, for the edge sweep: assert_claim's memo returns them without
    # simulating again. (holds itself is left as it was: derandomized hypothesis derives its examples
    # from the test function's source, so editing it would change the random interior points.)
    for corner in corners:
        _record_passed(assert_claim(claim, corner, budget=budget))


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id not in OWN_TESTS], ids=lambda c: c.id)
def test_claim_never_fails_at_the_edges_of_its_domain(claim):
    """Every boundary point of the declared domain (each range at each end, others at the default;
    the two extreme corners) as a hypothesis @example: the claim's own check never fails there.
    A point that another test of this module has already seen PASS at a stronger budget (a verify
    point, a corner of the domain sweep: see _PASSED) is not simulated again at the weaker one."""
    points = claim.boundary_points()
    assert points, f"{claim.id} has no boundary points"

    @settings(phases=[Phase.explicit], deadline=None)
    @given(claim.domain)
    def never_fails(params):
        passed = _PASSED.get(_point_key(claim.id, claim.resolve(params)))
        if passed is not None:
            assert passed.status is Status.PASSED
            return
        v = claim.check(params, budget=EDGES, seed=params_seed(params))
        assert v.status is not Status.FAILED, f"counterexample at the domain's edge:\n{v}"

    for pt in points:
        never_fails = example(pt)(never_fails)
    never_fails()


def _numeric_names(spec):
    branch = spec.branches[0] if hasattr(spec, "branches") else spec
    return [n for n, s in branch.params.items() if isinstance(s, (Int, Real))]


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_claim_declares_a_domain_holding_its_checked_points(claim):
    spec = claim.param_spec
    assert spec is not None, f"{claim.id} declares no parameter domain"
    assert set(spec.names()) == set(claim.default)
    for pt in list(claim.points()) + [claim.resolve(m.params) for m in claim.mutants]:
        spec.validate(pt)  # default, verify and mutant points lie inside the declared domain


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_out_of_domain_parameters_are_refused_before_simulating(claim, monkeypatch):
    import dataclasses

    def no_sim(*a, **k):  # validation must come first: nothing may be simulated
        raise AssertionError("simulated an invalid point")

    c = dataclasses.replace(claim, simulate=no_sim)
    for name in _numeric_names(claim.param_spec):
        for bad in (math.nan, math.inf, -1e9):
            with pytest.raises((ValueError, TypeError), match=f"{name}="):
                c.check({name: bad}, budget="quick")
        with pytest.raises((ValueError, TypeError), match=f"{name}="):
            c.check({name: "1"}, budget="quick")


@pytest.mark.parametrize("claim_id, params, message", [
    ("uniform_convergence.vacuous_bound", {"sprime_min": -1}, r"sprime_min=-1, must be >= 0.5 and <= 0.95"),
    ("deep_bootstrap.figure7", {"small": math.inf}, r"small=inf, must be a finite real number >= 0.2 and <= 0.5"),
    ("distributional.feature_calibration", {"band": math.nan}, r"band=nan, must be a finite real number >= 0.5 and <= 1"),
    ("distributional.nn_calibration", {"c": -1}, r"c=-1, must be an integer >= 1 and <= 9"),
    ("ridgeless.minnorm_finite", {"n": 60, "p": 62}, r"n=60, p=62 violate the domain constraint \|n - p\| >= 4"),
    ("deep_bootstrap.sign_ols_limit", {"n": 52, "d": 50}, r"n=52, must be an integer >= 57 \(d \+ 7\)"),
    ("pac_bayes.coverage", {"bound": "pinsker"}, r"bound='pinsker', must be one of \['mcallester', 'maurer', 'catoni'\] or a callable"),
])
def test_nonsense_parameters_name_the_parameter_and_its_range(claim_id, params, message):
    with pytest.raises(ValueError, match=message):
        claimcheck.get_claim(claim_id).check(params, budget="quick")


REPRODUCE = [(c.id, None) for c in CLAIMS if c.id not in OWN_TESTS] + MUTANTS


@pytest.mark.parametrize("claim_id, mutant", REPRODUCE, ids=[f"{c}:{m}" for c, m in REPRODUCE])
def test_every_reproduce_line_evaluates_to_the_bit_identical_verdict(claim_id, mutant):
    claim = claimcheck.get_claim(claim_id)
    budget = "quick:reps=64"  # few replicates: the verdict may be underpowered; it must reproduce bit for bit
    if mutant is None:
        v = claim.check(budget=budget, seed=3)
    else:
        mc, pt = claim.mutant(mutant)
        v = mc.check(pt, budget=budget, seed=3)
        assert v.claim_id == f"{claim_id}[{mutant}]"
    prefix, _, expr = v.reproduce().rpartition("; ")   # "import claimcheck; claimcheck.get_claim(...).check(...)"
    ns: dict = {}
    exec(prefix.replace("; ", "\n"), ns)  # noqa: S102 - our own generated line
    again = eval(expr, ns)  # noqa: S307
    assert again.to_dict() == v.to_dict()


def test_a_mutant_id_resolves_to_the_claim_with_that_mutant_installed():
    c = claimcheck.get_claim("ridgeless.minnorm_finite")
    m = claimcheck.get_claim("ridgeless.minnorm_finite[no_bias_term]")
    assert m.id == "ridgeless.minnorm_finite[no_bias_term]" and m.predict is c.mutants[1].predict and m.rule == c.rule
    with pytest.raises(ValueError, match="mutant='nope', must be one of"):
        claimcheck.get_claim("ridgeless.minnorm_finite[nope]")


def test_registry_separates_claims_on_measured_results(monkeypatch):
    import dataclasses

    from claimcheck import registry

    base = claimcheck.get_claim("ridgeless.minnorm_finite")
    measured = dataclasses.replace(base, id="gpu.toy", evidence="measurement")
    monkeypatch.setattr(registry, "_REGISTRY", {**registry._REGISTRY, "gpu.toy": measured})
    assert claimcheck.claim_ids()[-1] == "gpu.toy"
    assert [c.id for c in claimcheck.all_claims(evidence="measurement")][-1] == "gpu.toy"   # after the six gpu.* jobs
    assert "gpu.toy" not in claimcheck.claim_ids(evidence="simulation")
    from claimcheck.cli import _select

    assert "gpu.toy" not in [c.id for c in _select([])] and [c.id for c in _select(["gpu"])][-1] == "gpu.toy"


def test_no_catalogue_module_decides_a_status_itself():
    from pathlib import Path

    import claimcheck.catalogue as cat

    for path in Path(cat.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "Status." not in text and "stats.TestResult" not in text, f"{path.name} decides a verdict itself"
