"""Simulation budgets: how many replicates a check may spend."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Budget", "BUDGETS", "get_budget"]


@dataclass(frozen=True)
class Budget:
    """``scale`` multiplies a claim's base replicate count; while a check is underpowered
    its replicates double, at most ``max_doublings`` times."""

    name: str
    scale: float
    max_doublings: int


BUDGETS: dict[str, Budget] = {
    "quick": Budget("quick", 0.25, 3),
    "standard": Budget("standard", 1.0, 3),
    "thorough": Budget("thorough", 4.0, 3),
}


def get_budget(budget: "str | Budget") -> Budget:
    """Look up a budget by name.

    >>> get_budget("fast")
    Traceback (most recent call last):
    ...
    ValueError: budget='fast', must be one of ['quick', 'standard', 'thorough']
    """
    if isinstance(budget, Budget):
        return budget
    try:
        return BUDGETS[budget]
    except (KeyError, TypeError):
        raise ValueError(f"budget={budget!r}, must be one of {list(BUDGETS)}") from None
