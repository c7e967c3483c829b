"""Session-wide defaults and observers of the test assertions (no heavy imports: the pytest
plugin loads this at every pytest start-up)."""
from __future__ import annotations

from typing import Any, Callable

OBSERVERS: list[Callable[[Any, str], None]] = []
DEFAULTS: dict[str, Any] = {"budget": "quick", "seed": None}
