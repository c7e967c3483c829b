"""Shared pytest configuration: one hypothesis profile for the whole suite.

"ci": no per-example deadline (timing on 2 shared cores is noisy), 25 examples per
property (the suite must stay under its time budget), and derandomized search so the
same code gives the same examples, hence the same verdicts, on every run.
"""
import pytest
from hypothesis import settings

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
