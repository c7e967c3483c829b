"""GPU-suite machinery on CPU: models, FLOPs, seeds, verdicts that can fail, NaN detection,
atomic files, and resume-after-interruption to a bit-identical result."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.verdict import Status  # noqa: E402
from claimcheck.gpu_validation import device as dev, loop  # noqa: E402
from claimcheck.gpu_validation.driver import Context  # noqa: E402
from claimcheck.gpu_validation.run import (DivergenceError, Run, RunInterrupted, atomic_torch_save, generator,  # noqa: E402
                                           seeded_init)
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, SmallCNN, count_parameters, forward_flops  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- models

def test_resnet18k_at_k64_is_the_standard_resnet18():
    net = PreActResNet18k(k=64, num_classes=10)
    assert abs(count_parameters(net) - 11.17e6) < 0.02e6  # He et al. 2016: ~11.2M
    # CIFAR ResNet-18 forward cost: ~0.56 GMACs at 32x32 (kuangliu/pytorch-cifar, fvcore)
    assert forward_flops(net, (3, 32, 32)) == pytest.approx(2 * 0.556e9, rel=0.01)


def test_resnet18k_has_no_final_batchnorm_relu_as_the_reference():
    """preetum/deep-bootstrap-code common/models/small/resnet18k.py: layer4 -> avg_pool2d(4) -> linear."""
    net = PreActResNet18k(k=2, num_classes=3, in_channels=1)
    assert not hasattr(net, "bn")
    bns = [n for n, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(n.startswith("layers.") for n in bns) and len(bns) == 16    # bn1, bn2 of 8 blocks only
    x = torch.randn(4, 1, 8, 8)
    net.eval()
    with torch.no_grad():   # the head sees the last block's output, pooled, with no activation in between
        feats = net.layers(net.conv1(x))
        want = net.linear(torch.nn.functional.adaptive_avg_pool2d(feats, 1).flatten(1))
        assert torch.allclose(net(x), want) and bool((feats < 0).any())   # negative features reach the head


@pytest.mark.parametrize("k", [1, 3, 8])
def test_resnet18k_output_shape_and_width_scaling(k):
    net = PreActResNet18k(k=k, num_classes=7, in_channels=1)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 7)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 7)
    # conv weights scale as k^2: doubling k multiplies the parameter count by ~4 (plus linear terms)
    ratio = count_parameters(PreActResNet18k(2 * k, 7, 1)) / count_parameters(net)
    assert 3.0 < ratio < 4.0


def test_mlp_and_cnn_shapes_and_counts():
    assert MLP(784, (100,), 10)(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert count_parameters(MLP(784, (100,), 10)) == 784 * 100 + 100 + 100 * 10 + 10
    assert SmallCNN(8, 2, 1)(torch.zeros(4, 1, 8, 8)).shape == (4, 2)
    assert forward_flops(MLP(784, (100,), 10), (784,)) == 2 * (784 * 100 + 100 * 10)


def test_bad_width_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="k=0, must be an integer >= 1"):
        PreActResNet18k(k=0)


# ----------------------------------------------------------------------------- seeds, devices, MFU

def test_seeded_init_and_generators_are_reproducible():
    a = seeded_init(lambda: MLP(5, (4,), 2), 3, "init")
    b = seeded_init(lambda: MLP(5, (4,), 2), 3, "init")
    c = seeded_init(lambda: MLP(5, (4,), 2), 4, "init")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert torch.equal(torch.randn(5, generator=generator(1, "x")), torch.randn(5, generator=generator(1, "x")))


def test_label_noise_makes_exactly_the_fraction_wrong():
    y = torch.arange(1000) % 10
    noisy = loop.label_noise(y, 0.2, 10, generator(0, "noise"))
    assert int((noisy != y).sum()) == 200
    assert noisy.min() >= 0 and noisy.max() <= 9
    with pytest.raises(ValueError, match="label_noise=1.5"):
        loop.label_noise(y, 1.5, 10, generator(0))


def test_device_selection_and_cpu_has_no_peak():
    assert dev.select_device("cpu").type == "cpu"
    assert dev.select_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert dev.peak_flops(torch.device("cpu")) is None
    assert dev.peak_flops_for_name("NVIDIA H200") == 989e12
    assert dev.peak_flops_for_name("Some Unknown Accelerator") is None
    with pytest.raises(ValueError, match="device='tpu'"):
        dev.select_device("tpu")


def test_configure_sets_threads_and_rejects_bad_values():
    old = torch.get_num_threads()
    try:
        info = dev.configure(torch.device("cpu"), threads=1, precision="fp32")
        assert info == {"precision": "fp32", "threads": 1} and torch.get_num_threads() == 1
        assert dev.configure(torch.device("cpu"))["threads"] == 1          # None: unchanged
    finally:
        torch.set_num_threads(old)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="threads="):
            dev.configure(torch.device("cpu"), threads=bad)
    with pytest.raises(ValueError, match="precision='fp16'"):
        dev.configure(torch.device("cpu"), precision="fp16")
    assert dev.default_threads(2) == 1 and dev.default_threads(3) == 1 and dev.default_threads(64) == 32


def test_autocast_follows_the_precision_on_each_device():
    lin = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    for precision, want in (("auto", torch.float32), ("fp32", torch.float32), ("tf32", torch.float32),
                            ("bf16", torch.bfloat16)):
        with dev.autocast(torch.device("cpu"), precision):
            assert lin(x).dtype == want, precision


def test_fused_optimizers_on_cuda_only_and_bad_names():
    opt = dev.optimizer("sgd", torch.nn.Linear(2, 2).parameters(), torch.device("cpu"), lr=0.1, momentum=0.9)
    assert not opt.defaults.get("fused")
    assert dev.optimizer_kwargs(torch.device("cuda")) == {"fused": True}
    with pytest.raises(ValueError, match="optimizer='lamb'"):
        dev.optimizer("lamb", [], torch.device("cpu"))


# ----------------------------------------------------------------------------- NaN, atomic files

def test_nan_loss_raises_a_divergence_error_naming_the_step(tmp_path):
    ctx = Context(Run("t", "smoke", _Cfg(), seed=0, device=torch.device("cpu"), out_dir=tmp_path, progress=False))
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def batch(step):
        x = torch.ones(4, 3)
        if step == 6:
            x[0, 0] = float("nan")
        return x, torch.zeros(4, dtype=torch.long)

    with pytest.raises(DivergenceError, match=r"diverged at step \d+.*non-finite seen: True"):
        loop.train(ctx, model, opt, unit="u", steps=50, batch_fn=batch, check_every=5)


def test_exploding_loss_raises_a_divergence_error(tmp_path):
    ctx = Context(Run("t", "smoke", _Cfg(), seed=0, device=torch.device("cpu"), out_dir=None, progress=False))
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=10.0)  # squared loss with lr 10 on x=3 diverges geometrically
    x = torch.full((8, 1), 3.0)
    with pytest.raises(DivergenceError, match="lower the learning rate"):
        loop.train(ctx, model, opt, unit="u", steps=200, batch_fn=lambda s: (x, torch.zeros(8, 1)), check_every=5,
                   loss_fn=lambda out, y: ((out - y) ** 2).mean())


class _Cfg:  # a minimal config dataclass stand-in for Run
    pass


def test_atomic_checkpoint_leaves_no_temp_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "ck.pt"
    atomic_torch_save({"a": torch.ones(2)}, path)
    with pytest.raises(Exception):
        atomic_torch_save({"bad": lambda: 0}, path)  # unpicklable: save fails midway
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


# ----------------------------------------------------------------------------- resume

def test_interrupted_run_resumes_to_the_bit_identical_result(tmp_path):
    from claimcheck.gpu_validation import real_vs_ideal as job

    kw = dict(steps=40, ckpt_every=10, n_seeds=2, n_evals=4, n_test=256, hidden=(32,))
    full = job.run("smoke", device="cpu", out_dir=tmp_path / "a", progress=False, figures=False, **kw)
    with pytest.raises(RunInterrupted):  # killed midway through the second unit, after a checkpoint
        job.run("smoke", device="cpu", out_dir=tmp_path / "b", progress=False, figures=False, stop_after_steps=57, **kw)
    run_dir = tmp_path / "b" / "real_vs_ideal-smoke-seed0"
    assert (run_dir / "units" / "real-seed0.json").is_file() and (run_dir / "ckpt" / "ideal-seed0.pt").is_file()
    assert not (run_dir / "result.json").exists()
    resumed = job.run("smoke", device="cpu", out_dir=tmp_path / "b", resume=True, progress=False, figures=False, **kw)
    assert resumed["timings"]["units_resumed"] == ["real-seed0"]
    assert resumed["timings"]["steps"] == 3 * 40 - 10  # ideal-seed0 restarted from its step-10 checkpoint
    assert resumed["measurements"] == full["measurements"]
    assert resumed["verdict"] == full["verdict"]
    assert not list(tmp_path.rglob("*.tmp"))  # every write was atomic
    on_disk = json.loads((run_dir / "result.json").read_text())
    assert on_disk["measurements"] == full["measurements"]
    assert math.isclose(on_disk["verdict"]["estimate"]["mean"], full["verdict"]["estimate"]["mean"], rel_tol=0, abs_tol=0)


def test_a_run_killed_by_sigkill_resumes_to_the_same_result(tmp_path):
    """A real interruption: the job runs in a child process that is SIGKILLed after its first unit.
    The child is forked from this process (torch and the job already imported: a fresh interpreter
    cost ~3 CPU s of imports and is not what is tested); it is killed by a real SIGKILL, mid-run."""
    import multiprocessing
    import signal
    import time

    from claimcheck.gpu_validation import real_vs_ideal as job

    kw = dict(steps=200, ckpt_every=50, n_seeds=2, n_evals=3, n_test=128, hidden=(16,))
    out = tmp_path / "killed"
    proc = multiprocessing.get_context("fork").Process(
        target=job.run, args=("smoke",), kwargs=dict(device="cpu", out_dir=out, progress=False, figures=False, **kw))
    proc.start()
    units = out / "real_vs_ideal-smoke-seed0" / "units"
    deadline = time.monotonic() + 120
    while proc.is_alive() and not (units.is_dir() and any(units.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.join()
    assert proc.exitcode == -signal.SIGKILL        # killed, not finished (nor crashed)
    killed_midway = not (out / "real_vs_ideal-smoke-seed0" / "result.json").exists()
    resumed = job.run("smoke", device="cpu", out_dir=out, resume=True, progress=False, figures=False, **kw)
    reference = job.run("smoke", device="cpu", out_dir=None, progress=False, figures=False, **kw)
    assert killed_midway and resumed["timings"]["units_resumed"]
    assert resumed["measurements"] == reference["measurements"] and resumed["verdict"] == reference["verdict"]
    assert not list(out.rglob("*.tmp"))


def test_warm_up_steps_are_trained_but_left_out_of_the_timing():
    from claimcheck.gpu_validation.driver import JobConfig

    ctx = Context(Run("t", "smoke", None, seed=0, device=torch.device("cpu"), out_dir=None, progress=False),
                  JobConfig(warmup_steps=3))
    model = torch.nn.Linear(3, 2)
    x, y = torch.ones(8, 3), torch.zeros(8, dtype=torch.long)
    loop.train(ctx, model, torch.optim.SGD(model.parameters(), lr=0.1), unit="u", steps=10,
               batch_fn=lambda s: (x, y), flops_per_sample=5.0)
    rn = ctx.run
    assert (rn.steps_done, rn.samples, rn.samples_timed) == (10, 80, 56)
    assert (rn.flops, rn.flops_timed) == (400.0, 280.0)
    res = rn.finish(None, {})
    assert res["timings"]["throughput_samples_per_s"] == pytest.approx(56 / rn.timer.seconds)


def test_group_evaluation_in_one_pass_equals_member_by_member():
    from claimcheck.gpu_validation import batched
    from claimcheck.gpu_validation.models import SmallCNN

    models = [seeded_init(lambda: SmallCNN(4, 3, 1), s, "init") for s in range(3)]
    group = batched.BatchedModels(models)
    xs = [torch.randn(70, 1, 8, 8, generator=generator(s, "x")) for s in range(3)]
    ys = [torch.randint(0, 3, (70,), generator=generator(s, "y")) for s in range(3)]
    together = loop.evaluate_group(group, xs, ys, batch=32)            # 3 chunks, the last one short
    for m, x, y, got in zip(models, xs, ys, together):
        want = loop.evaluate(m, x, y, batch=70)
        assert got == pytest.approx(want, rel=1e-5, abs=1e-6)           # float32 rounding of the sums
    preds = loop.predict_group(group, xs, batch=32)
    assert preds.shape == (3, 70) and torch.equal(preds[1], loop.predict(models[1], xs[1]))
    with pytest.raises(ValueError, match="equal set sizes"):
        loop.evaluate_group(group, [xs[0], xs[1][:5], xs[2]], ys)
