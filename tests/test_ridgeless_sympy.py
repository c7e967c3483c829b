"""Tests for theory.ridgeless_sympy: each derivation holds, each check rejects a wrong
formula (mutation tests), and the sympy expressions agree numerically with theory.ridgeless."""
from __future__ import annotations

import math

import pytest
import sympy as sp

from claimcheck.theory import ridgeless as rl
from claimcheck.theory import ridgeless_sympy as rs
from claimcheck.theory.ridgeless_sympy import gamma, lam, m, n, noise, signal, z

B = 1 - gamma + lam
SQRT_D = sp.sqrt(rs.mp_discriminant())

GAMMAS = (0.25, 0.5, 0.9, 1.5, 2.0, 4.0)
LAMS = (0.01, 0.5, 3.0)
SIGNAL_NOISE = ((1.0, 1.0), (2.0, 0.5))


def _f(expr, *syms):
    return sp.lambdify(syms, expr, modules="math")


# ------------------------------------------------ 1. finite-sample -> asymptotic (min-norm)


def test_finite_min_norm_risk_tends_to_asymptotic_formula_in_both_regimes():
    assert rs.check_finite_to_asymptotic() is True
    assert sp.cancel(rs.finite_to_asymptotic_limit("under") - noise * gamma / (1 - gamma)) == 0
    expected_over = signal * (1 - 1 / gamma) + noise / (gamma - 1)
    assert sp.cancel(rs.finite_to_asymptotic_limit("over") - expected_over) == 0


def test_finite_to_asymptotic_check_rejects_wrong_asymptotic_formulas():
    assert not rs.check_finite_to_asymptotic(asymptotic_under=noise * gamma / (1 - gamma) ** 2)
    wrong_over = signal * (1 - 1 / gamma) + noise * gamma / (gamma - 1)
    assert not rs.check_finite_to_asymptotic(asymptotic_over=wrong_over)
    assert not rs.check_finite_to_asymptotic(asymptotic_over=signal * (1 - gamma) + noise / (gamma - 1))


def test_finite_size_correction_is_order_one_over_n_with_derived_coefficient():
    assert sp.cancel(rs.finite_correction_term("under") - noise * gamma / (1 - gamma) ** 2) == 0
    assert sp.cancel(rs.finite_correction_term("over") - noise / (gamma - 1) ** 2) == 0
    # Numerically: n * (finite - asymptotic) -> c with an O(1/n) remainder.
    for g, regime in ((0.5, "under"), (2.0, "over")):
        c = float(rs.finite_correction_term(regime).subs({gamma: g, noise: 1.0}))
        errs = []
        for size in (1000, 2000, 4000):
            finite = rl.min_norm_risk_finite(size, int(g * size), 1.0, 1.0)
            gap = finite - rl.min_norm_risk_asymptotic(g, 1.0, 1.0)
            errs.append(abs(size * gap - c))
        assert errs[0] < 0.05 * c
        assert errs[1] < 0.6 * errs[0] and errs[2] < 0.6 * errs[1]  # remainder halves with n


def test_finite_sympy_expression_matches_theory_min_norm_risk_finite():
    for regime, pairs in (("under", ((100, 50), (40, 10))), ("over", ((50, 100), (20, 35)))):
        f = _f(rs.min_norm_risk_finite_expr(regime), n, gamma, signal, noise)
        for size, p in pairs:
            for r2, s2 in SIGNAL_NOISE:
                expected = rl.min_norm_risk_finite(size, p, r2, s2)
                assert math.isclose(f(size, p / size, r2, s2), expected, rel_tol=1e-12)


def test_asymptotic_sympy_expression_matches_theory_min_norm_risk_asymptotic():
    for regime, gs in (("under", (0.25, 0.5, 0.9)), ("over", (1.5, 2.0, 4.0))):
        f = _f(rs.min_norm_risk_asymptotic_expr(regime), gamma, signal, noise)
        for g in gs:
            for r2, s2 in SIGNAL_NOISE:
                assert math.isclose(f(g, r2, s2), rl.min_norm_risk_asymptotic(g, r2, s2), rel_tol=1e-12)


def test_unknown_regime_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="regime='critical'"):
        rs.min_norm_risk_finite_expr("critical")


# ------------------------------------------------------- 2. MP Stieltjes transform


def test_mp_stieltjes_root_solves_quadratic_and_is_the_stieltjes_branch():
    assert rs.check_mp_stieltjes_root() is True
    # The unrationalised form of the same root is accepted too.
    assert rs.check_mp_stieltjes_root((SQRT_D - B) / (2 * gamma * lam)) is True


def test_mp_stieltjes_check_rejects_the_other_root_and_a_wrong_discriminant():
    other_root = -(B + SQRT_D) / (2 * gamma * lam)  # solves the quadratic, wrong branch
    assert not rs.check_mp_stieltjes_root(other_root)
    assert not rs.check_mp_stieltjes_root(2 / (B - SQRT_D))  # same wrong root, other spelling
    assert not rs.check_mp_stieltjes_root(2 / (B + sp.sqrt(B**2 + 2 * gamma * lam)))


def test_mp_stieltjes_derivative_formula_agrees_with_implicit_differentiation():
    assert rs.check_mp_stieltjes_derivative() is True


def test_mp_stieltjes_derivative_check_rejects_wrong_formulas():
    mm = rs.mp_stieltjes_expr()
    assert not rs.check_mp_stieltjes_derivative(mm * (gamma * mm + 1) / rs.mp_discriminant())
    assert not rs.check_mp_stieltjes_derivative(mm * (gamma * mm - 1) / SQRT_D)
    assert not rs.check_mp_stieltjes_derivative(mm**2)  # the gamma -> 0 (point mass) answer


def test_mp_stieltjes_expressions_match_theory_numerically():
    fm = _f(rs.mp_stieltjes_expr(), gamma, lam)
    fdm = _f(rs.mp_stieltjes_derivative_expr(), gamma, lam)
    for g in GAMMAS:
        for la in LAMS:
            assert math.isclose(fm(g, la), rl.mp_stieltjes(-la, g), rel_tol=1e-12)
            assert math.isclose(fdm(g, la), rl.mp_stieltjes_derivative(-la, g), rel_tol=1e-12)


def test_implicit_second_derivative_matches_finite_difference_of_theory_derivative():
    _, d2 = rs.mp_stieltjes_implicit_derivatives()
    f2 = _f(d2, m, z, gamma)
    for g in GAMMAS:
        for la in LAMS:
            mv = rl.mp_stieltjes(-la, g)
            h = 1e-4 * la  # m'' varies on the scale lam (it is ~ lam^-3 for gamma > 1)
            fd = (rl.mp_stieltjes_derivative(-la + h, g) - rl.mp_stieltjes_derivative(-la - h, g)) / (2 * h)
            assert math.isclose(f2(mv, -la, g), fd, rel_tol=1e-6)


# ------------------------------------------------------------------ 3. optimal ridge


def test_ridge_risk_derivative_vanishes_at_lambda_star_and_factorises():
    assert rs.check_ridge_optimal_lambda() is True


def test_ridge_optimal_lambda_check_rejects_wrong_lambda_star():
    assert not rs.check_ridge_optimal_lambda(noise / signal)  # missing gamma
    assert not rs.check_ridge_optimal_lambda(2 * noise * gamma / signal)
    assert not rs.check_ridge_optimal_lambda(signal * gamma / noise)  # inverted SNR


def test_factored_ridge_derivative_matches_finite_difference_of_theory_risk():
    f = _f(rs.ridge_risk_lambda_derivative_factored(), m, lam, gamma, signal, noise)
    h = 1e-6
    for g in GAMMAS:
        for la in LAMS:
            for r2, s2 in SIGNAL_NOISE:
                mv = rl.mp_stieltjes(-la, g)
                up, down = (rl.ridge_risk_asymptotic(g, la + d, r2, s2) for d in (h, -h))
                fd = (up - down) / (2 * h)
                assert math.isclose(f(mv, la, g, r2, s2), fd, rel_tol=1e-5, abs_tol=1e-8)


def test_second_factor_of_ridge_derivative_is_positive_so_lambda_star_is_the_minimum():
    # Sampled: 2 m' - lam m'' = int 2 s/(s+lam)^3 dmu > 0 (argument in the docstring).
    d1, d2 = rs.mp_stieltjes_implicit_derivatives()
    f = _f((2 * d1 - lam * d2).subs(z, -lam), m, lam, gamma)
    for g in GAMMAS:
        for la in (*LAMS, 20.0):
            assert f(rl.mp_stieltjes(-la, g), la, g) > 0


def test_ridge_risk_at_lambda_star_equals_noise_gamma_m():
    assert rs.check_optimal_ridge_risk_value() is True


def test_optimal_ridge_risk_value_check_rejects_wrong_values():
    assert not rs.check_optimal_ridge_risk_value(noise * m)
    assert not rs.check_optimal_ridge_risk_value(signal * gamma * m)
    assert not rs.check_optimal_ridge_risk_value(noise * gamma * m**2)


def test_ridge_risk_expression_matches_theory_ridge_risk_asymptotic():
    f = _f(rs.ridge_risk_expr(), gamma, lam, signal, noise)
    for g in GAMMAS:
        for la in LAMS:
            for r2, s2 in SIGNAL_NOISE:
                assert math.isclose(f(g, la, r2, s2), rl.ridge_risk_asymptotic(g, la, r2, s2), rel_tol=1e-11)


def test_theory_ridge_risk_is_minimised_at_theory_optimal_lambda():
    for g in GAMMAS:
        for r2, s2 in SIGNAL_NOISE:
            ls = rl.optimal_ridge_lambda(g, r2, s2)
            r_star = rl.ridge_risk_asymptotic(g, ls, r2, s2)
            assert math.isclose(r_star, rl.optimal_ridge_risk_asymptotic(g, r2, s2), rel_tol=1e-12)
            for factor in (0.5, 0.9, 1.1, 2.0):
                assert rl.ridge_risk_asymptotic(g, factor * ls, r2, s2) > r_star


# ------------------------------------------------------ 4. ridge -> min-norm as lam -> 0+


def test_ridge_risk_tends_to_min_norm_risk_as_lambda_to_zero_in_both_regimes():
    assert rs.check_ridge_to_min_norm() is True


def test_ridge_to_min_norm_check_rejects_wrong_min_norm_limits():
    wrong_over = signal * (1 - 1 / gamma) + noise * gamma / (gamma - 1)
    assert not rs.check_ridge_to_min_norm(min_norm_over=wrong_over)
    assert not rs.check_ridge_to_min_norm(min_norm_under=noise / (1 - gamma))
    assert not rs.check_ridge_to_min_norm(min_norm_over=noise / (gamma - 1))  # bias dropped


def test_ridge_to_min_norm_limit_matches_theory_small_lambda_risk():
    for regime, gs in (("under", (0.25, 0.5)), ("over", (1.5, 4.0))):
        f = _f(rs.ridge_to_min_norm_limit(regime), gamma, signal, noise)
        for g in gs:
            for r2, s2 in SIGNAL_NOISE:
                assert math.isclose(f(g, r2, s2), rl.min_norm_risk_asymptotic(g, r2, s2), rel_tol=1e-12)
                assert math.isclose(f(g, r2, s2), rl.ridge_risk_asymptotic(g, 1e-9, r2, s2), rel_tol=1e-6)


# ------------------------------------------------- 5. optimal ridge risk increasing in gamma


def test_optimal_ridge_risk_is_increasing_in_gamma():
    res = rs.check_optimal_risk_increasing()
    assert res.passed and bool(res)
    assert res.relation_holds and res.derivative_proved and res.grid_all_positive
    assert res.grid_points == 21 and res.grid_min_derivative > 0


def test_optimal_risk_increasing_check_rejects_min_norm_risk():
    res = rs.check_optimal_risk_increasing(rs.min_norm_risk_asymptotic_expr("over"))
    assert not res.passed
    assert not res.relation_holds
    assert not res.grid_all_positive and res.grid_min_derivative < 0  # the grid alone sees the descent


def test_optimal_risk_increasing_check_rejects_fixed_small_lambda_ridge_risk():
    res = rs.check_optimal_risk_increasing(rs.ridge_risk_expr().subs(lam, sp.Rational(1, 100)))
    assert not res.passed
    assert not res.relation_holds
    assert res.grid_min_derivative < 0  # double descent survives a small fixed penalty


def test_optimal_risk_increasing_check_rejects_risk_at_wrong_lambda():
    wrong = noise * gamma * rs.mp_stieltjes_expr().subs(lam, noise / signal)
    res = rs.check_optimal_risk_increasing(wrong)
    assert not res.passed and not res.relation_holds


def test_optimal_risk_gamma_derivative_matches_finite_difference_of_theory():
    f = _f(rs.optimal_ridge_risk_gamma_derivative(), rs.u, signal, noise)
    h = 1e-6
    for g in GAMMAS:
        for r2, s2 in SIGNAL_NOISE:
            uv = rl.optimal_ridge_risk_asymptotic(g, r2, s2) / s2
            up, down = (rl.optimal_ridge_risk_asymptotic(g + d, r2, s2) for d in (h, -h))
            fd = (up - down) / (2 * h)
            assert math.isclose(f(uv, r2, s2), fd, rel_tol=1e-6)


def test_optimal_risk_relation_holds_for_theory_values():
    rel = _f(rs.optimal_ridge_risk_relation(), rs.u, gamma, signal, noise)
    for g in GAMMAS:
        for r2, s2 in SIGNAL_NOISE:
            uv = rl.optimal_ridge_risk_asymptotic(g, r2, s2) / s2
            assert abs(rel(uv, g, r2, s2)) < 1e-12 * (1 + g)
            assert 0 < uv < r2 / s2  # 0 < u < 1/a, forced by the relation


def test_exact_sign_decides_close_algebraic_numbers():
    from claimcheck.theory.ridgeless_sympy import _exact_sign

    assert _exact_sign(sp.sqrt(2) - sp.Rational(141421356237, 10**11)) == 1
    assert _exact_sign(sp.Rational(141421356238, 10**11) - sp.sqrt(2)) == 1
    assert _exact_sign(1 / (sp.sqrt(185) - 13) - sp.Rational(16625, 10000)) == 1  # 1.662511... - 1.6625
    assert _exact_sign((sp.sqrt(3) - 1) ** 2 - (4 - 2 * sp.sqrt(3))) == 0


# ------------------------------------------------------------------------- summary


def test_all_derivations_pass():
    results = rs.all_derivations()
    assert set(results) == {
        "finite_to_asymptotic",
        "mp_stieltjes_root",
        "mp_stieltjes_derivative",
        "ridge_optimal_lambda",
        "optimal_ridge_risk_value",
        "ridge_to_min_norm",
        "optimal_risk_increasing",
    }
    assert all(v is True for v in results.values()), results


def test_theory_module_imports_sympy_only():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(rs))
    names = {
        a.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for a in (node.names if isinstance(node, ast.Import) else [node])
    }
    roots = {n.split(".")[0] for n in names if not n.startswith("claimcheck.theory")}
    assert roots <= {"__future__", "functools", "dataclasses", "sympy"}
