"""Paper figures, one test per figure: the plotted data are reproducible (same seed, same
arrays; another seed changes the simulated arrays only), every simulated point carries a
finite error bar, and the figure drawn from those arrays is a PDF + PNG at the venue width,
written without temporary files or global rcParams changes. (Style, venue and registry
tests are in tests/test_paper_figures.py.)
"""
from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
from PIL import Image

from claimcheck.paper_figures import FIGURES, style

SMALL_REPS = 5  # >= 2 for a standard error; the tests compare arrays only, so fewer reps cost nothing


FEW_REPS = {"feature_calibration": 2}
"""Figures whose replicates are model refits (feature calibration: an MNIST tree ~0.75 s and the
digits MLP ~2 s a fit, on 2 shared cores): the smallest reps that still gives every error bar."""


def _reps(name: str) -> int:
    """SMALL_REPS (FEW_REPS where set), or the figure's own default when that is smaller."""
    return min(FEW_REPS.get(name, SMALL_REPS), getattr(FIGURES[name], "REPS", SMALL_REPS))


SMALLER = {
    "feature_calibration": {"SIZES": {"digits": (300, 240), "mnist": (300, 480)}},
    "pac_bayes_tuning": {"K_SIM": np.array([1, 1_000, 10_000, 100_000, 10_000_000]), "K_LINE_POINTS": 6},
    "pac_bayes_coverage": {"G_LINE": np.array([1, 4, 10]), "G_SIM": np.array([1, 4, 10]),
                           "SIGMAS": np.array([0.04, 0.15, 0.5])},
    "deep_bootstrap_dynamics": {"B_GRID": np.linspace(0.02, 2.2, 23), "SPECTRAL_REPS": 200},
    "marginal_likelihood_selection": {"PRIOR_VARS": np.geomspace(1e-3, 1e4, 8)},
    "dp_generalization": {"EPS_LINE_POINTS": 16},
    "ridgeless_anisotropic": {"P_LINE": 60, "SIM_P": np.array([3, 15, 90])},
}
"""Module constants made smaller for this test (the same code paths; ``make verify`` draws every
figure at full size): the figures whose cost is fixed work that ``reps`` does not scale.
Feature calibration refits its models on smaller training sets and test pools (the digits MLP
~2 s a fit at 1000 points); the two PAC-Bayes figures compute their exact coverage lines by
kl-inverse bisection (~3 and ~1.5 CPU s a call at their full grids, 3 calls here; the Occam
panel's cost grows with the largest G): a few points of each line and of each simulated row,
among them the first point of the full grid and points where the 5-draw frequencies differ
between the seeds; the other theory lines on coarser grids (~0.3 s a call each at full size)."""


def _smaller_experiments(monkeypatch, name: str) -> None:
    """The module constants of SMALLER, set for this test only."""
    module = FIGURES[name]
    for attr, value in SMALLER.get(name, {}).items():
        assert hasattr(module, attr), (name, attr)      # a renamed constant must not go unnoticed
        monkeypatch.setattr(module, attr, value)


COLUMN = {"double_descent_modelwise": "full", "double_descent_samplewise": "half"}
"""Figures whose column width is pinned (the others must be one of the two widths)."""


def _rc_snapshot() -> dict:
    return {k: repr(v) for k, v in matplotlib.rcParams.items()}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_data_are_reproducible_have_error_bars_and_draw_at_the_venue_width(name, tmp_path, monkeypatch):
    """One test per figure, so its data are computed once, on one pytest-xdist worker. The
    drawing is the same code at any reps (`make verify` draws at the defaults)."""
    _smaller_experiments(monkeypatch, name)
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
    before = _rc_snapshot()
    paths = style.render(FIGURES[name].draw, a, tmp_path, name, venue="neurips")
    assert _rc_snapshot() == before                      # no global rcParams change
    assert [p.name for p in paths] == [f"{name}.pdf", f"{name}.png"]
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in paths)   # no temporary file left
    assert all(p.stat().st_size > 1000 for p in paths) and paths[0].read_bytes()[:5] == b"%PDF-"
    with Image.open(paths[1]) as im:
        im.load()
        width, height = im.size
    widths = {c: style.figsize("neurips", column=c)[0] * style.PNG_DPI for c in ("full", "half")}
    allowed = [widths[COLUMN[name]]] if name in COLUMN else list(widths.values())
    assert min(abs(width - w) for w in allowed) <= 3, (width, allowed)
    assert height > 100
