"""The precision and layout paths a CUDA run takes, exercised on CPU.

On CUDA the jobs train under bf16 autocast with channels_last conv nets; on CPU they stay in
fp32 (bit-reproducible), so the CPU smoke tests never touch those paths. Here
``common.autocast`` is replaced by CPU bf16 autocast and ``common.prepare_model`` also puts
conv nets in channels_last, and every autocasting job's smoke profile must still run end to end with
finite measurements and a well-formed verdict: this catches dtype mismatches (bf16 logits
reaching a custom loss, bf16 under ``vmap``/``functional_call`` in the batched groups and
packed widths, bf16 in the PAC-Bayes posterior sampling) and memory-format assumptions
before a GPU is ever used. What it cannot cover: CUDA-event timing, cuDNN/cuBLAS kernels,
``torch.compile`` and MFU (no GPU was available; see gpu_validation/README.md).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import JOBS, common, get_job  # noqa: E402

STATUSES = {"passed", "failed", "underpowered"}


@pytest.fixture
def cuda_like(monkeypatch):
    calls = {"autocast": 0, "channels_last": 0}
    original_prepare = common.prepare_model

    def autocast(device):
        calls["autocast"] += 1
        return torch.autocast("cpu", dtype=torch.bfloat16)

    def prepare_model(model, device, *, conv=False, compile=False):
        model = original_prepare(model, device, conv=conv, compile=compile)
        if conv:
            calls["channels_last"] += 1
            model = model.to(memory_format=torch.channels_last)
        return model

    monkeypatch.setattr(common, "autocast", autocast)
    monkeypatch.setattr(common, "prepare_model", prepare_model)
    return calls


def _finite(obj) -> bool:
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return True


def test_autocast_really_computes_in_bf16_here(cuda_like):
    lin = torch.nn.Linear(4, 3)
    with common.autocast(torch.device("cpu")):
        assert lin(torch.randn(2, 4)).dtype == torch.bfloat16


# hypersphere is left out: it trains in an explicit dtype (fp32/fp64; its claim is about
# margins) and never autocasts, so it takes no CUDA-only path
@pytest.mark.parametrize("job", [j for j in JOBS if j != "hypersphere"])
def test_smoke_profile_runs_under_bf16_autocast_and_channels_last(job, cuda_like, tmp_path):
    kw = {"batched": False} if job == "deep_double_descent" else {}
    res = get_job(job).run("smoke", seed=0, device="cpu", out_dir=tmp_path, progress=False, figures=False)
    assert cuda_like["autocast"] > 0
    assert res["verdict"]["status"] in STATUSES
    assert _finite(res["measurements"]), res["measurements"]
    if job == "deep_double_descent":   # the unit-by-unit path (channels_last via prepare_model) too
        one = get_job(job).run("smoke", seed=0, device="cpu", out_dir=tmp_path / "seq", progress=False,
                               figures=False, **kw)
        assert cuda_like["channels_last"] > 0 and _finite(one["measurements"])
        a, b = (np.array(r["measurements"]["test_error"]) for r in (res, one))
        assert np.all((0 <= a) & (a <= 1)) and np.all((0 <= b) & (b <= 1))
