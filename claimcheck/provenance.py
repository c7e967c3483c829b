"""Where a result came from: package versions, git revision (with a dirty flag), machine.

Everything a reviewer needs to trust or rerun a report, gathered without importing the heavy
packages themselves (versions come from the installed distributions' metadata, so asking
for torch's version does not import torch).

>>> env = environment()
>>> sorted(env) == ["git", "machine", "python", "versions"]
True
>>> env["versions"]["numpy"] is not None
True
"""
from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "package_versions", "git_info", "machine_info", "environment"]

PACKAGES = ("claimcheck", "numpy", "scipy", "sympy", "matplotlib", "hypothesis", "scikit-learn", "torch", "submitit")
"""Distributions whose versions every report records (None where not installed)."""

_ROOT = Path(__file__).resolve().parent.parent


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in ``packages``; None when it is not installed."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(*args: str) -> str | None:
    try:
        res = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, cwd=_ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def git_info() -> dict[str, Any]:
    """``{"revision": short hash or None, "dirty": bool or None}`` of the checkout holding this file.

    ``dirty`` is True when tracked files differ from the revision (untracked files do not
    count); both are None outside a git checkout (e.g. an installed wheel).
    """
    rev = _git("rev-parse", "--short", "HEAD")
    if not rev:
        return {"revision": None, "dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"revision": rev, "dirty": None if status is None else bool(status)}


def machine_info() -> dict[str, Any]:
    """Host name, OS, architecture, processor and CPU count."""
    return {
        "node": platform.node(),
        "system": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
    }


def environment() -> dict[str, Any]:
    """Python version, package versions, git revision and machine, in one JSON-ready dict."""
    return {
        "python": platform.python_version(),
        "versions": package_versions(),
        "git": git_info(),
        "machine": machine_info(),
    }
