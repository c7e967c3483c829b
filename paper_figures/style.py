"""Paper figure style: venue widths, rcParams as plain dicts, atomic PDF + PNG output.

Modelled on tueplots (``tueplots/figsizes.py``, ``bundles.py``): every style setting is a
pure, keyword-only function returning a plain ``dict`` (combine with ``{**a, **b}`` and
apply locally with ``matplotlib.rc_context``); venue widths are named constants with
their source. Importing this module changes no global state and does not import
matplotlib; figures are built on ``matplotlib.figure.Figure`` (no pyplot, no backend
switch) and rendered by the Agg (PNG) and PDF canvases at save time.

Example (the figure modules do exactly this)::

    import matplotlib
    from matplotlib.figure import Figure
    from claimcheck.paper_figures import style

    with matplotlib.rc_context(style.rc("icml")):
        fig = Figure(figsize=style.figsize("icml", column="half"))
        fig.add_subplot().plot([0, 1], [0, 1])
        style.save(fig, "figures", "example")   # figures/example.pdf, figures/example.png
"""
from __future__ import annotations

import io
import math
import os
import sys
from pathlib import Path
from typing import Any, Iterable

from claimcheck.io import atomic_write_bytes
from claimcheck.theory.validation import check_int, check_real

__all__ = [
    "POINTS_PER_INCH",
    "GOLDEN_RATIO",
    "NEURIPS_TEXT_WIDTH_IN",
    "ICML_COLUMN_WIDTH_IN",
    "ICML_TEXT_WIDTH_IN",
    "ICLR_TEXT_WIDTH_IN",
    "VENUES",
    "COLUMNS",
    "PNG_DPI",
    "PALETTE",
    "DEFAULT_VENUE",
    "figsize",
    "rc",
    "check_venue",
    "venue_dir",
    "render",
    "draw_figure",
    "save",
    "parse_size",
    "parse_rc",
]

POINTS_PER_INCH = 72.27
"""TeX points per inch (``\\showthe\\textwidth`` reports TeX points, not PostScript points)."""

GOLDEN_RATIO = (5.0**0.5 - 1.0) / 2.0
"""Default height-to-width ratio of one panel."""

NEURIPS_TEXT_WIDTH_IN = 5.5
"""NeurIPS ``\\textwidth`` = 397.48499pt = 5.5 in (``neurips_2024.sty``: ``\\textwidth 5.5in``;
single-column format). tueplots ``figsizes.neurips2024`` uses the same base width."""

ICML_COLUMN_WIDTH_IN = 3.25
"""ICML ``\\columnwidth`` = 234.8775pt = 3.25 in (``icml2024.sty``: two columns of 3.25 in
with a 0.25 in gap). tueplots ``figsizes.icml2024_half``."""

ICML_TEXT_WIDTH_IN = 6.75
"""ICML ``\\textwidth`` = 487.8225pt = 6.75 in (``icml2024.sty``), for ``figure*`` floats.
tueplots ``figsizes.icml2024_full``."""

ICLR_TEXT_WIDTH_IN = 5.5
"""ICLR ``\\textwidth`` = 397.48499pt = 5.5 in (``iclr2024_conference.sty``, inherited from the
NeurIPS layout; single-column). tueplots ``figsizes.iclr2024``."""

# venue -> (full width, half width) in inches. "half" is the column of a two-column venue
# (ICML) and half the text width for single-column venues (NeurIPS, ICLR: two figures
# side by side, or a wrapped figure), as tueplots' ``rel_width=0.5``.
_WIDTHS_IN = {
    "neurips": (NEURIPS_TEXT_WIDTH_IN, NEURIPS_TEXT_WIDTH_IN / 2),
    "icml": (ICML_TEXT_WIDTH_IN, ICML_COLUMN_WIDTH_IN),
    "iclr": (ICLR_TEXT_WIDTH_IN, ICLR_TEXT_WIDTH_IN / 2),
}
VENUES = tuple(sorted(_WIDTHS_IN))
DEFAULT_VENUE = "neurips"
"""The venue whose figures live directly in the output folder; every other venue, and any
figure drawn at a user's own size or rcParams, gets a sub-folder (:func:`venue_dir`)."""
COLUMNS = ("half", "full")
FONTS = ("times", "cm")

PNG_DPI = 300
"""Raster resolution of the PNG copy (the PDF is vector)."""

PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
"""Okabe & Ito (2008) colour-blind-safe palette, "Color Universal Design"."""

_CYCLE = ("blue", "vermillion", "green", "orange", "purple", "sky_blue", "black")


def _check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``; else ValueError naming both."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r}, must be one of {allowed}")
    return value


def figsize(
    venue: str = "neurips",
    *,
    column: str = "full",
    nrows: int = 1,
    ncols: int = 1,
    height_to_width: float = GOLDEN_RATIO,
) -> tuple[float, float]:
    """(width, height) in inches: the venue's width, each panel ``height_to_width`` tall.

    ``column="full"`` is the text width, ``"half"`` the ICML column (or half the text width of
    the single-column venues). The height is ``nrows * height_to_width * width / ncols``.

    >>> figsize("icml", column="half")
    (3.25, 2.0086104634371584)
    >>> figsize("neurips", ncols=2, height_to_width=0.75)
    (5.5, 2.0625)
    """
    venue = _check_choice("venue", venue, VENUES)
    column = _check_choice("column", column, COLUMNS)
    nrows = check_int("nrows", nrows, min_value=1)
    ncols = check_int("ncols", ncols, min_value=1)
    height_to_width = check_real("height_to_width", height_to_width, min_value=0, include_min=False)
    full, half = _WIDTHS_IN[venue]
    width = full if column == "full" else half
    return (width, nrows * height_to_width * width / ncols)


def _font_rc(font: str) -> dict:
    if font == "times":
        # NeurIPS, ICML and ICLR all set their text in Times; STIX is a Times-compatible
        # family shipped with matplotlib, so text and math match without a LaTeX install.
        return {
            "font.family": "serif",
            "font.serif": ["STIXGeneral", "DejaVu Serif"],
            "mathtext.fontset": "stix",
        }
    # Computer Modern (cmr10 ships with matplotlib). cmr10 has no Unicode minus, so tick
    # labels go through mathtext.
    return {
        "font.family": "serif",
        "font.serif": ["cmr10", "DejaVu Serif"],
        "mathtext.fontset": "cm",
        "axes.formatter.use_mathtext": True,
        "axes.unicode_minus": True,
    }


def rc(
    venue: str = "neurips",
    *,
    fontsize: float = 9.0,
    font: str = "times",
    column: str = "full",
    nrows: int = 1,
    ncols: int = 1,
) -> dict:
    """rcParams for a paper figure at ``venue`` (a new plain dict; nothing global changes).

    Labels at ``fontsize`` pt, ticks and legend 1 pt smaller (8-9 pt reads like a paper's
    footnote size); ``font="times"`` (the venues' body font, via STIX) or ``"cm"`` (Computer
    Modern); TrueType fonts embedded in the PDF (``pdf.fonttype`` 42, as camera-ready
    checks require); thin lines; constrained layout; ``figure.figsize`` from :func:`figsize`.

    >>> r = rc("icml", column="half")
    >>> r["figure.figsize"], r["pdf.fonttype"], r["font.size"]
    ((3.25, 2.0086104634371584), 42, 9.0)
    """
    venue = _check_choice("venue", venue, VENUES)
    font = _check_choice("font", font, FONTS)
    fontsize = check_real("fontsize", fontsize, min_value=0, include_min=False)
    small = fontsize - 1.0
    colors = ", ".join(repr(PALETTE[c]) for c in _CYCLE)
    return {
        **_font_rc(font),
        "font.size": fontsize,
        "axes.labelsize": fontsize,
        "axes.titlesize": fontsize,
        "figure.titlesize": fontsize,
        "legend.fontsize": small,
        "legend.title_fontsize": small,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "axes.linewidth": 0.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": f"cycler('color', [{colors}])",
        "axes.titlepad": 3.0,
        "axes.labelpad": 2.0,
        "lines.linewidth": 1.0,
        "lines.markersize": 3.0,
        "lines.markeredgewidth": 0.5,
        "errorbar.capsize": 1.5,
        "patch.linewidth": 0.5,
        "grid.linewidth": 0.4,
        "grid.alpha": 0.5,
        "xtick.major.width": 0.5,
        "ytick.major.width": 0.5,
        "xtick.minor.width": 0.4,
        "ytick.minor.width": 0.4,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.minor.size": 1.5,
        "ytick.minor.size": 1.5,
        "xtick.major.pad": 2.0,
        "ytick.major.pad": 2.0,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "legend.handletextpad": 0.4,
        "legend.borderaxespad": 0.3,
        "legend.labelspacing": 0.25,
        "legend.columnspacing": 1.0,
        "figure.constrained_layout.use": True,
        "figure.constrained_layout.h_pad": 0.02,
        "figure.constrained_layout.w_pad": 0.02,
        "figure.figsize": figsize(venue, column=column, nrows=nrows, ncols=ncols),
        "figure.dpi": 150,
        "savefig.dpi": PNG_DPI,
        "savefig.bbox": None,  # keep the exact venue width (no tight bbox)
        "savefig.pad_inches": 0.015,
    }


def parse_size(text: "str | None"):
    """``"3.25,2"`` -> (3.25, 2.0) (the command lines' ``--size``); None stays None.

    >>> parse_size("3.25,2")
    (3.25, 2.0)
    """
    if text is None:
        return None
    parts = text.split(",")
    try:
        w, h = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"size={text!r}, must be W,H in inches (e.g. 3.25,2)") from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise ValueError(f"size={text!r}, width and height must be > 0")
    return (w, h)


def parse_rc(items: Iterable[str]) -> dict[str, Any]:
    """``["font.size=10", "axes.grid=true"]`` -> rcParams, each validated by matplotlib.

    >>> parse_rc(["font.size=10"])
    {'font.size': 10.0}
    """
    import matplotlib

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in matplotlib.rcParams:
            raise ValueError(f"rc={item!r}, must be KEY=VALUE with KEY a matplotlib rcParam (e.g. font.size=10)")
        try:
            out[key] = matplotlib.rcParams.validate[key](value.strip())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"rc {key}={value!r}: {exc}") from None
    return out


def _close(fig) -> None:
    """Release ``fig`` from pyplot's registry if pyplot manages it (never imports pyplot)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    figure_mod = sys.modules.get("matplotlib.figure")
    if pyplot is not None and figure_mod is not None and isinstance(fig, figure_mod.Figure):
        pyplot.close(fig)  # a no-op for figures made with Figure() directly


def check_venue(venue: str) -> str:
    """``venue`` if it is one of :data:`VENUES`; else ValueError naming the choices."""
    return _check_choice("venue", venue, VENUES)


def venue_dir(out_dir, venue: str = DEFAULT_VENUE, *, custom: bool = False) -> Path:
    """Where figures for ``venue`` go so they never overwrite the default ones.

    ``out_dir`` itself for the default venue (NeurIPS) at its own size; ``out_dir/VENUE`` for
    another venue; ``out_dir/VENUE-custom`` when the user's size or rcParams were applied.

    >>> venue_dir("figures").as_posix(), venue_dir("figures", "icml").as_posix()
    ('figures', 'figures/icml')
    >>> venue_dir("figures", "neurips", custom=True).as_posix()
    'figures/neurips-custom'
    """
    venue = check_venue(venue)
    out_dir = Path(out_dir)
    if venue == DEFAULT_VENUE and not custom:
        return out_dir
    return out_dir / (venue + ("-custom" if custom else ""))


def _check_size(size) -> tuple[float, float] | None:
    if size is None:
        return None
    try:
        w, h = (float(x) for x in size)
    except (TypeError, ValueError):
        raise ValueError(f"size={size!r}, must be (width, height) in inches") from None
    if not (0 < w < 100 and 0 < h < 100):
        raise ValueError(f"size={size!r}, width and height must be in (0, 100) inches")
    return (w, h)


def _params(venue: str, rc_overrides) -> dict:
    """The venue's rcParams with ``rc_overrides`` on top (unknown names are a ValueError)."""
    import matplotlib

    params = rc(venue)
    if rc_overrides:
        unknown = sorted(k for k in rc_overrides if k not in matplotlib.rcParams)
        if unknown:
            raise ValueError(f"rc_overrides has unknown rcParams {unknown}")
        params = {**params, **dict(rc_overrides)}
    return params


def draw_figure(draw, d, *, venue: str = "neurips", size=None, rc_overrides=None):
    """``draw(d, venue)`` under the venue's style with ``rc_overrides`` on top, resized to
    ``size`` (width, height) in inches: the Figure, not saved (for a notebook, or to edit it
    before :func:`save`). Changes no global state: the rcParams apply while drawing."""
    import matplotlib

    size = _check_size(size)
    with matplotlib.rc_context(_params(venue, rc_overrides)):
        fig = draw(d, venue)
        if size is not None:
            fig.set_size_inches(*size)
    return fig


def render(draw, d, out_dir, name: str, *, venue: str = "neurips", size=None, rc_overrides=None) -> list[Path]:
    """Draw ``draw(d, venue)`` under :func:`rc` for ``venue`` and write it with :func:`save`.

    The one way every figure module's ``make`` turns its data into files. ``size``
    (width, height) in inches replaces the venue's size after drawing (constrained layout
    re-flows the panels); ``rc_overrides`` (a dict of rcParams) is applied on top of the
    venue's style while drawing and saving. Neither changes any global state.
    """
    import matplotlib

    size = _check_size(size)
    with matplotlib.rc_context(_params(venue, rc_overrides)):
        fig = draw(d, venue)
        if size is not None:
            fig.set_size_inches(*size)
        return save(fig, out_dir, name)


def save(fig, out_dir, name: str) -> list[Path]:
    """Write ``out_dir/name.pdf`` (vector) and ``out_dir/name.png`` (300 dpi, laid out as the PDF); close ``fig``.

    Each file is written to a temporary file in ``out_dir`` and moved into place with
    ``os.replace``, so a reader never sees a half-written figure and an interrupted run
    leaves the previous version intact. Call inside the ``rc_context`` the figure was drawn
    with (font embedding and mathtext fonts are resolved at save time).
    Returns the two paths, PDF first.
    """
    if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
        raise ValueError(f"name={name!r}, must be a non-empty file stem without '{os.sep}' or a leading '.'")
    out_dir = Path(out_dir)
    paths = []
    try:
        for fmt in ("pdf", "png"):
            buf = io.BytesIO()
            kwargs = {"metadata": {"CreationDate": None}} if fmt == "pdf" else {}  # reproducible bytes
            fig.savefig(buf, format=fmt, dpi=PNG_DPI, **kwargs)
            paths.append(atomic_write_bytes(out_dir / f"{name}.{fmt}", buf.getvalue()))
            # the PNG keeps the panel positions the PDF's constrained layout just computed (the
            # same layout in both files, and no second layout pass: 9 figures' PNGs 5.8 -> 3.4 CPU s)
            fig.set_layout_engine("none")
    finally:
        _close(fig)
    return paths
