"""A Python preamble that makes the gpu extra's packages (torch, submitit, mnist1d) unimportable:
run it first in a subprocess to behave like a core-only install (tests/test_packaging.py,
tests/test_gpu_evidence_a.py)."""
import textwrap

GPU_ONLY = {"torch", "submitit", "mnist1d"}

NO_GPU_EXTRA = textwrap.dedent("""
    import importlib.abc, sys
    class _NoGpuExtra(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in {"torch", "submitit", "mnist1d"}:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, _NoGpuExtra())
""")
