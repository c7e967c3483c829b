"""Simulation budgets: how many replicates a check may spend."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Budget", "BUDGETS", "get_budget"]


@dataclass(frozen=True)
class Budget:
    """``scale`` multiplies a claim's base replicate count (``fixed_reps``, when set, is the
    starting count instead); while a check is underpowered its replicates double, at most
    ``max_doublings`` times."""

    name: str
    scale: float
    max_doublings: int
    fixed_reps: int | None = None

    def start_reps(self, base: int) -> int:
        """Replicates of the first round for a claim whose base count is ``base``."""
        import math

        return self.fixed_reps if self.fixed_reps is not None else max(2, math.ceil(base * self.scale))


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
    ValueError: budget='fast', must be one of ['quick', 'standard', 'thorough'] (optionally NAME:reps=N)
    """
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, str) and ":reps=" in budget:  # e.g. "quick:reps=500" (assert_claim(..., reps=500))
        import dataclasses

        base, _, reps = budget.partition(":reps=")
        b = get_budget(base)
        if not reps.isdigit() or int(reps) < 2:
            raise ValueError(f"budget={budget!r}: reps must be an integer >= 2")
        return dataclasses.replace(b, name=budget, scale=0.0, fixed_reps=int(reps))
    try:
        return BUDGETS[budget]
    except (KeyError, TypeError):
        raise ValueError(f"budget={budget!r}, must be one of {list(BUDGETS)} (optionally NAME:reps=N)") from None
