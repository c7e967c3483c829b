"""Bayesian linear regression evidence (theory.marginal_likelihood): closed form = dense Gaussian
density = chain-rule sum (deterministic, 1e-10), = importance-sampling estimate (z-test), CLML
identities, the LML/CLML disagreement, and input validation."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from claimcheck.theory import marginal_likelihood as ML

Z = 4.9  # two-sided alpha ~ 1e-6

datasets = st.builds(lambda n, d, s, e, seed: (n, d, s, e, seed),
                     st.integers(1, 40), st.integers(1, 8), st.floats(1e-3, 1e3), st.floats(1e-2, 1e2), st.integers(0, 10**6))


def _data(n, d, s2, sig2, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ (math.sqrt(s2) * rng.standard_normal(d)) + math.sqrt(sig2) * rng.standard_normal(n)
    return X, y


@given(datasets)
def test_closed_form_equals_dense_gaussian_density_and_chain_rule_sum(case):
    n, d, s2, sig2, seed = case
    X, y = _data(*case)
    lml = ML.log_marginal_likelihood(X, y, s2, sig2)
    dense = stats.multivariate_normal(np.zeros(n), s2 * X @ X.T + sig2 * np.eye(n), allow_singular=True).logpdf(y)
    chain = ML.sequential_log_predictive(X, y, s2, sig2).sum()
    tol = 1e-10 * (1 + abs(lml))
    assert abs(lml - chain) <= tol
    assert abs(lml - dense) <= 1e-8 * (1 + abs(lml))  # the dense n x n route loses a few digits for large s2/sig2


@given(datasets, st.integers(1, 40))
def test_clml_is_the_sum_of_the_last_m_sequential_terms(case, m):
    X, y = _data(*case)
    n = X.shape[0]
    m = min(m, n)
    terms = ML.sequential_log_predictive(X, y, case[2], case[3])
    clml = ML.conditional_log_marginal_likelihood(X, y, case[2], case[3], m)
    assert clml == pytest.approx(terms[n - m:].sum(), abs=1e-9 * (1 + abs(terms.sum())))


def test_clml_with_m_equal_n_is_the_lml():
    X, y = _data(12, 3, 1.0, 0.5, 0)
    assert ML.conditional_log_marginal_likelihood(X, y, 1.0, 0.5, 12) == ML.log_marginal_likelihood(X, y, 1.0, 0.5)


def test_posterior_matches_the_normal_equations():
    X, y = _data(30, 4, 2.0, 0.5, 1)
    mu, S = ML.posterior(X, y, 2.0, 0.5)
    A = X.T @ X / 0.5 + np.eye(4) / 2.0
    np.testing.assert_allclose(S @ A, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(A @ mu, X.T @ y / 0.5, rtol=1e-12)


@pytest.mark.parametrize("proposal,n,samples", [("posterior", 30, 20000), ("prior", 4, 40000)])
def test_importance_sampling_estimate_agrees_with_the_closed_form(proposal, n, samples):
    X, y = _data(n, 3, 1.0, 0.5, 2)
    exact = ML.log_marginal_likelihood(X, y, 1.0, 0.5)
    est, se = ML.log_marginal_likelihood_mc(X, y, 1.0, 0.5, samples, np.random.default_rng(7), proposal=proposal)
    assert se < 0.05
    assert abs(est - exact) <= Z * se + se**2  # log of an unbiased mean: bias ~ -se^2/2


def test_importance_sampling_rejects_the_missing_log_det_formula():
    X, y = _data(30, 3, 1.0, 0.5, 2)
    n = X.shape[0]
    K = X @ X.T + 0.5 * np.eye(n)
    wrong = float(-0.5 * y @ np.linalg.solve(K, y) - 0.5 * n * math.log(2 * math.pi))
    est, se = ML.log_marginal_likelihood_mc(X, y, 1.0, 0.5, 20000, np.random.default_rng(7))
    assert abs(est - wrong) > Z * se + se**2


def test_monte_carlo_is_reproducible():
    X, y = _data(10, 2, 1.0, 1.0, 3)
    a = ML.log_marginal_likelihood_mc(X, y, 1.0, 1.0, 500, np.random.default_rng(1))
    b = ML.log_marginal_likelihood_mc(X, y, 1.0, 1.0, 500, np.random.default_rng(1))
    assert a == b


def test_lml_and_clml_rank_a_tight_and_a_diffuse_prior_differently():
    # One fixed data set of the pac_bayes.lml_clml_disagree setting: d = 20, n = 100, w* ~ N(0, 0.3^2 I).
    X, y, _, Xt, yt = ML.make_regression_data(100, 20, w_scale=0.3, noise_var=1.0, seed=4, n_test=2000)
    tight, diffuse = 0.01, 1000.0
    assert ML.log_marginal_likelihood(X, y, tight, 1.0) > ML.log_marginal_likelihood(X, y, diffuse, 1.0)
    assert (ML.conditional_log_marginal_likelihood(X, y, tight, 1.0, 50)
            < ML.conditional_log_marginal_likelihood(X, y, diffuse, 1.0, 50))
    # the held-out predictive density agrees with the CLML here
    assert ML.predictive_log_density(X, y, Xt, yt, tight, 1.0) < ML.predictive_log_density(X, y, Xt, yt, diffuse, 1.0)


def test_prior_scale_sweep_shapes_and_values():
    X, y, _, Xt, yt = ML.make_regression_data(40, 5, seed=0, n_test=50)
    sw = ML.prior_scale_sweep(X, y, [0.1, 1.0], 1.0, 10, Xt, yt)
    assert sw["test_lpd"].shape == (2,)
    assert sw["lml_per_point"][1] == ML.log_marginal_likelihood(X, y, 1.0, 1.0) / 40


def test_bad_input_names_the_parameter_and_range():
    X, y = _data(5, 2, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match=r"prior_var=0.0, must be >= 1e-100 and <= 1e\+100"):
        ML.log_marginal_likelihood(X, y, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"noise_var=-1.0, must be >= 1e-100 and <= 1e\+100"):
        ML.sequential_log_predictive(X, y, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"m=6, must be >= 1 and <= 5"):
        ML.conditional_log_marginal_likelihood(X, y, 1.0, 1.0, 6)
    with pytest.raises(ValueError, match=r"X has shape \(3, 2\), must be \(n, d\) with d >= 1 and n = len\(y\) = 5"):
        ML.log_marginal_likelihood(X[:3], y, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"proposal='laplace', must be one of 'prior', 'posterior'"):
        ML.log_marginal_likelihood_mc(X, y, 1.0, 1.0, 10, np.random.default_rng(0), proposal="laplace")
    with pytest.raises(ValueError, match=r"widen=0.5, must be > 0.5"):
        ML.log_marginal_likelihood_mc(X, y, 1.0, 1.0, 10, np.random.default_rng(0), widen=0.5)
    with pytest.raises(ValueError, match=r"y=nan"):
        ML.log_marginal_likelihood(X, np.full(5, np.nan), 1.0, 1.0)
