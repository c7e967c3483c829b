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


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_same_seed_same_data_another_seed_differs_and_every_point_has_an_error_bar(name):
    """One test per figure, so its three data() calls run once on one pytest-xdist worker."""
    data, reps = FIGURES[name].data, _reps(name)
    a, b, c = data(0, reps=reps), data(0, reps=reps), data(1, reps=reps)
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    simulated = [k for k in a if "sim_mean" in k or "sim_se" in k]
    assert simulated
    for key in simulated:
        assert not np.array_equal(a[key], c[key]), key
    for key in set(a) - set(simulated):  # theory does not depend on the seed
        np.testing.assert_array_equal(a[key], c[key], err_msg=key)
    for key in (k for k in a if "sim_se" in k):   # every simulated point has a finite error bar
        se = a[key]
        assert np.all(np.isfinite(se)) and np.all(se > 0), key
        assert se.shape == a[key.replace("sim_se", "sim_mean")].shape
