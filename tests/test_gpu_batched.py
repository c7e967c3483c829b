"""Batched training of several seeds (gpu_validation.batched) equals training them one by one.

Tolerances: batched and single-model kernels need not sum in the same order (``vmap`` of
``linear`` is a batched matmul; on an AVX-512 Intel CPU MKL gave bit-identical MLPs, on this AVX2
AMD EPYC it differs by 1 ulp, so MLPs too are compared to float32 rounding, never bit for bit), conv nets (one grouped convolution under ``vmap``) and BatchNorm
accumulate in a different order too, so all are compared to float32 rounding: a few ulps per step, and over a short, well-conditioned run (20-30
steps) every parameter and running statistic stays within ``CONV_ATOL = 1e-5`` (about 100
float32 ulps at the O(0.1-1) scale of the weights; observed <= 4e-7), while training moved
the weights, and the members differ, by far more. Two things amplify the rounding
differences, as they would between any two float32 implementations (another BLAS, thread
count or GPU): chaotic training (a ResNet-18 of width 1 under SGD lr 0.1 goes from 2e-7 at
step 12 to 0.08 at step 30) and Adam on a coordinate whose exact gradient is zero (e.g. a
3x3 kernel tap that only ever sees padding): Adam's step g / (sqrt(v) + eps) is O(lr)
whatever |g|, so a rounding-level gradient gets an O(lr) step. Hence the ResNet (BatchNorm)
case uses SGD and the CNN (every tap used) Adam. Which float32 runs are chaotic depends on
the CPU (a width-2 ResNet at SGD lr 0.05 was stable on an AVX2 EPYC and not on an AVX-512
Xeon, lr 0.1 the other way round), so the ResNet case runs in float64, where the same
amplification of float64 ulps stays far below ``CONV_ATOL_F64 = 1e-9``.
"""
from __future__ import annotations

import doctest
import json

import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import batched, loop  # noqa: E402
from claimcheck.gpu_validation.driver import Context  # noqa: E402
from claimcheck.gpu_validation.run import DivergenceError, Run, RunInterrupted, generator, seeded_init  # noqa: E402
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, SmallCNN  # noqa: E402

CONV_ATOL = 1e-5
CONV_ATOL_F64 = 1e-9   # float64: ~1e6 chaotic amplification of a few 2e-16 ulps stays below it
DEV = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _task(build, seed, shape, n=96, B=32, dtype=torch.float32):
    """A replicate as the jobs set it up: seeded init, its own data and its own data order."""
    model = seeded_init(build, seed, "init").to(dtype)
    x = torch.randn(n, *shape, generator=generator(seed, "x")).to(dtype)
    y = torch.randint(0, 2, (n,), generator=generator(seed, "y"))
    per_epoch = n // B

    def batch(step):
        epoch, i = divmod(step, per_epoch)
        idx = torch.randperm(n, generator=generator(seed, "order", epoch))[i * B:(i + 1) * B]
        return x[idx], y[idx]

    return model, batch


def _sequential(build, seeds, shape, steps, opt, dtype=torch.float32):
    out = []
    for s in seeds:
        model, batch = _task(build, s, shape, dtype=dtype)
        ctx = Context(Run("t", "smoke", None, seed=0, device=DEV, out_dir=None, progress=False))
        loop.train(ctx, model, opt(model.parameters()), unit=f"seed{s}", steps=steps, batch_fn=batch)
        out.append(model)
    return out


def _batched(build, seeds, shape, steps, opt, dtype=torch.float32):
    tasks = [_task(build, s, shape, dtype=dtype) for s in seeds]
    ctx = Context(Run("t", "smoke", None, seed=0, device=DEV, out_dir=None, progress=False))
    group = batched.train_group(ctx, [m for m, _ in tasks], opt, unit="g", steps=steps, batch_fns=[b for _, b in tasks])
    return [group.member(i) for i in range(group.size)], ctx.run


def _state(m):
    return {k: v.double() for k, v in m.state_dict().items()}


def _max_diff(a, b, params_only=False):
    sa, sb = ({k: v.detach() for k, v in m.named_parameters()} if params_only else _state(m) for m in (a, b))
    return max(float((sa[k] - sb[k]).abs().max()) for k in sa)


def test_batched_mlp_seeds_match_sequential_runs_to_float_rounding():
    build = lambda: MLP(10, (32, 32), 2)  # noqa: E731
    seeds, steps = [0, 1, 2], 30
    adam = lambda p: torch.optim.Adam(p, lr=1e-2)  # noqa: E731
    seq = _sequential(build, seeds, (10,), steps, adam)
    members, rn = _batched(build, seeds, (10,), steps, adam)
    for a, b in zip(seq, members):
        assert _max_diff(a, b) <= CONV_ATOL
    init = seeded_init(build, 0, "init")
    assert _max_diff(members[0], init, True) > 1e-2 and _max_diff(members[0], members[1]) > 1e-2  # trained, and distinct
    assert rn.samples == steps * 32 * len(seeds) and rn.steps_done == steps  # S x B samples per batched step


@pytest.mark.parametrize("build,opt,dtype,atol", [
    (lambda: SmallCNN(4, 2, 1), lambda p: torch.optim.Adam(p, lr=1e-2), torch.float32, CONV_ATOL),
    # float64: in float32 this width-2 BatchNorm ResNet under SGD is chaotic on some CPUs and not on
    # others (1 ulp at step 1 -> 0.13 at step 20 at lr 0.1 on an AVX2 EPYC; 2.5e-3 at lr 0.05 and 2e-7
    # at lr 0.1 on an AVX-512 Xeon), so a float32 comparison tests the CPU, not the batching. In float64
    # the same amplification (~1e6 in 20 steps) of a few ulps (2e-16) stays below CONV_ATOL_F64.
    (lambda: PreActResNet18k(2, 2, 1), lambda p: torch.optim.SGD(p, lr=0.1), torch.float64, CONV_ATOL_F64),
], ids=["cnn-adam", "resnet18k-bn-sgd-f64"])
def test_batched_conv_and_batchnorm_seeds_match_sequential_runs_to_float_rounding(build, opt, dtype, atol):
    seeds, steps = [0, 1], 20
    seq = _sequential(build, seeds, (1, 8, 8), steps, opt, dtype)
    members, _ = _batched(build, seeds, (1, 8, 8), steps, opt, dtype)
    for a, b in zip(seq, members):
        assert _max_diff(a, b) <= atol   # parameters and BatchNorm running statistics
    init = seeded_init(build, 0, "init")
    assert _max_diff(members[0], init, True) > 100 * CONV_ATOL and _max_diff(members[0], members[1], True) > 100 * CONV_ATOL


@pytest.mark.parametrize("build,shape", [(lambda: MLP(10, (16,), 2), (10,)), (lambda: SmallCNN(4, 2, 1), (1, 8, 8))],
                         ids=["mlp", "cnn"])
def test_seeds_stay_independent_a_member_ignores_its_companions(build, shape):
    sgd = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
    a, _ = _batched(build, [0, 1], shape, 12, sgd)
    b, _ = _batched(build, [0, 7, 8], shape, 12, sgd)
    assert all(torch.equal(a[0].state_dict()[k], b[0].state_dict()[k]) for k in a[0].state_dict())
    assert _max_diff(a[1], b[1], True) > 1e-3  # different seed -> different init, data and order


def test_a_nan_in_one_member_stops_the_group_with_a_divergence_error():
    tasks = [_task(lambda: MLP(10, (8,), 2), s, (10,)) for s in (0, 1)]

    def poisoned(step):
        x, y = tasks[1][1](step)
        return (x * float("nan") if step == 3 else x), y

    ctx = Context(Run("t", "smoke", None, seed=0, device=DEV, out_dir=None, progress=False))
    with pytest.raises(DivergenceError, match=r"unit g: training diverged at step 10 .*non-finite seen: True"):
        batched.train_group(ctx, [tasks[0][0], tasks[1][0]], lambda p: torch.optim.SGD(p, lr=0.1), unit="g", steps=10,
                            batch_fns=[tasks[0][1], poisoned], ckpt_every=0)


def test_docstring_examples_run():
    res = doctest.testmod(batched, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0


def test_bad_groups_and_batches_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match=r"models=\[\], must hold at least one model"):
        batched.BatchedModels([])
    with pytest.raises(ValueError, match="must share one architecture"):
        batched.BatchedModels([MLP(4, (3,), 2), MLP(4, (5,), 2)])
    bm = batched.BatchedModels([MLP(4, (3,), 2)] * 3)
    with pytest.raises(ValueError, match="batch of 7 rows, must be a multiple of the 3 members"):
        bm(torch.zeros(7, 4))
    with pytest.raises(ValueError, match=r"member=3, must be in \[0, 2\]"):
        bm.member(3)


# ----------------------------------------------------------------------------- the jobs

RVI = dict(steps=40, ckpt_every=10, n_seeds=2, n_evals=4, n_test=256, hidden=(32,))


def test_jobs_give_the_same_results_batched_and_one_by_one():
    from claimcheck.gpu_validation import feature_calibration, real_vs_ideal

    for job, kw in ((real_vs_ideal, RVI), (feature_calibration, dict(epochs=4, width=64))):
        one = job.run("smoke", device="cpu", out_dir=None, progress=False, figures=False, batched=False, **kw)
        grp = job.run("smoke", device="cpu", out_dir=None, progress=False, figures=False, batched=True, **kw)
        _assert_close(grp["measurements"], one["measurements"])   # MLPs: equal to float32 rounding
        assert grp["verdict"]["status"] == one["verdict"]["status"]
        _assert_close(grp["verdict"], one["verdict"])
        assert grp["timings"]["samples"] == one["timings"]["samples"]
        assert grp["timings"]["steps"] * (2 * kw["n_seeds"] if job is real_vs_ideal else 3) == one["timings"]["steps"]


def _assert_close(a, b, path="", rtol=1e-4, atol=1e-6):
    """Nested results equal up to float32 rounding amplified by a few dozen steps (strings, ints and
    structure exactly)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _assert_close(a[k], b[k], f"{path}/{k}", rtol, atol)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{path}[{i}]", rtol, atol)
    elif isinstance(a, float) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=rtol, abs=atol), path
    elif path.endswith("/detail") and isinstance(a, str):
        pass   # the verdict's prose quotes the numbers compared above
    else:
        assert a == b, path


def test_interrupted_batched_run_resumes_to_the_bit_identical_result(tmp_path):
    from claimcheck.gpu_validation import real_vs_ideal as job

    kw = dict(RVI, batched=True)
    full = job.run("smoke", device="cpu", out_dir=tmp_path / "a", progress=False, figures=False, **kw)
    with pytest.raises(RunInterrupted):
        job.run("smoke", device="cpu", out_dir=tmp_path / "b", progress=False, figures=False, stop_after_steps=25, **kw)
    run_dir = tmp_path / "b" / "real_vs_ideal-smoke-seed0"
    assert (run_dir / "ckpt" / "worlds-seeds0-1.pt").is_file() and not (run_dir / "result.json").exists()
    resumed = job.run("smoke", device="cpu", out_dir=tmp_path / "b", resume=True, progress=False, figures=False, **kw)
    assert resumed["timings"]["steps"] == 40 - 20   # restarted from the step-20 checkpoint of the group
    assert resumed["measurements"] == full["measurements"] and resumed["verdict"] == full["verdict"]
    stored = json.loads((run_dir / "units" / "worlds-seeds0-1.json").read_text())
    assert sorted(stored["members"]) == ["ideal-seed0", "ideal-seed1", "real-seed0", "real-seed1"]
    assert not (run_dir / "ckpt" / "worlds-seeds0-1.pt").exists() and not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("packed", [False, True], ids=["one-group-per-width", "widths-packed"])
def test_double_descent_groups_small_widths_and_resumes_a_half_finished_sweep(tmp_path, packed):
    from claimcheck.gpu_validation import double_descent as job

    kw = dict(widths=(1, 2, 3), epochs=2, n_seeds=2, ckpt_every=2, n_test=128, batched_max_k=2,
              pack_max_waste=2.0 if packed else 1.0, batched=True)
    full = job.run("smoke", device="cpu", out_dir=tmp_path / "a", progress=False, figures=False, **kw)
    if packed:  # k = 1, 2: one group of 2 widths x 2 seeds x 2 noise levels (4 steps); k = 3 unit by unit
        assert full["timings"]["steps"] == 4 + 4 * 4
    else:       # k = 1, 2: one group each of 2 seeds x 2 noise levels (4 steps each)
        assert full["timings"]["steps"] == 4 + 4 + 4 * 4
    with pytest.raises(RunInterrupted):
        job.run("smoke", device="cpu", out_dir=tmp_path / "b", progress=False, figures=False, stop_after_steps=7, **kw)
    resumed = job.run("smoke", device="cpu", out_dir=tmp_path / "b", resume=True, progress=False, figures=False, **kw)
    if packed:  # interrupted in k = 3's first unit, after its step-2 checkpoint
        assert resumed["timings"]["units_resumed"] == ["model1-2-seeds0-1"]
        assert resumed["timings"]["steps"] == 2 + 3 * 4
    else:
        assert resumed["timings"]["units_resumed"] == ["model1-seeds0-1"]
        assert resumed["timings"]["steps"] == 2 + 4 * 4   # k = 2 restarted from its step-2 checkpoint
    assert resumed["measurements"] == full["measurements"] and resumed["verdict"] == full["verdict"]
