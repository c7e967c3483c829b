"""The norm-growth job (Nagarajan & Kolter 2019, Fig. 1): its measurements, its stopping rule
(Run.train's stop_fn), resume after an interruption, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import norm_growth  # noqa: E402
from claimcheck.gpu_validation.run import RunInterrupted  # noqa: E402
from claimcheck.gpu_validation.models import MLP  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = dict(ns=(64, 128, 256), n_test=300, n_seeds=3)


def test_distance_spectral_product_and_margin_miss_measure_what_they_say():
    torch.manual_seed(0)
    model = MLP(4, (5, 6), 3)
    init = [w.detach().clone() for w in norm_growth.weight_matrices(model)]
    assert norm_growth.distance_from_init(model, init) == 0.0
    with torch.no_grad():
        model.net[1].weight.add_(0.5)                         # first Linear: 5 x 4 entries moved by 0.5
    assert norm_growth.distance_from_init(model, init) == pytest.approx(0.5 * math.sqrt(20))
    want = np.prod([np.linalg.svd(w.detach().numpy(), compute_uv=False)[0] for w in norm_growth.weight_matrices(model)])
    assert norm_growth.spectral_product(model) == pytest.approx(want, rel=1e-5)
    logits = torch.tensor([[3.0, 0.0, 1.0], [0.0, 0.5, 0.0], [2.0, 2.5, 0.0]])
    fixed = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Identity())
    fixed.forward = lambda x: logits                          # margins 2, 0.5, -0.5 for labels 0, 1, 0
    y = torch.tensor([0, 1, 0])
    assert norm_growth.margin_miss(fixed, torch.zeros(3, 1), y, 1.0) == pytest.approx(2 / 3)
    assert norm_growth.margin_miss(fixed, torch.zeros(3, 1), y, 0.4) == pytest.approx(1 / 3)


def test_training_stops_at_the_margin_rule_and_larger_n_moves_further(tmp_path):
    res = norm_growth.run("smoke", device="cpu", out_dir=tmp_path, progress=False, figures=True, **FAST)
    m = res["measurements"]
    cfg = norm_growth.PROFILES["smoke"]
    assert np.all(np.array(m["train_miss"]) <= cfg.miss_fraction)          # every unit stopped by the rule ...
    assert np.all(np.array(m["steps"]) < cfg.max_steps)                    # ... before the guard
    assert res["verdict"]["status"] in {"passed", "failed", "underpowered"}
    dist = np.array(m["distance_from_init"])
    assert dist[:, -1].mean() > dist[:, 0].mean()     # fixed seeds: the trained nets moved further at larger n
    assert (tmp_path / "norm_growth-smoke-seed0" / "norm_growth.png").is_file()


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path):
    # a checkpoint at step 25, the interruption at 40: the resumed run replays steps 26..40 from the checkpoint
    # (ckpt_every=3 wrote ~250 checkpoints per run and doubled the test's CPU time)
    kw = dict(device="cpu", progress=False, figures=False, ns=(64, 128), n_test=200, width=16, n_seeds=1, ckpt_every=25)
    full = norm_growth.run("smoke", out_dir=tmp_path / "a", **kw)
    with pytest.raises(RunInterrupted):
        norm_growth.run("smoke", out_dir=tmp_path / "b", stop_after_steps=40, **kw)
    resumed = norm_growth.run("smoke", out_dir=tmp_path / "b", resume=True, **kw)
    assert resumed["measurements"] == full["measurements"] and resumed["verdict"] == full["verdict"]


def test_the_guard_makes_the_verdict_underpowered_with_the_reason():
    res = norm_growth.run("smoke", device="cpu", out_dir=None, progress=False, figures=False, max_steps=2, **FAST)
    assert res["verdict"]["status"] == "underpowered" and "raise max_steps" in res["verdict"]["detail"]


@pytest.mark.parametrize("kw, msg", [({"ns": (100,)}, "ns="), ({"ns": (200, 100)}, "ns="), ({"depth": 0}, "depth=0"),
                                     ({"loss": "mse"}, "loss="), ({"init": "he"}, "init="),
                                     ({"shuffle": False, "ns": (32, 64)}, "full batch")])
def test_bad_config_names_the_field(kw, msg):
    with pytest.raises(ValueError, match=msg):
        norm_growth.run("smoke", device="cpu", out_dir=None, progress=False, **kw)


def test_the_authors_settings_in_full():
    """locuslab/uniform-convergence-NeurIPS19 experiments.py: 5 hidden layers of 500, Xavier, no biases,
    mean sigmoid cross-entropy, SGD lr 0.1, batch 64, fixed order, margin 10 on 99.9%, pixels in [0, 1].
    (``cpu`` / ``small`` stop at margin 5 on 99%: tests/test_gpu_evidence_b.py.)"""
    from claimcheck.gpu_validation.models import MLP

    for name in ("full",):
        c = norm_growth.PROFILES[name]
        assert (c.depth, c.width, c.init, c.bias, c.loss, c.lr, c.batch_size, c.shuffle, c.standardize, c.margin,
                c.miss_fraction) == (5, 500, "xavier", False, "sigmoid", 0.1, 64, False, False, 10.0, 0.001)
    net = MLP(784, (500,) * 5, 10, bias=False, init="xavier")
    mats = norm_growth.weight_matrices(net)
    assert len(mats) == 6 and not any(m.bias is not None for m in net.modules() if isinstance(m, torch.nn.Linear))
    bound = (6 / (784 + 500)) ** 0.5
    assert 0.99 * bound < float(mats[0].detach().abs().max()) <= bound
    logits, y = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([0])
    want = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[1.0, 0.0, 0.0]]))
    assert float(norm_growth.sigmoid_loss(logits, y)) == pytest.approx(float(want))
    manual = -(torch.log(torch.sigmoid(torch.tensor(2.0))) + torch.log(1 - torch.sigmoid(torch.tensor(-1.0)))
               + torch.log(1 - torch.sigmoid(torch.tensor(0.5)))) / 3
    assert float(norm_growth.sigmoid_loss(logits, y)) == pytest.approx(float(manual), rel=1e-6)


def test_fixed_order_batches_drop_the_partial_batch():
    from claimcheck.gpu_validation import loop

    x, y = torch.arange(10.0), torch.arange(10)
    fn, per_epoch = loop.epoch_batches(x, y, 4, 0, "order", drop_last=True, shuffle=False)
    assert per_epoch == 2 and [fn(s)[1].tolist() for s in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]]
