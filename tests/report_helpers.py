"""Inputs of the report and docs tests: a real verify report (one claim of every kind, with
mutants) and one real figure, made once per test session (:func:`shared_dir`), a claim on
measured results, a tiny PNG."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

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


def shared_dir(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` run once per test session, also under pytest-xdist, whose workers may split
    a module's tests (and so run its module-scoped fixtures once each): the folder lives in the
    session's base temp folder, the first worker makes it under a file lock, the others wait and
    reuse it. A ``make`` that raises leaves no folder behind (the next caller tries again)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent                         # shared by the workers of this session
    folder, done = base / name, base / f"{name}.done"
    try:
        import fcntl
    except ImportError:                            # no flock (Windows): one copy per process
        fcntl, folder, done = None, tmp_path_factory.mktemp(name), None
    with open(base / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)       # released when the file is closed
        if done is None or not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                make(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            if done is not None:
                done.write_text("made\n")
    return folder


def _make_verify_report(root: Path) -> None:
    from claimcheck.cli import main
    from claimcheck.paper_figures import FIGURES, style

    code = main(["verify", *CLAIMS, "--budget", "quick", "--mutants", "--json", str(root / "verify.json")])
    assert code == 0, code
    mod = FIGURES[FIGURE]
    style.render(mod.draw, mod.data(0, reps=FIGURE_REPS), root / "figures", FIGURE)


def verify_report(tmp_path_factory) -> tuple[Path, Path]:
    """A `claimcheck verify --mutants --json` report of CLAIMS and a folder with FIGURE.png, made
    once per test session (the report and browser tests only read them); returns (report path,
    figures folder)."""
    root = shared_dir(tmp_path_factory, "verify-report", _make_verify_report)
    return root / "verify.json", root / "figures"


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
