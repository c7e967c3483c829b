"""Figures for another venue, or at the user's size and rcParams, go to their own folder and never
overwrite the default figures; ``style.render`` applies the size and the rcParams it is given."""
from __future__ import annotations

import pytest

from claimcheck.cli import EXIT_OK, EXIT_USAGE, main
from claimcheck.paper_figures import FIGURES, draw, make_all, style

NAME = "double_descent_samplewise"


_DATA: dict = {}


@pytest.fixture
def cheap(monkeypatch):
    """The figure's data at 5 replicates, computed once (the drawing and the file logic are what
    is tested; the data are the same for every venue and size)."""
    mod = FIGURES[NAME]
    full = mod.data

    def data(seed=0, *, reps=None):
        if seed not in _DATA:
            _DATA[seed] = full(seed, reps=5)
        return _DATA[seed]

    monkeypatch.setattr(mod, "data", data)
    return mod


def test_other_venues_and_custom_sizes_never_overwrite_the_default_figures(cheap, tmp_path):
    default = make_all(tmp_path, names=[NAME])
    assert [p.parent for p in default] == [tmp_path, tmp_path]
    before = {p: p.read_bytes() for p in default}
    icml = make_all(tmp_path, names=[NAME], venue="icml")
    custom = make_all(tmp_path, names=[NAME], size=(3.0, 2.0), rc={"font.size": 7.0})
    icml_custom = make_all(tmp_path, names=[NAME], venue="icml", rc={"font.size": 7.0})
    assert [p.parent.name for p in icml + custom + icml_custom] == ["icml"] * 2 + ["neurips-custom"] * 2 + ["icml-custom"] * 2
    assert {p: p.read_bytes() for p in default} == before          # the defaults are untouched


def test_render_applies_the_users_size_and_rcparams(cheap, tmp_path):
    from matplotlib import image

    d = cheap.data(0)
    pdf, png = style.render(cheap.draw, d, tmp_path, "red", size=(3.0, 2.0), rc_overrides={"axes.facecolor": "#ff0000"})
    px = image.imread(png)[..., :3]
    assert px.shape[:2] == (2.0 * style.PNG_DPI, 3.0 * style.PNG_DPI)
    red = (px[..., 0] > 0.9) & (px[..., 1] < 0.1) & (px[..., 2] < 0.1)
    assert red.mean() > 0.2                                          # the axes background took the override
    _, plain = style.render(cheap.draw, d, tmp_path, "plain")
    assert image.imread(plain).shape[1] == round(style.NEURIPS_TEXT_WIDTH_IN / 2 * style.PNG_DPI)   # venue half width
    with pytest.raises(ValueError, match=r"unknown rcParams \['axes.facecolour'\]"):
        style.render(cheap.draw, d, tmp_path, "bad", rc_overrides={"axes.facecolour": "red"})
    with pytest.raises(ValueError, match=r"size=\(0, 2\), width and height must be in \(0, 100\) inches"):
        style.render(cheap.draw, d, tmp_path, "bad", size=(0, 2))


def test_figures_command_takes_size_and_rc(cheap, tmp_path, capsys):
    args = ["figures", "ridgeless.samplewise_nonmonotone", "--out", str(tmp_path), "--venue", "icml"]
    assert main(args + ["--size", "3,2", "--rc", "font.size=7"]) == EXIT_OK
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.p*")) == [
        f"icml-custom/{NAME}.pdf", f"icml-custom/{NAME}.png"]
    capsys.readouterr()
    assert main(args + ["--rc", "lines.linewidth=thick"]) == EXIT_USAGE
    assert "rc lines.linewidth='thick'" in capsys.readouterr().err


def test_draw_returns_the_figure_at_the_users_size_and_rcparams(cheap):
    fig = draw(NAME, size=(3.0, 2.0), rc={"axes.facecolor": "#ff0000", "xtick.labelsize": 6.0})
    assert tuple(fig.get_size_inches()) == (3.0, 2.0)
    assert all(ax.get_facecolor()[:3] == (1.0, 0.0, 0.0) for ax in fig.axes if ax.get_label() != "<colorbar>")
    assert {t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels()} == {6.0}
    import matplotlib

    assert matplotlib.rcParams["axes.facecolor"] != "#ff0000"        # no global state changed
    plain = draw(NAME)
    assert tuple(plain.get_size_inches()) == pytest.approx(style.figsize("neurips", column="half", height_to_width=0.8))
    with pytest.raises(ValueError, match=r"unknown rcParams \['axes.facecolour'\]"):
        draw(NAME, rc={"axes.facecolour": "red"})
    with pytest.raises(ValueError, match="name='nope', must be one of"):
        draw("nope")
