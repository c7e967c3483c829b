"""Evidence-b jobs (feature_calibration, norm_growth, deep_double_descent): the code the cpu / small
profiles added, at its boundaries.

* :class:`WidthSweepMLP` trains G x M *independent* one-hidden-layer MLPs: member logits and one
  Adam step equal the standalone networks' (float32 rounding: the batched matmul sums in another
  order; tolerance 1e-6 absolute on O(1) values, i.e. a few ulps), and a member does not see another
  member's parameters at all (exactly).
* The double-descent MLP sweep gives the same measurements trained as one module or one network at
  a time (the digits data path, label noise exactly ``round(p n)`` wrong labels per member).
* Config validation at the edges of each allowed range; ``shared_init`` of norm_growth.
* ``resnet18k`` against a transcription of the reference (preetum/deep-bootstrap-code,
  ``common/models/small/resnet18k.py``): same parameter shapes in the same order, same logits with
  the same weights on 32x32 inputs, no BatchNorm-ReLU before the pooling.
* CIFAR-5m stays uint8 on the device and is converted per batch.
* The feature-calibration paper figure reads the committed evidence and imports no torch.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from claimcheck.gpu_validation import double_descent as dd  # noqa: E402
from claimcheck.gpu_validation import driver, feature_calibration as fc, norm_growth as ng  # noqa: E402
from claimcheck.gpu_validation.models import MLP, PreActResNet18k, WidthSweepMLP  # noqa: E402
from claimcheck.gpu_validation.run import Run, UsageError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
ATOL = 1e-6   # float32 rounding of O(1) logits / parameters (a different summation order), not a tolerance of the method


# --------------------------------------------------------------------------- WidthSweepMLP

def _nets(widths=(1, 3, 8), reps=2, d=5, c=4, seed=0):
    torch.manual_seed(seed)
    return [[MLP(d, (k,), c) for k in widths] for _ in range(reps)]


def test_width_sweep_members_are_the_standalone_networks():
    nets = _nets()
    sweep = WidthSweepMLP.from_members(nets)
    x = torch.randn(2 * 7, 5)
    out = sweep(x)
    assert out.shape == (2, 3, 7, 4)
    for g in range(2):
        for m in range(3):
            torch.testing.assert_close(out[g, m], nets[g][m](x[7 * g:7 * (g + 1)]), atol=ATOL, rtol=0)
            back = sweep.member(g, m)   # the round trip copies values: exact
            for a, b in zip(back.parameters(), nets[g][m].parameters()):
                assert torch.equal(a, b)


def test_width_sweep_adam_steps_equal_independent_runs():
    nets = _nets(seed=1)
    sweep = WidthSweepMLP.from_members(nets)
    opt = torch.optim.Adam(sweep.parameters(), lr=0.05)
    opts = [[torch.optim.Adam(n.parameters(), lr=0.05) for n in row] for row in nets]
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        x, y = torch.randn(2 * 6, 5, generator=gen), torch.randint(0, 4, (2 * 6,), generator=gen)
        loss = WidthSweepMLP.loss(sweep(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        for g, row in enumerate(nets):
            for net, o in zip(row, opts[g]):
                lo = F.cross_entropy(net(x[6 * g:6 * (g + 1)]), y[6 * g:6 * (g + 1)])
                o.zero_grad()
                lo.backward()
                o.step()
    for g in range(2):
        for m in range(3):
            for a, b in zip(sweep.member(g, m).parameters(), nets[g][m].parameters()):
                torch.testing.assert_close(a, b, atol=ATOL, rtol=0)


def test_width_sweep_members_do_not_see_each_other():
    sweep = WidthSweepMLP.from_members(_nets(seed=2))
    x = torch.randn(2 * 4, 5)
    before = sweep(x).detach().clone()
    with torch.no_grad():   # change every parameter of member (0, 1) and of replicate 1
        a, b = sweep.offsets[1], sweep.offsets[2]
        sweep.w1[0, :, a:b] += 1.0
        sweep.w2[0, a:b] += 1.0
        sweep.b2[0, 1] += 1.0
        sweep.w1[1] += 1.0
    after = sweep(x)
    assert torch.equal(after[0, 0], before[0, 0]) and torch.equal(after[0, 2], before[0, 2])
    assert not torch.equal(after[0, 1], before[0, 1]) and not torch.equal(after[1], before[1])


def test_width_sweep_flops_count_the_true_widths():
    sweep = WidthSweepMLP(64, (2, 10), 10, replicates=3)
    assert sweep.flops_per_row() == 2 * (64 * 12 + 12 * 10)


@pytest.mark.parametrize("kw, match", [
    (dict(widths=()), "widths"), (dict(widths=(2, 0)), "widths"), (dict(widths=(True,)), "widths"),
    (dict(widths=(2,), replicates=0), "replicates"), (dict(widths=(2,), replicates=True), "replicates"),
])
def test_width_sweep_rejects_bad_shapes(kw, match):
    with pytest.raises(ValueError, match=match):
        WidthSweepMLP(4, num_classes=3, **kw)


def test_width_sweep_from_members_rejects_mismatched_replicates():
    nets = _nets()
    nets[1] = nets[1][:2]
    with pytest.raises(ValueError, match="replicate 1"):
        WidthSweepMLP.from_members(nets)
    with pytest.raises(ValueError, match="one-hidden-layer"):
        WidthSweepMLP.from_members([[MLP(5, (3, 3), 4)]])
    with pytest.raises(ValueError, match="one-hidden-layer"):
        WidthSweepMLP.from_members([[MLP(5, (3,), 4, bias=False)]])


# --------------------------------------------------------------------------- double descent, MLP on digits

SMALL_DD = dict(model="mlp", dataset="digits", widths=(2, 5, 9), label_noise=(0.0, 0.2), epochs=3, n_train=256,
                n_test=300, lr=1e-2, n_seeds=2)


def test_mlp_sweep_grouped_equals_one_network_at_a_time():
    a = dd.run("smoke", batched=True, figures=False, **SMALL_DD)
    b = dd.run("smoke", batched=False, figures=False, **SMALL_DD)
    assert a["execution"]["batched"] is True and b["execution"]["batched"] is False
    for key in ("test_error", "train_error"):
        n = SMALL_DD["n_test" if key == "test_error" else "n_train"]
        ea, eb = np.array(a["measurements"][key]) * n, np.array(b["measurements"][key]) * n
        assert ea.shape == (2, 2, 3)        # (seeds, noise levels, widths)
        # the same misclassified points (counts; the grouped path divides by n in float32)
        np.testing.assert_array_equal(np.rint(ea), np.rint(eb))
        np.testing.assert_allclose(ea, np.rint(ea), atol=1e-3)


def _ctx(mod, **over):
    cfg, _ = driver.resolve_config(mod.PROFILES, "smoke", over)
    mod.validate(cfg)
    run = Run(mod.JOB, "smoke", cfg, seed=0, device=torch.device("cpu"), out_dir=None, progress=False)
    return driver.Context(run, cfg, tuple(range(cfg.n_seeds)))


def test_mlp_sweep_unit_holds_every_member_and_exact_label_noise():
    ctx = _ctx(dd, **SMALL_DD)
    (unit,) = dd.units(ctx)
    assert len(unit.members) == 2 * 2 * 3 and unit.spec["mlp_sweep"]
    splits = dd.load_splits("digits")
    assert splits["all"][0].shape == (1797, 1, 8, 8)
    for s in (0, 1):
        clean = dd._member_data(ctx, splits, s, 0.0, 256, 256, 10)[1]
        for p in (0.0, 0.2, 1.0):
            noisy = dd._member_data(ctx, splits, s, p, 256, 256, 10)[1]
            assert int((noisy != clean).sum()) == round(p * 256)
    # nested sample-wise sets: the first n rows of the same split, noise on those n
    x_small = dd._member_data(ctx, splits, 0, 0.2, 256, 100, 10)[0]
    x_big = dd._member_data(ctx, splits, 0, 0.2, 256, 256, 10)[0]
    assert torch.equal(x_small, x_big[:100])


def test_digits_split_at_its_size_boundary():
    ctx = _ctx(dd, **(SMALL_DD | dict(n_train=1000, n_test=797)))   # all 1,797 digits: allowed
    splits = dd.load_splits("digits")
    x_tr, _, x_te, _ = dd._member_data(ctx, splits, 0, 0.2, 1000, 1000, 10)
    assert x_tr.shape[0] == 1000 and x_te.shape[0] == 797
    ctx = _ctx(dd, **(SMALL_DD | dict(n_train=1000, n_test=798)))   # one too many
    with pytest.raises(UsageError, match="1797"):
        dd._member_data(ctx, splits, 0, 0.2, 1000, 1000, 10)


@pytest.mark.parametrize("field, value, ok", [
    ("model", "mlp", True), ("model", "resnet18k", True), ("model", "cnn", False),
    ("widths", (1, 2, 3), True), ("widths", (1, 2), False), ("widths", (1, 3, 3), False),
    ("label_noise", (0.0, 1.0), True), ("label_noise", (0.0, 1.0001), False), ("label_noise", (-1e-9,), False),
    ("label_noise", (), False),
    ("epochs", 1, True), ("epochs", 0, False), ("n_train", 0, False), ("n_test", 1, True), ("batch_size", 0, False),
    ("width", 0, False), ("epochs", True, False),
    ("lr", 1e-12, True), ("lr", 0.0, False), ("lr", float("nan"), False), ("lr", float("inf"), False),
])
def test_double_descent_config_boundaries(field, value, ok):
    cfg = dataclasses.replace(dd.PROFILES["smoke"], **{field: value})
    if ok:
        dd.validate(cfg)
    else:
        with pytest.raises(ValueError, match=field):
            dd.validate(cfg)


def test_dd_profiles_put_widths_around_the_measured_threshold():
    """The pilots' interpolation threshold at 20% noise on 1,000 digits is k ~ 40-48 (train error
    0.038 at k = 32 and 0 from k = 48 after 1,000 epochs): the cpu and small sweeps must have at
    least two widths on each side within a factor 2, and reach 10x past it (the second descent)."""
    for name in ("cpu", "small"):
        cfg = dd.PROFILES[name]
        dd.validate(cfg)
        w = np.array(cfg.widths)
        assert ((w >= 20) & (w < 44)).sum() >= 2 and ((w >= 44) & (w <= 96)).sum() >= 2, name
        assert w.max() >= 440 and w.min() <= 4 and 0.0 in cfg.label_noise and max(cfg.label_noise) >= 0.15


# --------------------------------------------------------------------------- norm growth, feature calibration

def test_norm_growth_shared_init_reuses_one_initialisation_per_seed():
    def init_weights(shared, n):
        ctx = _ctx(ng, ns=(80, 160), shared_init=shared, n_seeds=1)
        unit = next(u for u in ng.units(ctx) if u.spec == (0, n))
        return [w.detach().clone() for w in ng.weight_matrices(ng.plan(ctx, unit).model)]

    a, b = init_weights(True, 80), init_weights(True, 160)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c, d = init_weights(False, 80), init_weights(False, 160)
    assert not any(torch.equal(x, y) for x, y in zip(c, d))


def test_norm_growth_cpu_and_small_profiles_validate():
    for name in ("cpu", "small"):
        cfg = ng.PROFILES[name]
        ng.validate(cfg)
        assert cfg.margin == 5.0 and cfg.miss_fraction == 0.01 and cfg.depth == 5 and cfg.shared_init


def test_feature_calibration_tolerance_below_every_flip_rate():
    """interpolation_tol must be far below the smallest nonzero p_c (else a net that ignores one class's
    flips would count as interpolating): at most 1/8 of it, in every profile."""
    from claimcheck.theory.distributional import linear_rates

    for name, cfg in fc.PROFILES.items():
        fc.validate(cfg)
        p = linear_rates(cfg.p_max, 10)
        assert 0.0 < cfg.interpolation_tol <= p[p > 0].min() / 8, name


# --------------------------------------------------------------------------- resnet18k vs the reference

class _RefBlock(nn.Module):   # transcribed from preetum/deep-bootstrap-code common/models/small/resnet18k.py
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class _RefResNet18k(nn.Module):
    def __init__(self, c, num_classes=10):
        super().__init__()
        self.in_planes = c
        self.conv1 = nn.Conv2d(3, c, kernel_size=3, stride=1, padding=1, bias=False)
        self.layer1 = self._make_layer(c, 1)
        self.layer2 = self._make_layer(2 * c, 2)
        self.layer3 = self._make_layer(4 * c, 2)
        self.layer4 = self._make_layer(8 * c, 2)
        self.linear = nn.Linear(8 * c, num_classes)

    def _make_layer(self, planes, stride):
        layers = []
        for s in (stride, 1):
            layers.append(_RefBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


@pytest.mark.parametrize("k", [1, 3])
def test_resnet18k_matches_the_reference(k):
    ours, ref = PreActResNet18k(k, 10, 3), _RefResNet18k(k, 10)
    po, pr = list(ours.state_dict().items()), list(ref.state_dict().items())
    assert [t.shape for _, t in po] == [t.shape for _, t in pr]          # same tensors, same order
    assert [n.rsplit(".", 1)[-1] for n, _ in po] == [n.rsplit(".", 1)[-1] for n, _ in pr]
    gen = torch.Generator().manual_seed(k)
    with torch.no_grad():
        for (name, a), (_, b) in zip(po, pr):
            if a.is_floating_point():   # random weights and BN statistics (variances positive)
                v = torch.randn(a.shape, generator=gen)
                a.copy_(v.abs() + 0.5 if name.endswith("running_var") else v)
            b.copy_(a)
    ours.eval(), ref.eval()
    x = torch.randn(4, 3, 32, 32)
    a, b = ours(x), ref(x)
    # float32 rounding through 18 layers, relative to the logits' scale (random BN weights make it large)
    assert (a - b).abs().max() <= 1e-5 * b.abs().max()


def test_resnet18k_has_no_final_bn_relu():
    """The pooled features reach the head unrectified (a final BN-ReLU would make them all >= 0)."""
    net = PreActResNet18k(2, 10, 3)
    seen = {}
    net.linear.register_forward_hook(lambda mod, inp, out: seen.setdefault("feat", inp[0]))
    net(torch.randn(16, 3, 32, 32))
    assert (seen["feat"] < 0).any()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in list(net.children())[-2:])


# --------------------------------------------------------------------------- CIFAR-5m stays uint8

def test_cifar5m_stays_uint8_on_the_device_and_converts_per_batch(tmp_path):
    from claimcheck.gpu_validation import real_vs_ideal as rvi

    rng = np.random.default_rng(0)
    for i in range(2):
        np.savez(tmp_path / f"cifar5m_part{i}.npz", X=rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8),
                 Y=rng.integers(0, 10, 300))
    cfg, _ = driver.resolve_config(rvi.PROFILES, "smoke", dict(source="cifar5m", data_dir=str(tmp_path), model="resnet18k",
                                                               width_k=1, n_real=64, n_test=32, steps=3, n_seeds=1))
    ctx = driver.Context(Run(rvi.JOB, "smoke", cfg, seed=0, device=torch.device("cpu"), out_dir=None, progress=False), cfg, (0,))
    d = rvi.data(ctx, 0)
    assert d["real"][0].dtype == torch.uint8 and d["test"][0].dtype == torch.uint8
    xb, _ = d["ideal"](0)                                    # the converted batch
    assert xb.dtype == torch.float32 and xb.shape == (cfg.batch_size, 3, 32, 32)
    assert xb.min() >= -1.0 and xb.max() <= 1.0
    raw = d["real"][0][:2]
    torch.testing.assert_close(rvi.cifar5m_batch(raw, channels_last=False),
                               raw.permute(0, 3, 1, 2).float() / 127.5 - 1.0, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- paper figure: no torch, reads the evidence

def test_feature_calibration_figure_reads_the_evidence_without_torch():
    code = ("import sys\n"
            "from claimcheck.paper_figures import feature_calibration as F\n"
            "d = F.evidence_arrays()\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "assert 'mlp' not in F.MODELS['digits'] + F.MODELS['mnist']\n"
            "print(d['b/evidence/slope'][0], int(d['b/evidence/seeds'][0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    from importlib import resources

    res = json.loads(resources.files("claimcheck.gpu_validation").joinpath(
        "evidence/feature_calibration/result.json").read_text())
    slope, seeds = out.stdout.split()
    assert float(slope) == pytest.approx(np.mean(res["measurements"]["slope"]), abs=1e-12) and int(seeds) == res["config"]["n_seeds"]


def test_feature_calibration_evidence_arrays_need_two_seeds():
    from claimcheck.paper_figures import feature_calibration as F

    r = {"measurements": {"p_c": [0.0, 0.2], "rate": [[0.0, 0.2]], "slope": [1.0], "train_error": [0.0]},
         "config": {"width": 8, "n_train": 10}}
    with pytest.raises(ValueError, match="seed"):
        F.evidence_arrays(r)
    r["measurements"] |= {"rate": [[0.0, 0.2], [0.2, 0.2]], "slope": [1.0, 0.0], "train_error": [0.0, 0.0]}
    d = F.evidence_arrays(r)
    assert d["b/evidence/ci_low"][1] == d["b/evidence/ci_high"][1] == 0.2          # no spread: a zero-width interval
    assert d["b/evidence/ci_low"][0] < 0.1 < d["b/evidence/ci_high"][0]


def test_prominence_is_positive_only_for_an_interior_peak():
    from claimcheck.gpu_validation.evidence_table import prominence

    assert prominence([0.5, 0.4, 0.6, 0.3]) == pytest.approx(0.2)
    assert prominence([0.6, 0.5, 0.4, 0.3]) <= 0
    assert prominence([0.3, 0.4, 0.5, 0.6]) <= 0


def test_peak_index_and_interpolation_threshold():
    from claimcheck.gpu_validation.evidence_table import interpolation_threshold, peak_index

    assert peak_index([0.5, 0.4, 0.6, 0.3, 0.2]) == 2
    assert peak_index([0.5, 0.4, 0.45, 0.7, 0.2]) == 3
    train = [[0.5, 0.2, 0.0, 0.0], [0.4, 0.0, 0.02, 0.0]]   # seed means 0.45, 0.1, 0.01, 0
    assert interpolation_threshold([1, 2, 4, 8], train) == 4
    assert interpolation_threshold([1, 2, 4, 8], train, tol=0.005) == 8
    assert interpolation_threshold([1, 2, 4, 8], [[v + 0.5 for v in row] for row in train]) is None
    with pytest.raises(ValueError, match="curve has 2 points"):
        peak_index([0.1, 0.2])
