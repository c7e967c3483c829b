"""Shared pytest configuration: one hypothesis profile for the whole suite.

"ci": no per-example deadline (timing on 2 shared cores is noisy), 25 examples per
property (the suite must stay under its time budget), and derandomized search so the
same code gives the same examples, hence the same verdicts, on every run.
"""
import os
import sys

import pytest
from hypothesis import settings

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist each worker gets one thread: N workers x the default threads per
    # process (torch's intra-op pool, OpenMP/BLAS) would oversubscribe the cores, and spinning
    # OpenMP threads then slow the whole suite by up to 2x. Subprocesses inherit the variables.
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[_var] = "1"
    # torch is not imported here (a 3 s import per worker that most tests never need): it reads
    # OMP_NUM_THREADS when a test first imports it, and pytest_runtest_setup below pins it anyway.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def pytest_runtest_setup(item):
    """Under pytest-xdist, torch (if some test imported it) runs on one intra-op thread."""
    torch = sys.modules.get("torch")
    if torch is not None and os.environ.get("PYTEST_XDIST_WORKER") and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("ci")


@pytest.fixture
def one_torch_thread():
    """torch on one intra-op thread for the test (CPU float results then do not depend on the
    thread count of the machine); restored afterwards. GPU-suite modules use it for every test
    through ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# Longest modules first: `make test` runs pytest-xdist, which hands out work in collection
# order; starting the long tests first keeps them from piling up on one worker at the end
# (longest-processing-time-first scheduling). A stable sort: the order inside a module, and
# of all other modules, is unchanged.
# Order: the per-module CPU seconds of benchmarks/results/test_suite_time.md (quiet run).
_LONGEST_FIRST = ("test_catalogue.py", "test_packaging.py", "test_paper_figures_data.py",
                  "test_gpu_configs.py", "test_cli.py", "test_cli_faults.py", "test_docs.py",
                  "test_gpu_jobs.py", "test_gpu_cuda_paths_on_cpu.py", "test_gpu_batched.py",
                  "test_sims_ridgeless.py", "test_gpu_throughput.py", "test_gpu_evidence_a.py",
                  "test_pac_bayes_theory.py", "test_gpu_norm_growth.py", "test_ridgeless_sympy.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# CPU time per test, for benchmarks/results/test_suite_time.md: with CLAIMCHECK_TEST_TIMES=path
# set, each test's CPU seconds (this process: time.process_time; its subprocesses: the
# RUSAGE_CHILDREN delta) and wall seconds for set-up + call + tear-down, and the collection
# time, are written to path as JSON at the end of the session (one file per xdist worker:
# path.gwN). Unset (the default), nothing is measured. Timing is recorded, never asserted.
_TIMES_PATH = os.environ.get("CLAIMCHECK_TEST_TIMES")
if _TIMES_PATH:
    import json
    import resource
    import time

    _times = {"tests": {}, "collection": None}
    _t0 = {}

    def _clock():
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time(), children.ru_utime + children.ru_stime, time.perf_counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_collection(session):
        start = _clock()
        yield
        end = _clock()
        _times["collection"] = [e - s for s, e in zip(start, end)]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        start = _clock()
        yield
        end = _clock()
        _times["tests"][item.nodeid] = [e - s for s, e in zip(start, end)]

    def pytest_sessionfinish(session):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        path = f"{_TIMES_PATH}.{worker}" if worker else _TIMES_PATH
        with open(path + ".tmp", "w") as fh:
            json.dump(_times, fh, indent=0)
        os.replace(path + ".tmp", path)
