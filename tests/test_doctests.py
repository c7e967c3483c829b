"""Every docstring example of the installed package runs, each module imported once under its
installed name (``claimcheck.theory.ridgeless``, never a second top-level copy ``theory.ridgeless``).

pytest's ``--doctest-modules`` would import ``theory/ridgeless.py`` by its path, as a second module
``theory.ridgeless`` beside ``claimcheck.theory.ridgeless``; so the examples are collected here from
the package itself.
"""
from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import claimcheck

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
TORCH_PACKAGES = ("claimcheck.gpu_validation",)
SUBPACKAGES = ("claimcheck.theory", "claimcheck.sims", "claimcheck.paper_figures", "claimcheck.gpu_validation")


def _modules_with_examples() -> list[str]:
    """Module names under ``claimcheck`` whose source holds a docstring example (read as text, not
    imported, so collection stays cheap)."""
    names = ["claimcheck"]
    # theory/, sims/, ... are mapped into the namespace (package-dir), not folders inside claimcheck/,
    # so each subpackage's own folder is walked.
    for pkg in ("claimcheck", *SUBPACKAGES):
        path = importlib.util.find_spec(pkg).submodule_search_locations
        names += [pkg] + [info.name for info in pkgutil.walk_packages(path, prefix=pkg + ".")]
    out = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        if ">>> " in Path(spec.origin).read_text(encoding="utf-8"):
            out.append(name)
    return sorted(set(out))


MODULES = _modules_with_examples()


def test_examples_are_found_in_every_subpackage():
    for sub in SUBPACKAGES:
        assert any(m.startswith(sub + ".") or m == sub for m in MODULES), sub


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name.startswith(TORCH_PACKAGES):
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    assert module.__name__ == name
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has '>>> ' in its source but no docstring example was found"
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (output above)"
