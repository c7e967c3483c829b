"""Results of the GPU jobs: the figure helper.

A job keeps two things apart: its *statistic* and its *decision*, both in
:mod:`claimcheck.gpu_validation.rules` (torch-free; the job module's ``statistic`` and ``verdict``
delegate to it). The percentile bootstrap over seeds that decided the verdicts before lived here;
it under-covered at 3 seeds (~76% at a nominal 95%, ``benchmarks/results/gpu_verdicts.md``) and is
gone: the rules use Student t intervals over seeds (:class:`claimcheck.checks.ThresholdCI`).
"""
from __future__ import annotations

from typing import Callable

__all__ = ["save_figure"]


def save_figure(draw: Callable, out_dir, name: str) -> list[str]:
    """Draw one panel with ``draw(ax)`` in the project's paper style (NeurIPS, half column)
    and write ``out_dir/name.pdf`` + ``.png`` atomically (:func:`paper_figures.style.save`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from claimcheck.paper_figures import style

    with plt.rc_context(style.rc("neurips", column="half")):
        fig, ax = plt.subplots()
        draw(ax)
        return [str(p) for p in style.save(fig, out_dir, name)]
