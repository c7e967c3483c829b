"""Shared pytest configuration: one hypothesis profile for the whole suite.

"ci": no per-example deadline (timing on 2 shared cores is noisy), 25 examples per
property (the suite must stay under its time budget), and derandomized search so the
same code gives the same examples, hence the same verdicts, on every run.
"""
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("ci")
