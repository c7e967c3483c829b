"""Paper figures: files written atomically at the venue's size, style without global state,
claim -> figure selection, and reproducible plotted data."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from PIL import Image

from claimcheck import paper_figures
from claimcheck.paper_figures import FIGURES, figures_for_claims, make_all, style

ROOT = Path(__file__).resolve().parents[1]
SMALL_REPS = 50  # enough to exercise the simulation and drawing paths


def _rc_snapshot() -> dict:
    return {k: repr(v) for k, v in matplotlib.rcParams.items()}


def test_icml_figure_is_the_icml_column_width(tmp_path):
    paths = FIGURES["double_descent_samplewise"].make(tmp_path, venue="icml", reps=SMALL_REPS)
    with Image.open(paths[1]) as im:
        assert abs(im.size[0] - style.ICML_COLUMN_WIDTH_IN * style.PNG_DPI) <= 3
    assert sorted(os.listdir(tmp_path)) == ["double_descent_samplewise.pdf", "double_descent_samplewise.png"]


def test_rc_returns_a_fresh_dict_and_changes_no_global_state():
    before = _rc_snapshot()
    r = style.rc("icml", fontsize=8)
    assert isinstance(r, dict) and _rc_snapshot() == before
    assert r["pdf.fonttype"] == 42 and r["font.size"] == 8
    assert r["figure.figsize"] == style.figsize("icml")
    r["font.size"] = 99  # a caller mutating its copy affects no later call
    assert style.rc("icml", fontsize=8)["font.size"] == 8
    with matplotlib.rc_context(style.rc("neurips", font="cm")):  # every key is a valid rcParam
        pass
    assert _rc_snapshot() == before


@pytest.mark.parametrize("venue,column,width", [
    ("neurips", "full", 5.5), ("neurips", "half", 2.75), ("iclr", "full", 5.5),
    ("icml", "full", 6.75), ("icml", "half", 3.25),
])
def test_figsize_width_is_the_venue_width(venue, column, width):
    w, h = style.figsize(venue, column=column, nrows=2, ncols=2, height_to_width=0.5)
    assert w == width and h == pytest.approx(2 * 0.5 * width / 2)


@pytest.mark.parametrize("call", [
    lambda: style.figsize("nips"),
    lambda: style.rc("nips"),
    lambda: FIGURES["double_descent_samplewise"].make("unused", venue="nips", reps=2),  # the data are made first: few reps
])
def test_unknown_venue_is_rejected_naming_the_choices(call):
    with pytest.raises(ValueError, match=r"venue='nips', must be one of 'iclr', 'icml', 'neurips'"):
        call()


def test_bad_column_and_sizes_are_rejected():
    with pytest.raises(ValueError, match="column='third'"):
        style.figsize("icml", column="third")
    with pytest.raises(ValueError, match="nrows=0"):
        style.figsize("icml", nrows=0)
    with pytest.raises(ValueError, match="height_to_width"):
        style.figsize("icml", height_to_width=0)


def test_save_failure_leaves_no_temp_file_and_keeps_the_old_figure(tmp_path):
    (tmp_path / "fig.pdf").write_bytes(b"%PDF-old")

    class Broken:
        def savefig(self, fh, **kwargs):
            fh.write(b"partial")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        style.save(Broken(), tmp_path, "fig")
    assert os.listdir(tmp_path) == ["fig.pdf"]
    assert (tmp_path / "fig.pdf").read_bytes() == b"%PDF-old"


def test_figures_for_claims_selects_by_intersection():
    assert figures_for_claims(["ridgeless.minnorm_finite"]) == ["double_descent_modelwise"]
    assert figures_for_claims(["ridgeless.optimal_ridge_monotone", "pac_bayes.mcallester"]) == ["double_descent_samplewise"]
    assert figures_for_claims(["pac_bayes.mcallester"]) == []
    assert figures_for_claims([]) == figures_for_claims(None) == list(FIGURES)
    assert figures_for_claims("ridgeless.optimal_lambda") == ["double_descent_modelwise"]


def test_figure_registry_is_consistent():
    import claimcheck

    registered = set(claimcheck.claim_ids())
    for name, module in FIGURES.items():
        assert module.NAME == name
        assert module.CLAIMS and set(module.CLAIMS) <= registered, f"{name} cites unregistered claims"
    with pytest.raises(ValueError, match="names=\\['nope'\\]"):
        make_all("unused", names=["nope"])


def test_importing_the_package_does_not_import_matplotlib():
    code = (
        "import sys; from claimcheck import paper_figures; "
        "paper_figures.figures_for_claims(['ridgeless.minnorm_finite']); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_module_follows_the_protocol(name):
    """NAME, CLAIMS, REPS, data(seed, *, reps), draw(d, venue), make(out_dir, *, seed, venue, reps);
    make is style.render(draw, data(seed, reps=reps), ...) in every module (the rendering itself is
    tested per figure in tests/test_paper_figures_data.py)."""
    import inspect

    m = FIGURES[name]
    assert m.NAME == name and m.CLAIMS and isinstance(m.REPS, int) and m.REPS >= 1
    assert list(inspect.signature(m.data).parameters) == ["seed", "reps"]
    assert list(inspect.signature(m.draw).parameters) == ["d", "venue"]
    make = inspect.signature(m.make).parameters
    assert list(make) == ["out_dir", "seed", "venue", "reps"] and make["reps"].default == m.REPS
    assert "style.render(draw, data(seed, reps=reps), out_dir, NAME, venue=venue)" in inspect.getsource(m.make)


def test_package_exposes_its_api():
    assert set(paper_figures.__all__) == {"FIGURES", "figures_for_claims", "make_all", "draw", "process_groups"}


def test_process_groups_partition_the_figures_torch_figures_first():
    names = list(FIGURES)
    groups = paper_figures.process_groups(names)
    assert sorted(n for g in groups for n in g) == sorted(names)            # every figure once
    assert groups[0] == [n for n in names if n in paper_figures.TORCH_FIGURES] and set(paper_figures.TORCH_FIGURES) <= set(names)
    assert all(len(g) == 1 for g in groups[1:])
    assert paper_figures.process_groups(["pac_bayes_tuning"]) == [["pac_bayes_tuning"]]
    assert paper_figures.process_groups([]) == []
