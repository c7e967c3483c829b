"""Inputs of the report tests: a real verify report (one claim of every kind, with mutants) and
one real figure, made once per test process."""
from __future__ import annotations

from pathlib import Path

# One claim of each kind, a deterministic qualitative one, and one whose figure is drawn.
CLAIMS = (
    "ridgeless.minnorm_finite",          # exact
    "ridgeless.minnorm_asymptotic",      # asymptotic
    "pac_bayes.coverage",                # coverage
    "distributional.dp_implies_dg",      # bound
    "pac_bayes.kl_bound_ordering",       # qualitative, deterministic
    "ridgeless.samplewise_nonmonotone",  # qualitative curve; figure double_descent_samplewise
)
FIGURE = "double_descent_samplewise"
FIGURE_REPS = 20  # enough for error bars; the figure's content is tested elsewhere


def verify_report(root: Path) -> tuple[Path, Path]:
    """In ``root``: a `claimcheck verify --mutants --json` report and a folder with FIGURE.png;
    returns (report path, figures folder)."""
    from claimcheck.cli import main
    from claimcheck.paper_figures import FIGURES, style

    report = root / "verify.json"
    code = main(["verify", *CLAIMS, "--budget", "quick", "--mutants", "--json", str(report)])
    assert code == 0, code
    mod = FIGURES[FIGURE]
    style.render(mod.draw, mod.data(0, reps=FIGURE_REPS), root / "figures", FIGURE)
    return report, root / "figures"
