"""Paper-ready figures, one module per figure; each writes ``NAME.pdf`` and ``NAME.png``.

Every figure module has ``NAME``, ``CLAIMS`` (the claim ids it illustrates),
``data(seed, *, reps)`` (every plotted array; the same seed gives the same arrays),
``draw(d, venue) -> Figure`` (the figure from those arrays: redraw saved data at another
venue without recomputing it, via ``style.render(module.draw, d, out_dir, NAME, venue=...)``) and
``make(out_dir, *, seed, venue, reps) -> [pdf, png]``. Importing this package imports
neither the figure modules nor matplotlib; :data:`FIGURES` loads a module on first access,
and the figure modules import matplotlib only inside ``make``.

>>> sorted(FIGURES)  # doctest: +NORMALIZE_WHITESPACE
['deep_bootstrap', 'deep_bootstrap_dynamics', 'double_descent_modelwise', 'double_descent_samplewise',
 'dp_generalization', 'feature_calibration', 'marginal_likelihood_selection', 'pac_bayes_coverage',
 'pac_bayes_tuning', 'ridgeless_anisotropic', 'uniform_convergence']
>>> figures_for_claims(["ridgeless.samplewise_nonmonotone"])
['double_descent_samplewise']
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

__all__ = ["FIGURES", "figures_for_claims", "make_all", "draw", "process_groups"]

_MODULES = {
    "double_descent_modelwise": "claimcheck.paper_figures.double_descent",
    "double_descent_samplewise": "claimcheck.paper_figures.samplewise",
    "pac_bayes_tuning": "claimcheck.paper_figures.pac_bayes",
    "marginal_likelihood_selection": "claimcheck.paper_figures.marginal_likelihood",
    "deep_bootstrap": "claimcheck.paper_figures.deep_bootstrap",
    "uniform_convergence": "claimcheck.paper_figures.uniform_convergence",
    "feature_calibration": "claimcheck.paper_figures.feature_calibration",
    "ridgeless_anisotropic": "claimcheck.paper_figures.ridgeless_anisotropic",
    "deep_bootstrap_dynamics": "claimcheck.paper_figures.deep_bootstrap_dynamics",
    "pac_bayes_coverage": "claimcheck.paper_figures.pac_bayes_coverage",
    "dp_generalization": "claimcheck.paper_figures.dp_generalization",
}


class _LazyModules(Mapping):
    """Read-only mapping figure name -> module, importing each module on first access."""

    def __init__(self, modules: dict[str, str]):
        self._modules = dict(modules)

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._modules:
            allowed = ", ".join(repr(n) for n in self._modules)
            raise KeyError(f"figure {name!r} is unknown, must be one of {allowed}")
        return importlib.import_module(self._modules[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"FIGURES({', '.join(f'{k!r}: {v!r}' for k, v in self._modules.items())})"


FIGURES: Mapping[str, ModuleType] = _LazyModules(_MODULES)
"""Figure name -> figure module (imported lazily)."""

TORCH_FIGURES = ("uniform_convergence", "feature_calibration")
"""Figures whose data train torch networks (the hypersphere sweep, the digits MLP). ``claimcheck
figures --jobs N`` makes them in one worker process, first: importing torch and the Dynamo modules
its optimizers load costs ~6 CPU s a process, paid once instead of once per figure."""


def process_groups(names: Iterable[str]) -> list[list[str]]:
    """``names`` split into the figure lists one worker process makes in turn: the torch figures
    together, first (they are the longest), then every other figure on its own.

    >>> process_groups(["double_descent_modelwise", "feature_calibration", "uniform_convergence"])
    [['feature_calibration', 'uniform_convergence'], ['double_descent_modelwise']]
    """
    names = list(names)
    torch_group = [n for n in names if n in TORCH_FIGURES]
    return ([torch_group] if torch_group else []) + [[n] for n in names if n not in TORCH_FIGURES]


def figures_for_claims(claim_ids: Iterable[str] | None = None) -> list[str]:
    """Names of the figures whose ``CLAIMS`` share an id with ``claim_ids`` (all if empty/None)."""
    if isinstance(claim_ids, str):
        claim_ids = [claim_ids]
    wanted = set(claim_ids or ())
    if not wanted:
        return list(FIGURES)
    return [name for name, module in FIGURES.items() if wanted.intersection(module.CLAIMS)]


def make_all(out_dir, names: Iterable[str] | None = None, seed: int = 0, venue: str = "neurips", *,
             size=None, rc=None) -> list[Path]:
    """Make the named figures (all if ``names`` is None); return every file written.

    Files go to ``style.venue_dir(out_dir, venue, custom=...)``: ``out_dir`` itself for the
    default venue, ``out_dir/VENUE`` for another one and ``out_dir/VENUE-custom`` when ``size``
    (inches) or ``rc`` (rcParams) are given, so other versions never overwrite the defaults.
    """
    from claimcheck.paper_figures import style

    names = list(FIGURES) if names is None else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        allowed = ", ".join(repr(n) for n in FIGURES)
        raise ValueError(f"names={unknown!r}, each must be one of {allowed}")
    target = style.venue_dir(out_dir, venue, custom=size is not None or bool(rc))
    paths: list[Path] = []
    for name in names:
        mod = FIGURES[name]
        if size is None and not rc:
            paths.extend(mod.make(target, seed=seed, venue=venue))
        else:
            paths.extend(style.render(mod.draw, mod.data(seed), target, mod.NAME, venue=venue, size=size,
                                      rc_overrides=rc))
    return paths


def draw(name: str, d=None, *, seed: int = 0, venue: str = "neurips", size=None, rc=None):
    """The figure ``name`` as a matplotlib Figure at the user's ``size`` (width, height in
    inches) and ``rc`` (rcParams on top of the venue's style); not saved. ``d``: the figure's
    data (``FIGURES[name].data(seed)``, computed when None), so saved arrays are redrawn
    without recomputing them. ``make_all(..., size=, rc=)`` writes such figures to their own
    folder (never over the defaults).

    >>> from claimcheck.paper_figures import FIGURES
    >>> mod = FIGURES["double_descent_samplewise"]
    >>> fig = draw(mod.NAME, mod.data(0, reps=5), size=(3, 2), rc={"font.size": 7})
    >>> fig.get_size_inches().tolist()
    [3.0, 2.0]
    """
    from claimcheck.paper_figures import style

    if name not in FIGURES:
        allowed = ", ".join(repr(n) for n in FIGURES)
        raise ValueError(f"name={name!r}, must be one of {allowed}")
    mod = FIGURES[name]
    return style.draw_figure(mod.draw, mod.data(seed) if d is None else d, venue=venue, size=size, rc_overrides=rc)
