"""Memory-allocation settings for the simulation commands (``claimcheck verify``, ``figures``,
``sweep``): many short checks that each allocate and free arrays of a few to tens of MiB.

Two settings, neither of which changes a single computed bit (they decide where memory comes
from, not what is computed):

* numpy's ``madvise(MADV_HUGEPAGE)`` on arrays >= 4 MiB is turned off. Each such array then
  faults in 2 MiB transparent huge pages that the kernel zeroes (and may compact memory for)
  afresh every time; on the 2-core build box (AVX-512 Xeon VM, THP in ``madvise`` mode) page
  zeroing was a quarter of ``claimcheck verify``'s CPU time (``perf``: ``clear_page_erms``).
* glibc keeps freed memory for reuse instead of returning it to the kernel at once
  (``mallopt``: arrays up to 32 MiB from the heap, trimmed only beyond 1 GiB of free top), so
  a freed array's pages are reused without being zeroed again.

Measured (``claimcheck verify --jobs 1``, quiet box, 2026-12-03): 3.85 + 0.95 s (user + sys)
-> 3.83 + 0.30 s. Left alone where the user chose: ``NUMPY_MADVISE_HUGEPAGE`` or any
``MALLOC_*`` variable set in the environment, and on platforms without glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's largest allowed value (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 1 << 30

_applied: dict[str, bool] | None = None


def tune_for_simulation() -> dict[str, bool]:
    """Apply both settings once per process (idempotent); returns which were applied."""
    global _applied
    if _applied is not None:
        return _applied
    applied = {"numpy_hugepage_off": False, "glibc_keep_freed": False}
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        try:
            from numpy._core.multiarray import _set_madvise_hugepage
        except ImportError:  # numpy < 2
            try:
                from numpy.core.multiarray import _set_madvise_hugepage
            except ImportError:
                _set_madvise_hugepage = None
        if _set_madvise_hugepage is not None:
            _set_madvise_hugepage(False)
            applied["numpy_hugepage_off"] = True
    if sys.platform.startswith("linux") and not any(k.startswith("MALLOC_") for k in os.environ):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # musl and others: no mallopt
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
            applied["glibc_keep_freed"] = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _applied = applied
    return applied
