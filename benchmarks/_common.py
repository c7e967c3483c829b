"""Shared helpers for the benchmarks: machine info, atomic writes, robust summaries."""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from claimcheck.io import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def git_revision() -> str | None:
    """Short HEAD hash, with '-dirty' when the working tree has changes; None without git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return None
        out = rev.stdout.strip()
        st = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=10,
        )
        if st.returncode == 0 and st.stdout.strip():
            out += "-dirty"
        return out
    except (OSError, subprocess.SubprocessError):
        return None


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict:
    """What the numbers depend on: platform, cores, library versions, date, git revision."""
    try:
        import scipy

        scipy_version = scipy.__version__
    except ImportError:  # pragma: no cover
        scipy_version = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = None
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "load_average_at_start": load_average(),
        "numpy": np.__version__,
        "scipy": scipy_version,
        "thread_env": {k: os.environ[k] for k in _THREAD_VARS if k in os.environ},
        "git_revision": git_revision(),
    }


def write_results(out_dir, name: str, quick: bool, res: dict, markdown: str) -> None:
    """Write ``<name>[.quick].json`` (everything) and ``.md`` (tables) atomically; a quick run
    never overwrites the recorded full results."""
    stem = f"{name}.quick" if quick else name
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / f"{stem}.json", json.dumps(res, indent=2, sort_keys=False, allow_nan=True) + "\n")
    atomic_write_text(out_dir / f"{stem}.md", markdown)


def spread(values) -> dict:
    """median / min / max / n of a list of timings (robust to a noisy, shared machine)."""
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()), "n": int(v.size)}


def fmt_sig(x: float, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"
