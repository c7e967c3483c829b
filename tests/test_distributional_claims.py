"""Distributional-generalization claims beyond the generic catalogue tests
(tests/test_catalogue.py): verdicts are reproducible bit for bit, and the reusable read-out
(noisy labels, calibration table, ensemble slope) behaves as documented."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import claimcheck
from claimcheck import Status
from claimcheck.sims import distributional as S
from claimcheck.theory import distributional as T

CLAIMS = [c for c in claimcheck.all_claims() if c.id.startswith("distributional.")]
MUTANTS = [(c.id, m.name) for c in CLAIMS for m in c.mutants]


def test_family_is_complete():
    ids = {c.id for c in CLAIMS}
    assert {"distributional.nn_calibration", "distributional.nn_dg_gap", "distributional.nn_calibration_real",
            "distributional.feature_calibration", "distributional.regularised_contrast",
            "distributional.dp_implies_dg"} <= ids


@pytest.mark.parametrize("claim_id", ["distributional.nn_calibration", "distributional.nn_dg_gap",
                                      "distributional.feature_calibration"])
def test_same_seed_same_verdict_bit_for_bit(claim_id):
    c = claimcheck.get_claim(claim_id)
    a, b = c.check(budget="quick", seed=11), c.check(budget="quick", seed=11)
    assert a.to_dict() == b.to_dict()
    assert c.check(budget="quick", seed=12).estimate != a.estimate


def test_underpowered_when_budget_too_small_for_the_stated_precision():
    import dataclasses

    base = claimcheck.get_claim("distributional.nn_calibration")
    claim = dataclasses.replace(base, reps=4, check=base.rule.with_options(rel_tol=1e-4))
    assert claim.check(budget="quick", seed=0).status is Status.UNDERPOWERED


def test_dg_check_reports_small_class_gaps_and_a_large_loss_gap():
    v = claimcheck.get_claim("distributional.nn_dg_gap").check(budget="quick", seed=3)
    gaps = dict(zip(v.extra["tests"], v.extra["gap"]))
    ses = dict(zip(v.extra["tests"], v.extra["gap_se"]))
    assert v.passed
    loss = gaps.pop("loss")
    assert loss > 10 * ses["loss"] and loss > 0.05  # classical generalization fails ...
    assert max(abs(g) for g in gaps.values()) < loss / 5  # ... the class/group tests generalize


# --------------------------------------------------------------------------- simulators vs brute force
def test_line_nn_classes_matches_brute_force_nearest_neighbour():
    rng = np.random.default_rng(5)
    lefts, widths, w = T.line_clusters(4, 0.6)
    tc = rng.integers(0, 4, size=(30, 7))
    state = np.random.default_rng(9)
    cls, nn = S.line_nn_classes(12, lefts, widths, w, tc, state)
    # Recreate the same draws and find the neighbours by brute force.
    state = np.random.default_rng(9)
    cls2 = state.choice(4, size=(30, 12), p=w)
    pos = lefts[cls2] + widths[cls2] * state.random((30, 12))
    tpos = lefts[tc] + widths[tc] * state.random((30, 7))
    brute = np.take_along_axis(cls2, np.argmin(np.abs(tpos[:, :, None] - pos[:, None, :]), axis=2), axis=1)
    np.testing.assert_array_equal(cls, cls2)
    np.testing.assert_array_equal(nn, brute)


def test_noisy_binary_labels_rates_and_validation():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 20000)
    b = S.noisy_binary_labels(y, T.SEED_RATES, rng)
    assert b.dtype == np.int64 and set(np.unique(b)) <= {0, 1}
    for c, p in enumerate(T.SEED_RATES):
        k = int(b[y == c].sum())
        assert sps.binomtest(k, 20000, p).pvalue > 1e-6 if p > 0 else k == 0
    with pytest.raises(ValueError, match="y contains class 10"):
        S.noisy_binary_labels([10], T.SEED_RATES, rng)
    with pytest.raises(ValueError, match="p_c=1.5"):
        S.noisy_binary_labels([0], [1.5], rng)


def test_calibration_table_of_a_perfect_sampler_has_slope_near_one_and_covering_cis():
    rng = np.random.default_rng(1)
    p = T.linear_rates(0.45)
    y = np.repeat(np.arange(10), 4000)
    pred = S.noisy_binary_labels(y, p, rng)  # a classifier that samples f(x) ~ Bernoulli(p_class)
    t = S.calibration_table(pred, y, p)
    assert np.all(t["ci_low"] <= t["rate"]) and np.all(t["rate"] <= t["ci_high"])
    assert np.sum((t["ci_low"] <= p) & (p <= t["ci_high"])) >= 8  # 95% intervals: >= 8 of 10 cover
    assert abs(t["slope"] - 1.0) < 5 * t["slope_se"] and t["slope_ci"][0] < 1 < t["slope_ci"][1]
    bayes = S.calibration_table(np.zeros_like(y), y, p)
    assert bayes["slope"] == 0.0 and np.all(bayes["rate"] == 0)


def test_calibration_table_rejects_bad_input():
    with pytest.raises(ValueError, match=r"pred has an entry 2, must have every entry >= 0 and <= 1"):
        S.calibration_table([0, 2], [0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="one per test point"):
        S.calibration_table([0, 1, 1], [0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="classes in 0..1"):
        S.calibration_table([0, 1], [0, 2], [0.1, 0.2])


def test_ensemble_slope_se_matches_the_spread_over_fresh_test_samples():
    rng = np.random.default_rng(2)
    p = T.linear_rates(0.45)
    y = np.repeat(np.arange(10), 300)
    slopes, ses = [], []
    for _ in range(200):
        s, se = S.ensemble_slope(S.noisy_binary_labels(y, p, rng)[:, None], y, p)
        slopes.append(s)
        ses.append(se)
    sd = np.std(slopes, ddof=1)
    # the SE formula estimates the sd of the slope over test samples (chi-square bound on the sd, 200 draws)
    assert 0.75 * sd < np.mean(ses) < 1.33 * sd
    assert abs(np.mean(slopes) - 1.0) < 5 * sd / np.sqrt(200)


def test_interpolating_models_reach_zero_training_error_and_contrasts_do_not():
    rng = np.random.default_rng(3)
    split = S.load_split("digits", 300, 200, split_seed=1)
    labels = S.noisy_binary_labels(np.repeat(split.y_train[:, None], 2, axis=1), T.linear_rates(0.45), rng)
    for model in ("kernel", "kernel_wide", "tree", "knn1"):
        train_pred, test_pred = S.predict_binary(model, split, labels, rng)
        assert np.array_equal(train_pred, labels), model
        assert test_pred.shape == (200, 2)
    for model in S.REGULARISED:
        train_pred, test_pred = S.predict_binary(model, split, labels, rng)
        assert (train_pred != labels).mean() > 0.1 and test_pred.sum() == 0, model
    with pytest.raises(ValueError, match="model='svm'"):
        S.predict_binary("svm", split, labels, rng)


def test_mlp_smoke_interpolates_and_is_seeded():
    split = S.load_split("digits", 150, 100, split_seed=2)
    labels = S.noisy_binary_labels(np.repeat(split.y_train[:, None], 2, axis=1), T.linear_rates(0.45), np.random.default_rng(4))
    (tr1, te1), steps = S._mlp_predict(split.x_train, labels, (split.x_train, split.x_test), seed=7, hidden=64, max_steps=2000)
    (tr2, te2), _ = S._mlp_predict(split.x_train, labels, (split.x_train, split.x_test), seed=7, hidden=64, max_steps=2000)
    assert np.array_equal(tr1, labels) and steps < 2000
    assert np.array_equal(te1, te2)


def test_dp_simulator_agrees_with_exact_train_agreement():
    rng = np.random.default_rng(6)
    x = S.dp_majority_train_agreement(40, 7, 0.3, 1.0, 4000, rng)
    exact = T.dp_majority_agreement(40, 7, 0.3, 1.0)[0]
    assert abs(x.mean() - exact) < 5 * x.std(ddof=1) / np.sqrt(x.size)


def test_load_split_is_disjoint_seeded_and_validated():
    a = S.load_split("digits", 100, 50, split_seed=3)
    b = S.load_split("digits", 100, 50, split_seed=3)
    assert a is b and a.x_train.shape == (100, 64) and a.x_test.shape == (50, 64)
    assert a.x_train.max() <= 1.0
    with pytest.raises(ValueError, match="dataset='cifar'"):
        S.load_split("cifar", 100, 50)
    with pytest.raises(ValueError, match="n_test=5000, must be >= 10 and <= 1697"):
        S.load_split("digits", 100, 5000)


def _int64_sq_dists(a, b):
    """Brute-force exact integer squared distances (the independent reference)."""
    a, b = a.astype(np.int64), b.astype(np.int64)
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)


@pytest.mark.parametrize("dataset", ["digits", "mnist"])
def test_exact_integer_distances_and_nn_index_match_brute_force(dataset):
    split = S.load_split(dataset, 60, 40, split_seed=1)
    for which, xi in (("train", split.xi_train), ("test", split.xi_test)):
        exact = _int64_sq_dists(xi, split.xi_train)
        d = S._split_sq_dists(split, which)
        # correctly rounded exact distances; first index among exact ties
        assert np.array_equal(d, exact / split.scale**2), which
        assert np.array_equal(S._nn_index(split, which), np.argmin(exact, axis=1)), which
        x = split.x_train if which == "train" else split.x_test
        ref = S.squared_distances(x, split.x_train)
        if dataset == "digits":  # x / 16 is exact in binary: the float formula is exact too, the same bits
            assert np.array_equal(d, ref)
        else:  # float-rounding tolerance of the |a|^2 + |b|^2 - 2 a.b formula on x / 255 (784 terms, values <= 784)
            assert np.abs(d - ref).max() <= 1e-12 * 784
    assert np.array_equal(S._nn_index(split, "train"), np.arange(60)) or len(np.unique(split.xi_train, axis=0)) < 60


def test_int_gram_is_exact_on_both_precisions_and_at_the_float32_boundary():
    rng = np.random.default_rng(5)
    small = rng.integers(0, 256, size=(30, 50)).astype(np.uint8)
    g, na, nb = S._int_gram(small, small)
    assert g.dtype == np.float32 and np.array_equal(g.astype(np.int64), small.astype(np.int64) @ small.T.astype(np.int64))
    # the float32 / float64 boundary: squared norm 2^24 - 4096 - 127 (float32 path) and exactly 2^24 (float64 path)
    edge = np.zeros((2, 4097), dtype=np.int64)
    edge[0, :4095], edge[0, 4095] = 64, 63
    edge[1, :4096] = 64
    assert (edge[0] ** 2).sum() == 2**24 - 127 and (edge[1] ** 2).sum() == 2**24
    for rows in (edge[:1], edge[1:]):
        top = int((rows**2).sum())
        g, _, _ = S._int_gram(rows, rows)
        assert g.dtype == (np.float32 if top < 2**24 else np.float64)
        assert int(g[0, 0]) == top
    big = rng.integers(0, 5000, size=(20, 40))  # norms > 2^24: the float64 path, still exact
    d = S._int_sq_dists(big, big[:7], 1.0)
    assert np.array_equal(d, _int64_sq_dists(big, big[:7]).astype(float))
    with pytest.raises(ValueError, match="must be < 2\\*\\*52"):
        S._int_gram(np.full((1, 2), 2**26), np.full((1, 2), 1))
    with pytest.raises(ValueError, match="ai has dtype int64, must hold non-negative integers"):
        S._int_gram(np.array([[-1, 2]]), np.array([[1, 2]]))


def test_knn1_and_kernel_fits_do_not_depend_on_the_cache_key():
    rng = np.random.default_rng(8)
    split = S.load_split("mnist", 80, 50, split_seed=2)
    labels = S.noisy_binary_labels(np.repeat(split.y_train[:, None], 3, axis=1), T.linear_rates(0.45), rng)
    for model in ("knn1", "kernel"):
        a = S.predict_binary(model, split, labels, rng)
        b = S.predict_binary(model, split, labels, rng, split_key=("mnist", 80, 50, 2))
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), model


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 40), st.floats(0.2, 3.0), st.integers(0, 2**31))
def test_line_calibration_samples_are_valid_rates(n, spacing, seed):
    x = S.line_calibration_samples(n, spacing, T.SEED_RATES, 3, 5, np.random.default_rng(seed))
    assert x.shape == (5,) and np.all((x >= 0) & (x <= 0.09 + 1e-12))


def test_nn_label_predictions_are_the_noisy_labels_of_the_neighbours_same_stream():
    y = np.random.default_rng(1).integers(0, 10, size=300)
    idx = np.random.default_rng(2).integers(0, 300, size=120)
    p = T.linear_rates(0.45)
    want = S.noisy_binary_labels(np.repeat(y[:, None], 7, axis=1), p, np.random.default_rng(3))[idx]
    got = S.nn_label_predictions(y, idx, p, 7, np.random.default_rng(3))
    assert got.dtype == np.uint8 and np.array_equal(got, want)
    with pytest.raises(ValueError, match="y_train contains class 10"):
        S.nn_label_predictions([0, 10], [0], p, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="nn_idx"):
        S.nn_label_predictions([0, 1], [2], p, 2, np.random.default_rng(0))


def test_class_rates_equal_one_bincount_per_draw():
    rng = np.random.default_rng(4)
    y = np.concatenate([np.arange(10), rng.integers(0, 10, size=190)])
    pred = (rng.random((200, 9)) < 0.3).astype(np.int64)
    want = np.stack([np.bincount(y, weights=pred[:, r], minlength=10) for r in range(9)]) / np.bincount(y, minlength=10)
    assert np.array_equal(S.class_rates(pred, y, 10), want)
    with pytest.raises(ValueError, match="no point of class 2"):
        S.class_rates(np.ones((2, 1), dtype=int), [0, 1], 3)


def test_line_nn_classes_with_tied_positions_keeps_the_stable_order():
    # widths below the resolution of the lefts: every training and test point lies exactly at 1.0 (all tied);
    # the nearest neighbour is then the first training point of its row (the stable sort's order, as brute force)
    lefts, widths, w = np.array([1.0, 1.0]), np.array([1e-300, 1e-300]), np.array([0.5, 0.5])
    tc = np.random.default_rng(1).integers(0, 2, size=(40, 5))
    cls, nn = S.line_nn_classes(12, lefts, widths, w, tc, np.random.default_rng(2))
    assert np.array_equal(nn, np.repeat(cls[:, :1], 5, axis=1))


def test_kernel_interpolator_kept_kernels_give_the_fresh_numbers():
    """The kernel matrices kept for cached (read-only) distances and the one coefficient solve of
    predict_at give the same bits as an interpolator that recomputes everything; writeable
    distances are never kept (they could change), kept matrices are read-only, at most 3."""
    rng = np.random.default_rng(11)
    x, xs = rng.random((60, 5)), [rng.random((m, 5)) for m in (30, 20, 10, 5)]
    labels = (rng.random((60, 4)) < 0.4).astype(np.int64)
    d_train = S.squared_distances(x, x)
    d_train.flags.writeable = False
    cached = S.KernelInterpolator(x, sq_dists=d_train)
    fresh = S.KernelInterpolator(x)
    assert cached.bandwidth == fresh.bandwidth
    ds = []
    for xt in xs:
        d = S.squared_distances(xt, x)
        d.flags.writeable = False
        ds.append(d)
    for _ in range(2):  # second pass: from the kept matrices
        got = cached.predict_at(labels, [(x, d_train)] + [(xt, d) for xt, d in zip(xs, ds)])
        want = [fresh.predict(labels, xt) for xt in [x] + xs]
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
        assert np.array_equal(cached.regress(labels, xs[0], ds[0]), fresh.regress(labels, xs[0]))
    assert len(cached._kept) == 3 and all(not k.flags.writeable for _, k in cached._kept)
    assert cached._kept[0][0] is d_train and np.array_equal(cached._kept[0][1], S._gaussian_kernel(d_train, cached.bandwidth))
    d = S.squared_distances(xs[0], x)  # writeable: used, not kept
    before = len(cached._kept)
    assert np.array_equal(cached.predict(labels, xs[0], d), want[1])
    d[:] = 0.0
    assert np.array_equal(cached.predict(labels, xs[0], d), fresh.predict(labels, xs[0], d)) and len(cached._kept) == before
