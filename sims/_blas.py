"""One BLAS thread for a block of small matrix work (shared by the simulators)."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, built once (a fresh ``threadpool_limits``
    scans every loaded library, ~1-4 ms a call); numpy's and scipy.linalg's BLAS are loaded first."""
    from scipy import linalg  # noqa: F401  (its own OpenBLAS must be in the controller)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """Context: one BLAS thread (the same bits whatever the machine's core count), restored after."""
    return _blas_controller().limit(limits=1, user_api="blas")
