"""claimcheck: closed-form claims of deep-learning theory, checked by simulation.

>>> import claimcheck
>>> claim = claimcheck.get_claim("ridgeless.minnorm_finite")
>>> claim.check(budget="quick", seed=0).status.value
'passed'

The public names are loaded on first use (``import claimcheck`` itself is cheap, so the pytest
plugin and ``claimcheck --help`` start fast); subpackages: :mod:`claimcheck.theory` (closed
forms), :mod:`claimcheck.sims` (simulators), :mod:`claimcheck.paper_figures`,
:mod:`claimcheck.gpu_validation` (the ``gpu`` extra), :mod:`claimcheck.testing`.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Claim", "Mutant", "Estimate", "Verdict", "Status", "Budget", "BUDGETS",
    "register", "get_claim", "all_claims", "claim_ids", "load_claims",
]
__version__ = "0.1.0"

_LAZY = {
    "Claim": "claimcheck.claim", "Mutant": "claimcheck.claim", "Estimate": "claimcheck.estimate",
    "Verdict": "claimcheck.verdict", "Status": "claimcheck.verdict", "Budget": "claimcheck.budget",
    "BUDGETS": "claimcheck.budget", "register": "claimcheck.registry", "get_claim": "claimcheck.registry",
    "all_claims": "claimcheck.registry", "claim_ids": "claimcheck.registry", "load_claims": "claimcheck.registry",
}

if TYPE_CHECKING:  # pragma: no cover
    from claimcheck.budget import BUDGETS, Budget
    from claimcheck.claim import Claim, Mutant
    from claimcheck.estimate import Estimate
    from claimcheck.registry import all_claims, claim_ids, get_claim, load_claims, register
    from claimcheck.verdict import Status, Verdict


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'claimcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
