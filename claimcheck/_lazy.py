"""Modules imported on first use.

``sps = lazy_module("scipy.stats")`` binds a stand-in that imports ``scipy.stats`` the first time
an attribute is read and then behaves as the module (``sps.norm.cdf`` is the very same function).
It keeps ``claimcheck list``, ``claimcheck --help``, usage errors and the pytest plugin from
paying for scipy.stats (about 1.5 CPU s per process) when no check runs; results are unchanged.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    __slots__ = ("_lazy_name", "_lazy_module")

    def __init__(self, name: str) -> None:
        self._lazy_name = name
        self._lazy_module: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._lazy_module is None:
            self._lazy_module = importlib.import_module(self._lazy_name)
        return self._lazy_module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self._lazy_module is not None else "not yet imported"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first attribute access."""
    return _LazyModule(name)
