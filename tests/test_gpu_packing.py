"""Width packing (gpu_validation.packing): a zero-padded member trains as its narrower network.

Exactness argument in the module docstring; here: (1) the padded network computes the narrow
network's logits, (2) after training the padding is still *exactly* zero (Adam included,
whose step turns any rounding-level gradient into an O(lr) move, so this is a sharp test of
"gradient exactly 0"), (3) the trained member equals the standalone run to float32 rounding
(SGD, see tests/test_gpu_batched.py for why conv nets are compared with SGD), (4) a corrupted
padding is caught, (5) the pack planner partitions the widths within its waste bound.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import batched, packing  # noqa: E402
from claimcheck.gpu_validation.driver import Context  # noqa: E402
from claimcheck.gpu_validation.run import Run, generator, seeded_init  # noqa: E402
from claimcheck.gpu_validation.models import MLP, PreActResNet18k  # noqa: E402

CONV_ATOL = 1e-5   # float32 rounding after a short stable run (as in tests/test_gpu_batched.py)
DEV = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _resnet(k):
    return seeded_init(lambda: PreActResNet18k(k, num_classes=3, in_channels=1), 11, "init", k)


def _data(seed, n=64, B=32):
    x = torch.randn(n, 1, 8, 8, generator=generator(seed, "x"))
    y = torch.randint(0, 3, (n,), generator=generator(seed, "y"))

    def batch(step):
        idx = torch.randperm(n, generator=generator(seed, "order", step))[:B]
        return x[idx], y[idx]

    return x, batch


@pytest.mark.parametrize("train", [True, False])
def test_padded_resnet_computes_the_narrow_networks_logits(train):
    small, big = _resnet(1), _resnet(4)
    x, _ = _data(0)
    small.train(train)
    packed = packing.embed(small, big)
    with torch.no_grad():
        want, got, other = small(x), packed(x), big.train(train)(x)
    assert float((got - want).abs().max()) < 1e-5
    assert float((other - want).abs().max()) > 1e-2   # the unpadded wide net is a different function


def _train_group(models, batch_fns, opt, steps=12):
    ctx = Context(Run("t", "smoke", None, seed=0, device=DEV, out_dir=None, progress=False))
    group = batched.train_group(ctx, models, opt, unit="g", steps=steps, batch_fns=batch_fns)
    return [group.member(i) for i in range(group.size)]


@pytest.mark.parametrize("opt", [lambda p: torch.optim.Adam(p, lr=1e-2),
                                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3)],
                         ids=["adam", "sgd-momentum-wd"])
def test_padding_stays_exactly_zero_through_training(opt):
    widths = [1, 2, 3]
    smalls = [_resnet(k) for k in widths]
    packed = [packing.embed(m, _resnet(max(widths))) for m in smalls]
    members = _train_group(packed, [_data(k)[1] for k in widths], opt)
    for m, s in zip(members, smalls):
        out = packing.extract(m, s)            # raises if any padded entry moved
        moved = max(float((a - b).detach().abs().max()) for a, b in zip(out.parameters(), s.parameters()))
        assert moved > 1e-3                     # the real coordinates did train


def test_packed_members_equal_standalone_runs_to_float_rounding():
    widths = [1, 2]
    opt = lambda p: torch.optim.SGD(p, lr=0.05)  # noqa: E731
    smalls = [_resnet(k) for k in widths]
    standalone = [_train_group([_resnet(k)], [_data(k)[1]], opt)[0] for k in widths]
    members = _train_group([packing.embed(m, _resnet(2)) for m in smalls], [_data(k)[1] for k in widths], opt)
    for k, m, s, ref in zip(widths, members, smalls, standalone):
        got = packing.extract(m, s)
        diff = max(float((a - b).abs().max()) for a, b in zip(got.state_dict().values(), ref.state_dict().values()))
        assert diff < CONV_ATOL, f"width {k}: packed and standalone differ by {diff:g}"


def test_mlp_packing_is_exact_at_init_and_after_adam():
    torch.manual_seed(3)
    small, big = MLP(6, (4, 5), 3), MLP(6, (9, 7), 3)
    x = torch.randn(16, 6)
    packed = packing.embed(small, big)
    assert torch.allclose(packed(x), small(x), atol=1e-6)
    y = torch.randint(0, 3, (16,))
    members = _train_group([packed], [lambda step: (x, y)], lambda p: torch.optim.Adam(p, lr=1e-2))
    packing.extract(members[0], small)


def test_corrupted_padding_is_detected():
    small = _resnet(1)
    packed = packing.embed(small, _resnet(2))
    with torch.no_grad():
        packed.conv1.weight[1, 0, 0, 0] = 1e-7      # one padded output channel entry
    with pytest.raises(RuntimeError, match="conv1.weight"):
        packing.extract(packed, small)
    assert packing.extract(packed, small, check=False).conv1.weight.shape == small.conv1.weight.shape


def test_embed_rejects_other_architectures_and_larger_small_nets():
    with pytest.raises(ValueError, match="state names"):
        packing.embed(MLP(4, (3,), 2), MLP(4, (3, 3), 2))
    with pytest.raises(ValueError, match="does not fit"):
        packing.embed(_resnet(2), _resnet(1))


@settings(max_examples=60, deadline=None)
@given(widths=st.lists(st.integers(1, 64), min_size=1, max_size=20, unique=True),
       max_waste=st.floats(1.0, 4.0))
def test_plan_packs_partitions_within_the_waste_bound(widths, max_waste):
    packs = packing.plan_packs(widths, max_waste=max_waste)
    assert sorted(k for p in packs for k in p) == sorted(widths)
    for p in packs:
        assert len(p) * max(p) ** 2 <= max_waste * sum(k * k for k in p) * (1 + 1e-12)
    for p, q in zip(packs, packs[1:]):   # greedy from the widest: q's narrowest could not join p's
        t = q + [p[-1]]
        assert len(t) * max(t) ** 2 > max_waste * sum(k * k for k in t)


@pytest.mark.parametrize("kwargs, name", [({"widths": []}, "widths"), ({"widths": [0, 2]}, "widths"),
                                          ({"widths": [1], "max_waste": 0.5}, "max_waste")])
def test_plan_packs_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        packing.plan_packs(**kwargs)


def test_double_descent_job_gives_the_same_errors_packed_and_unpacked(tmp_path):
    from claimcheck.gpu_validation import double_descent

    kw = dict(device="cpu", progress=False, figures=False, widths=(1, 2, 3), n_seeds=1, epochs=1, n_test=256, batched=True)
    packed = double_descent.run("smoke", out_dir=tmp_path / "p", **kw)
    plain = double_descent.run("smoke", out_dir=tmp_path / "u", pack_max_waste=1.0, **kw)
    units = sorted(p.name for p in (tmp_path / "p").rglob("units/*.json"))
    assert units == ["model1-3-seeds0.json"]          # 3 * 3^2 / (1 + 4 + 9) = 1.93 <= 2: one pack
    a, b = (r["measurements"]["test_error"] for r in (packed, plain))
    assert max(abs(u - v) for ra, rb in zip(a, b) for ca, cb in zip(ra, rb) for u, v in zip(ca, cb)) <= 2 / 256
    with pytest.raises(ValueError, match="pack_max_waste"):
        double_descent.run("smoke", out_dir=tmp_path / "bad", pack_max_waste=0.5, **kw)
    with pytest.raises(ValueError, match="pack_multiple"):
        double_descent.run("smoke", out_dir=tmp_path / "bad", pack_multiple=0, **kw)


def test_pack_width_rounds_the_padding_up_to_the_multiple_and_mfu_counts_true_flops(tmp_path):
    """pack_multiple=8 pads k = 1..3 to width 8 (as on CUDA); the members still train as their own
    widths (the padding stays exactly zero: extract checks it), and the run's FLOPs are the members'
    true FLOPs, not the padded network's."""
    from claimcheck.gpu_validation import double_descent
    from claimcheck.gpu_validation.models import PreActResNet18k, forward_flops

    assert packing.pack_width([1, 2, 3], 8) == 8 and packing.pack_width([9], 8) == 16
    with pytest.raises(ValueError, match="multiple=0"):
        packing.pack_width([1], 0)
    kw = dict(device="cpu", progress=False, figures=False, widths=(1, 2, 3), n_seeds=1, epochs=1, n_test=128,
              n_train=128, label_noise=(0.0,), batched=True, warmup_steps=0)
    r8 = double_descent.run("smoke", out_dir=None, pack_multiple=8, **kw)
    r1 = double_descent.run("smoke", out_dir=None, pack_multiple=1, **kw)
    a, b = (np.array(r["measurements"]["test_error"]) for r in (r8, r1))
    assert np.abs(a - b).max() <= 2 / 128          # same networks up to float32 rounding of a few test points
    true = sum(3 * forward_flops(PreActResNet18k(k, 10, 1), (1, 8, 8)) for k in (1, 2, 3)) * 128
    assert r8["timings"]["samples"] == 3 * 128
    flops_total = r8["timings"]["achieved_flops_per_s"] * r8["timings"]["train_s"]
    assert flops_total == pytest.approx(true, rel=1e-9)
