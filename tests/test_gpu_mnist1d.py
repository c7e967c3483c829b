"""The vectorised MNIST-1D generator (gpu_validation/mnist1d.py) applies mnist1d's own transformation.

``mnist1d.transform.transform`` draws from numpy's global generator, one sample at a time, in a
fixed order (pad, scale, translate, correlated noise, iid noise, shear). Re-seeding and replaying
those calls recovers each sample's draws; :func:`transform_batch` given the same draws must return
the same signals, sample by sample. The comparison is exact (observed: bit-identical) but allowed
float64 rounding (1e-12), since numpy's ``interp`` and the vectorised formula may order a product.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mnist1d")

from claimcheck.gpu_validation import mnist1d as M  # noqa: E402


def _replayed_draws(seed: int, args: dict) -> dict:
    """The numbers mnist1d.transform consumes after np.random.seed(seed), in its order."""
    low, high = args["padding"]
    length = args["template_len"] + high
    np.random.seed(seed)
    pad = low + int(np.random.rand() * (high - low + 1))
    scale = np.random.rand()
    shift = np.random.choice(args["max_translation"])
    corr = np.random.randn(length)
    iid = np.random.randn(length)
    shear = np.random.rand()
    return {"pad": np.array([pad]), "scale": np.array([scale]), "shift": np.array([shift]), "corr": corr[None],
            "iid": iid[None], "shear": np.array([shear])}


@pytest.mark.parametrize("first", [0, 1000])
def test_transform_batch_equals_mnist1d_transform_sample_by_sample(first):
    from mnist1d.transform import transform
    from mnist1d.utils import ObjectView

    args = M.defaults()
    tx, tt = M.templates()
    state = np.random.get_state()
    try:
        for i in range(first, first + 60):
            label = i % 10
            np.random.seed(i)
            want, _ = transform(tx[label], tt, ObjectView(dict(args)))
            got = M.transform_batch(tx[label][None], _replayed_draws(i, args), args)[0]
            assert np.allclose(got, want, rtol=0, atol=1e-12), (i, np.abs(got - want).max())
    finally:
        np.random.set_state(state)


def test_edge_draws_no_padding_shift_and_the_largest_padding(monkeypatch):
    """Corners of the draws: the smallest and largest padding, shift 0 and the largest shift (numpy's
    generator patched to hand mnist1d exactly these values)."""
    from mnist1d.transform import transform
    from mnist1d.utils import ObjectView

    args = M.defaults()
    tx, tt = M.templates()
    low, high = args["padding"]
    for pad, shift in ((low, 0), (high, args["max_translation"] - 1), (low, args["max_translation"] - 1), (high, 0)):
        d = _replayed_draws(7, args)
        d["pad"], d["shift"] = np.array([pad]), np.array([shift])
        uniforms = iter([(pad - low + 0.5) / (high - low + 1), d["scale"][0], d["shear"][0]])   # pad, scale, shear
        normals = iter([d["corr"][0], d["iid"][0]])
        monkeypatch.setattr(np.random, "rand", lambda: next(uniforms))
        monkeypatch.setattr(np.random, "choice", lambda n: shift)
        monkeypatch.setattr(np.random, "randn", lambda *shape: next(normals))
        want, _ = transform(tx[3], tt, ObjectView(dict(args)))
        monkeypatch.undo()
        got = M.transform_batch(tx[3][None], d, args)[0]
        assert np.allclose(got, want, rtol=0, atol=1e-12), (pad, shift)


def test_make_is_seeded_balanced_standardised_and_validates():
    x, y = M.make(1003, seed=5)                     # a count not divisible by 10
    assert x.shape == (1003, 40) and x.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y, minlength=10)
    assert counts.max() - counts.min() <= 1
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1) < 1e-5
    x2, y2 = M.make(1003, seed=5)                   # same seed, same samples, bit for bit
    assert np.array_equal(y, y2) and np.array_equal(x, x2)
    assert not np.array_equal(M.make(1003, seed=6)[1], y)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="num="):
            M.make(bad, seed=0)
    with pytest.raises(ValueError, match="unknown mnist1d argument"):
        M.make(10, seed=0, wiggle=1)
