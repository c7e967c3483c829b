"""Paper figures: the plotted data are reproducible (same seed, same arrays; another seed
changes the simulated arrays only) and every simulated point carries a finite error bar.

Kept apart from tests/test_paper_figures.py (which renders every figure) so that the two
halves run on different pytest-xdist workers.
"""
from __future__ import annotations

import numpy as np
import pytest

from paper_figures import FIGURES

SMALL_REPS = 5  # >= 2 for a standard error; the tests compare arrays only, so fewer reps cost nothing


def _reps(name: str) -> int:
    """SMALL_REPS, or the figure's own default when that is smaller (e.g. fits per class)."""
    return min(SMALL_REPS, getattr(FIGURES[name], "REPS", SMALL_REPS))


_SEED0: dict[str, dict] = {}


def _seed0(name: str) -> dict:
    """data(seed=0) of a figure, computed once per test session (the tests below only read it)."""
    if name not in _SEED0:
        _SEED0[name] = FIGURES[name].data(0, reps=_reps(name))
    return _SEED0[name]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_seed_gives_identical_data_and_another_seed_differs(name):
    data, reps = FIGURES[name].data, _reps(name)
    a, b, c = _seed0(name), data(0, reps=reps), data(1, reps=reps)
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    simulated = [k for k in a if "sim_mean" in k or "sim_se" in k]
    assert simulated
    for key in simulated:
        assert not np.array_equal(a[key], c[key]), key
    for key in set(a) - set(simulated):  # theory does not depend on the seed
        np.testing.assert_array_equal(a[key], c[key], err_msg=key)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_simulated_point_has_a_finite_error_bar(name):
    d = _seed0(name)
    for key in (k for k in d if "sim_se" in k):
        se = d[key]
        assert np.all(np.isfinite(se)) and np.all(se > 0), key
        assert se.shape == d[key.replace("sim_se", "sim_mean")].shape
