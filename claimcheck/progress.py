"""Progress for long commands: a tqdm bar that keeps moving *inside* a long check.

A check that runs for many seconds (an asymptotic ladder, a doubling round, a qualitative
curve) used to freeze the bar at the previous claim. :func:`progress_bar` returns a tqdm bar
(on stderr, hidden when stderr is not a terminal) and :func:`ticking` shows, while a check
runs, what it is doing and for how long: a background thread refreshes the bar's postfix
twice a second with the elapsed time and the latest :func:`note`.

Checks (or simulators) may call :func:`note` to say where they are ("round 2: 16000 reps",
"size n=160"); outside a ticking block it does nothing and costs a dictionary look-up.

>>> note("nothing listens: a no-op")
>>> with progress_bar(1, disable=True) as bar, ticking(bar, "demo"):
...     note("step 1 of 1")
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator

__all__ = ["progress_bar", "ticking", "note"]

_STATE: dict[str, object] = {"note": None, "active": False}
_LOCK = threading.Lock()


def progress_bar(total: int, *, unit: str = "check", disable: bool | None = None):
    """A tqdm bar on stderr (``disable=None``: shown only on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False, disable=disable, dynamic_ncols=True)


def note(message: str) -> None:
    """Tell the running progress display what the current check is doing (thread-safe)."""
    if _STATE["active"]:
        with _LOCK:
            _STATE["note"] = str(message)


@contextlib.contextmanager
def ticking(bar, label: str, *, interval: float = 0.5) -> Iterator[None]:
    """While the block runs, show ``label``, the elapsed seconds and the latest :func:`note`."""
    bar.set_description_str(label, refresh=False)
    if getattr(bar, "disable", False):
        yield
        return
    stop = threading.Event()
    t0 = time.perf_counter()

    def tick():
        while not stop.wait(interval):
            with _LOCK:
                msg = _STATE["note"]
            bar.set_postfix_str(f"{time.perf_counter() - t0:.0f} s" + (f", {msg}" if msg else ""), refresh=True)

    with _LOCK:
        _STATE.update(note=None, active=True)
    thread = threading.Thread(target=tick, name="claimcheck-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with _LOCK:
            _STATE.update(note=None, active=False)
        bar.set_postfix_str("", refresh=False)
