"""The precision, layout and compilation paths a CUDA run takes, exercised on CPU.

On CUDA the jobs train under bf16 autocast (``precision="auto"``), with channels_last conv nets,
and optionally ``torch.compile`` (``compile=True``, CUDA graphs with ``cuda_graphs=True``); on CPU
they stay in fp32, eager, NCHW. Here every job runs its smoke profile with ``precision="bf16"``
(CPU bf16 autocast), one by one and batched, the CPU fallbacks of ``channels_last`` (never on CPU:
oneDNN's channels_last conv backward corrupted the heap here) and ``compile``/``cuda_graphs`` are
checked, and the compiled training path itself (Dynamo +
AOTAutograd, ``backend="aot_eager"``: the same tracing as inductor, no code generation) trains a
single network and a ``vmap`` group to the eager result. This catches dtype mismatches (bf16
logits reaching a custom loss, bf16 under ``vmap``/``functional_call`` in groups and packed widths,
bf16 in the PAC-Bayes posterior) and memory-format and graph-break problems before a GPU is used.
What it cannot cover: CUDA-event timing, cuDNN/cuBLAS kernels, inductor's generated kernels, CUDA
graph capture and MFU (no GPU here; see gpu_validation/README.md).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import JOBS, batched, device as dev, get_job, loop  # noqa: E402
from claimcheck.gpu_validation.driver import Context  # noqa: E402
from claimcheck.gpu_validation.models import MLP, SmallCNN  # noqa: E402
from claimcheck.gpu_validation.run import Run, generator, seeded_init  # noqa: E402

STATUSES = {"passed", "failed", "underpowered"}
pytestmark = pytest.mark.usefixtures("one_torch_thread")

# smaller than smoke (bf16 on a CPU is slow), same code paths
SHRINK = {
    "deep_double_descent": dict(widths=(1, 2, 3), n_train=32, n_test=32, epochs=1, label_noise=(0.0, 0.2)),
    "real_vs_ideal": dict(steps=12, n_test=256, hidden=(32,), n_evals=3, n_seeds=2),
    "pac_bayes_mnist": dict(n_prior=300, n_bound=300, n_eval=200, mc_samples=8, mc_batch=4),
    "feature_calibration": dict(epochs=3, width=32, n_train=256, n_test=300, n_seeds=2),
    "norm_growth": dict(ns=(64, 128), n_test=200, width=16, max_steps=60, n_seeds=1),
    "hypersphere": dict(ns=(32, 64), test_points=200, max_steps=40, n_seeds=1),
}


def _finite(obj) -> bool:
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return True


def test_bf16_precision_really_autocasts_on_cpu():
    lin = torch.nn.Linear(4, 3)
    with dev.autocast(torch.device("cpu"), "bf16"):
        assert lin(torch.randn(2, 4)).dtype == torch.bfloat16


@pytest.mark.parametrize("job, batched_", [(j, b) for j in JOBS for b in (False, True)
                                            if not b or j not in ("pac_bayes_mnist", "norm_growth")])   # no groups there
def test_smoke_profile_runs_under_bf16_autocast_and_channels_last(job, batched_):
    res = get_job(job).run("smoke", seed=0, device="cpu", out_dir=None, progress=False, figures=False,
                           precision="bf16", channels_last=True, batched=batched_, **SHRINK[job])
    assert res["execution"]["precision"] == "bf16" and res["execution"]["batched"] is batched_
    assert res["execution"]["channels_last"] is False          # asked for, but CUDA only
    assert res["verdict"]["status"] in STATUSES
    assert _finite(res["measurements"]), res["measurements"]
    if job == "deep_double_descent":
        a = np.array(res["measurements"]["test_error"])
        assert np.all((0 <= a) & (a <= 1))


def test_compile_and_cuda_graphs_fall_back_to_eager_on_cpu_and_say_so():
    res = get_job("real_vs_ideal").run("smoke", device="cpu", out_dir=None, progress=False, figures=False,
                                       compile=True, cuda_graphs=True, **SHRINK["real_vs_ideal"])
    assert res["execution"]["compile"].startswith("eager (torch.compile is used on CUDA only")
    assert dev.compile_plan(torch.device("cuda"), enabled=True, cuda_graphs=False) == {"backend": "inductor"}
    assert dev.compile_plan(torch.device("cuda"), enabled=False, cuda_graphs=True) is None


def _train(build, group: bool, backend, steps=6):
    seeds = [0, 1] if group else [0]
    models = [seeded_init(build, s, "init") for s in seeds]
    data = [(torch.randn(64, 1, 8, 8, generator=generator(s, "x")), torch.randint(0, 2, (64,), generator=generator(s, "y")))
            for s in seeds]
    fns = [loop.epoch_batches(x, y, 32, s, "order")[0] for (x, y), s in zip(data, seeds)]
    model = batched.BatchedModels(models) if group else models[0]
    ctx = Context(Run("t", "smoke", None, seed=0, device=torch.device("cpu"), out_dir=None, progress=False))
    fwd, how = dev.compile_module(model, torch.device("cpu"), enabled=backend is not None, backend=backend)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    loop.train(ctx, model, opt, unit="u", steps=steps, batch_fn=batched.stack_batches(fns) if group else fns[0],
               loss_fn=batched.member_loss(len(seeds)) if group else torch.nn.functional.cross_entropy, forward=fwd)
    return model, how


@pytest.mark.parametrize("group", [False, True], ids=["single", "vmap-group"])
def test_compiled_training_path_matches_eager_to_float_rounding(group):
    """torch.compile (Dynamo + AOTAutograd via backend="aot_eager") of a single net and of a vmap
    group trains to the eager result; tolerance: float32 rounding of 6 SGD steps (decompositions
    reorder a few sums)."""
    build = lambda: SmallCNN(4, 2, 1)  # noqa: E731
    eager, how_e = _train(build, group, None)
    compiled, how_c = _train(build, group, "aot_eager")
    assert how_e == "eager" and how_c == "torch.compile(backend=aot_eager)"
    diff = max(float((a - b).abs().max()) for a, b in zip(eager.state_dict().values(), compiled.state_dict().values()))
    moved = max(float((a - b).abs().max()) for a, b in zip(eager.state_dict().values(),
                                                              (batched.BatchedModels([seeded_init(build, s, "init") for s in (0, 1)])
                                                               if group else seeded_init(build, 0, "init")).state_dict().values()))
    assert diff < 1e-5 < 1e-3 < moved


def test_mlp_compiles_too():
    model, how = _train(lambda: MLP(64, (16,), 2), False, "aot_eager")
    assert how.startswith("torch.compile") and all(torch.isfinite(p).all() for p in model.parameters())
