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


_MADE: dict[str, tuple[Path, Path]] = {}


def verify_report(root: Path) -> tuple[Path, Path]:
    """In ``root``: a `claimcheck verify --mutants --json` report and a folder with FIGURE.png;
    returns (report path, figures folder). Made once per test process: a later call returns
    the first call's files (the report and browser tests only read them)."""
    if "made" in _MADE and all(p.exists() for p in _MADE["made"]):
        return _MADE["made"]
    from claimcheck.cli import main
    from claimcheck.paper_figures import FIGURES, style

    report = root / "verify.json"
    code = main(["verify", *CLAIMS, "--budget", "quick", "--mutants", "--json", str(report)])
    assert code == 0, code
    mod = FIGURES[FIGURE]
    style.render(mod.draw, mod.data(0, reps=FIGURE_REPS), root / "figures", FIGURE)
    _MADE["made"] = (report, root / "figures")
    return _MADE["made"]


# A claim decided on *measured* results (evidence="measurement"), like the GPU jobs' gpu.* claims,
# without depending on them: its check is a t-interval over seeds (ThresholdCI), its "simulation"
# reads a result file (parameter ``result``) and raises DataUnavailable (verify: SKIPPED) when the
# file is absent; its mutant replaces the measured result by one without the effect.
MEASURED_ID = "mine.measured_gap"
MEASURED_MODULE = '''
import json
from pathlib import Path

from hypothesis import strategies as st

from claimcheck import Claim, Estimate, Mutant
from claimcheck.checks import ThresholdCI
from claimcheck.errors import DataUnavailable


def measured(result):
    path = Path(result)
    if not path.is_file():
        raise DataUnavailable(f"no measured result: {path} is absent")
    return json.loads(path.read_text())


def simulate(params, reps, rng, predict):
    return Estimate.from_samples(predict(**params)["gap"])


CLAIMS = [Claim(
    id="mine.measured_gap", title="The gap is positive on a trained net", statement=r"\\mathbb E\\,\\mathrm{gap} > 0",
    source="a measured run", check=ThresholdCI(threshold=0.0, alpha=0.05), predict=measured,
    domain=st.fixed_dictionaries({"result": st.just(RESULT)}), default={"result": RESULT},
    verify_points=({"result": ABSENT},), simulate=simulate, simulate_takes_predict=True, reps=1,
    mutants=(Mutant("no_gap", "the gap is -0.1 on every seed", lambda result: {"gap": [-0.1, -0.12, -0.09, -0.11]}),),
    evidence="measurement",
)]
'''


def measured_claim(root: Path) -> tuple[Path, Path]:
    """In ``root``: a measured result (gap over four seeds) and a module registering MEASURED_ID
    (its default point reads that result, its second point a file that is absent); returns
    (module path, result path)."""
    import json

    result = root / "result.json"
    result.write_text(json.dumps({"gap": [0.3, 0.25, 0.35, 0.28]}))
    module = root / "measured_claims.py"
    module.write_text(MEASURED_MODULE.replace("RESULT", repr(str(result))).replace("ABSENT", repr(str(root / "absent.json"))))
    return module, result


def tiny_png(path: Path, width: int = 4, height: int = 3) -> None:
    """A small valid RGB PNG (grey): what the catalogue embeds needs no drawn figure (the figures
    themselves are tested in test_paper_figures.py)."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
