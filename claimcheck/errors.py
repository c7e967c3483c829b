"""Exceptions users may catch, and the one-line message for a missing optional dependency."""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DataUnavailable", "MissingOptionalDependency", "require"]


class DataUnavailable(FileNotFoundError):
    """An optional data set is not where claimcheck looks for it. ``claimcheck verify`` reports
    the claim as SKIPPED with this message (in the table and in the JSON summary), never drops it."""


class MissingOptionalDependency(ImportError):
    """An optional dependency (an *extra*) is not installed; the message names the extra."""


EXTRAS: dict[str, str] = {"torch": "gpu", "submitit": "gpu", "mnist1d": "gpu", "sphinx": "docs", "pytest": "test"}
"""Top-level module -> the claimcheck extra that installs it."""


def require(module: str, *, extra: str | None = None, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingOptionalDependency` with one line naming the extra.

    >>> require("math").__name__
    'math'
    >>> require("no_such_module_xyz", extra="gpu", purpose="the GPU suite")
    Traceback (most recent call last):
    ...
    claimcheck.errors.MissingOptionalDependency: the GPU suite needs 'no_such_module_xyz', which is not installed: pip install 'claimcheck[gpu]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    raise MissingOptionalDependency(missing_message(module, extra=extra, purpose=purpose)) from None


def missing_message(module: str, *, extra: str | None = None, purpose: str = "") -> str:
    """The one line :func:`require` raises with."""
    root = module.split(".")[0]
    extra = extra or EXTRAS.get(root)
    what = f"{purpose} needs" if purpose else "this needs"
    fix = f"pip install 'claimcheck[{extra}]'" if extra else f"pip install {root}"
    return f"{what} {root!r}, which is not installed: {fix}"
