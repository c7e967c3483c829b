"""No shape surprises on a GPU: every job's ``cpu``, ``small`` and ``full`` configuration trains a few steps here.

Two checks per configuration, both on CPU:

1. **A few real steps through the job's own driver** (``test_config_trains_a_few_steps``): the
   config's data format (the packaged MNIST test set, mnist1d from the generator, or small
   synthetic copies of full MNIST / CIFAR-10 / CIFAR-5m in their real file formats where the real
   set is absent), its batch size, its group / pack / ``drop_last`` logic as a GPU run takes it
   (``batched`` and ``pack_multiple`` set to their CUDA defaults), its loss, optimizer and
   evaluation; only data sizes, step counts, seeds and sweep lengths shrink. Each training set
   keeps its size modulo the batch size (``n = 2 B + n_true mod B``), so the partial last batch of
   an epoch -- the batch that crashed ``real_vs_ideal --profile small`` at step 31 -- appears
   within three steps, and every run crosses an epoch boundary. Widths are kept where a CPU step
   is cheap (all MLPs, the PAC-Bayes net, hypersphere ``small``); ResNet-18 widths above
   ``CPU_MAX_K`` (double descent: a pack of k = 1, 2 padded to 8, and k = 3), the 100k-unit
   hypersphere (2,000 here) and the PAC-Bayes draws evaluated together (4 here, 64 there) are
   narrowed, because one ResNet-18 k = 64 step at batch 128 takes ~10 s on this CPU.
2. **Every distinct network at its true size, on the meta device** (``test_config_shapes_at_full_size``):
   the unit plans of the real configuration -- every pack and group as built for CUDA, the widest
   and narrowest single widths, the true batch shapes -- take one forward/backward/optimizer step
   with meta tensors (shapes and dtypes propagate, no arithmetic: milliseconds per step).

Together: the pipeline at every config with real numbers, and every shape of the full-size networks.
Not covered: GPU memory (an OOM shows up only on the device) and CUDA kernels.
"""
from __future__ import annotations

import gzip
import math
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import JOBS, driver, get_job  # noqa: E402
from claimcheck.gpu_validation.run import Run  # noqa: E402
from claimcheck.sims import datasets as D  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CPU_MAX_K = 4
STATUSES = {"passed", "failed", "underpowered"}
# every job's cpu (evidence), small (one GPU) and full profiles, where the job defines them
CASES = [(job, profile) for job in JOBS for profile in ("cpu", "small", "full") if profile in get_job(job).PROFILES]


def _idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.tobytes())


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    """Synthetic copies in the real formats of the sets that are not on this machine."""
    root = tmp_path_factory.mktemp("standins")
    rng = np.random.default_rng(0)
    mnist = root / "mnist-full"
    mnist.mkdir()
    for stem, n in (("train", 1100), ("t10k", 300)):
        _idx(mnist / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        _idx(mnist / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    cifar = root / "cifar-10-batches-py"
    cifar.mkdir()
    for name, n in [(b, 80) for b in D.CIFAR10_TRAIN_BATCHES] + [(D.CIFAR10_TEST_BATCH, 100)]:
        with open(cifar / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": (np.arange(n) % 10).tolist()}, fh)
    c5m = root / "cifar5m"
    c5m.mkdir()
    for i, n in enumerate((700, 700)):
        np.savez(c5m / f"cifar5m_part{i}.npz", X=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                 Y=rng.integers(0, 10, n))
    return {"mnist": str(mnist), "cifar10": str(cifar), "cifar5m": str(c5m)}


def _n(true_n: int, batch: int) -> int:
    """Two full batches plus the true remainder: the partial batch shows up at step 3."""
    return 2 * batch + true_n % batch


def _gpu_defaults(cfg) -> dict:
    """The per-device choices as a CUDA run resolves them (a CPU run would choose otherwise)."""
    out = {"batched": True if cfg.batched is None else cfg.batched}
    if hasattr(cfg, "pack_multiple"):
        out["pack_multiple"] = 8 if cfg.pack_multiple is None else cfg.pack_multiple
    return out


def shrink(job: str, profile: str, standins: dict, *, real_steps: bool) -> dict:
    """Overrides that shrink data, steps, seeds and sweep lengths of ``job``'s ``profile`` config but
    keep its data format, batch size, model family and batching logic; with ``real_steps`` also the
    widths that are too slow for a CPU (see the module docstring)."""
    cfg = get_job(job).PROFILES[profile]
    o = _gpu_defaults(cfg) | {"warmup_steps": 0}
    if job == "real_vs_ideal":
        B = cfg.batch_size
        o |= dict(n_real=_n(cfg.n_real, B), n_test=128, steps=4, n_evals=2, n_seeds=2 if cfg.source != "cifar5m" else 1)
        if cfg.source == "cifar5m":
            o["data_dir"] = standins["cifar5m"]
            if real_steps:
                o["width_k"] = min(cfg.width_k, CPU_MAX_K)
    elif job == "deep_double_descent":
        B = cfg.batch_size
        o |= dict(n_train=_n(cfg.n_train, B), n_test=64, epochs=1, n_seeds=1)
        if cfg.dataset == "cifar10":
            o["data_dir"] = standins["cifar10"]
        if real_steps:   # a pack of two widths padded to pack_multiple, and a single width
            o |= dict(widths=(1, 2, 3), batched_max_k=2, label_noise=(max(cfg.label_noise),))
    elif job == "feature_calibration":
        B = cfg.batch_size
        o |= dict(n_train=_n(cfg.n_train, B), n_test=64, epochs=1, n_seeds=2)
        if cfg.dataset == "cifar10":
            o["data_dir"] = standins["cifar10"]
        if real_steps:
            o["width"] = min(cfg.width, CPU_MAX_K)
    elif job == "norm_growth":
        B = cfg.batch_size
        o |= dict(ns=(_n(cfg.ns[0], B), 2 * B + _n(cfg.ns[1], B)), n_test=200, max_steps=7, n_seeds=1)
        if profile == "full":
            o["data_dir"] = standins["mnist"]
    elif job == "pac_bayes_mnist":
        B = cfg.batch_size
        # MC draws: a full batch of draws and a partial one of a single draw (K = 4 here; the vmap over
        # draws is the same at 64)
        o |= dict(n_prior=_n(cfg.n_prior, B), n_bound=_n(cfg.n_bound, B), n_eval=100, prior_epochs=1,
                  posterior_epochs=1, mc_batch=4, mc_samples=5, prior_sigmas=cfg.prior_sigmas[:1])
        if profile == "full":
            o["data_dir"] = standins["mnist"]
    elif job == "hypersphere":
        B = cfg.batch_size
        o |= dict(ns=(2 * B, 3 * B), test_points=128, max_steps=7, n_seeds=1 if real_steps else 2)
        if real_steps:
            o["width"] = min(cfg.width, 10_000 if cfg.d <= 500 else 2_000)
    else:  # pragma: no cover - a new job needs its entry here
        raise AssertionError(f"no shrink rule for job {job!r}: add one")
    return o


def _finite(obj) -> bool:
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite(v) for v in obj)
    return not isinstance(obj, float) or math.isfinite(obj)


def test_every_job_has_a_shrink_rule(standins):
    for job, profile in CASES:
        assert shrink(job, profile, standins, real_steps=True)


@pytest.mark.parametrize("job, profile", CASES)
def test_config_trains_a_few_steps(job, profile, standins):
    over = shrink(job, profile, standins, real_steps=True)
    res = get_job(job).run(profile, seed=0, device="cpu", out_dir=None, progress=False, figures=False, **over)
    assert res["verdict"]["status"] in STATUSES
    assert _finite(res["measurements"]) and res["timings"]["steps"] > 0
    ex = res["execution"]
    if job not in ("pac_bayes_mnist", "norm_growth"):   # the jobs with groups: grouped exactly when a GPU would
        assert ex["batched"] is over["batched"]
    if job == "real_vs_ideal":   # both worlds past the Real World's first epoch (whose 3rd batch was short)
        assert res["timings"]["samples"] == 2 * over["n_seeds"] * over["steps"] * res["config"]["batch_size"]


def _meta_units(job, cfg, units):
    """The units whose networks differ in shape: every group/pack, and per single width its extremes."""
    if job != "deep_double_descent":
        return units[:2] if job != "hypersphere" else units[:1]
    groups = [u for u in units if len(u.members) > 1]
    singles = {}
    for u in units:
        if len(u.members) == 1:
            singles.setdefault(u.spec["pack"][0], u)
    widths = sorted(singles)
    pick = {widths[0], widths[-1], *[w for w in widths if w % 2][:2]} if widths else set()
    return groups + [singles[w] for w in sorted(pick)]


@pytest.mark.parametrize("job, profile", [c for c in CASES if c[0] not in ("pac_bayes_mnist", "norm_growth")])
def test_config_shapes_at_full_size(job, profile, standins):
    """(pac_bayes_mnist and norm_growth train their true-size MLPs in the test above.)"""
    mod = get_job(job)
    over = shrink(job, profile, standins, real_steps=False)
    cfg, _ = driver.resolve_config(mod.PROFILES, profile, over)
    ctx = driver.Context(Run(job, profile, cfg, seed=0, device=torch.device("meta"), out_dir=None, progress=False), cfg,
                         tuple(range(cfg.n_seeds)))
    units = mod.units(ctx)
    assert units
    for unit in _meta_units(job, cfg, units):
        if job == "hypersphere":
            (r,) = mod.train_members(ctx, list(unit.spec))
            assert r["shape"] == (len(unit.spec), cfg.batch_size, 2)
            continue
        plan = mod.plan(ctx, unit)
        x_shape, logits_shape = driver.shape_step(plan)
        if job == "deep_double_descent" and unit.spec.get("mlp_sweep"):   # (G*B, ...) in, (G, M, B, C) out
            G, M = len(cfg.label_noise) * cfg.n_seeds, len(cfg.widths)
            assert x_shape[0] == G * cfg.batch_size and logits_shape[:3] == (G, M, cfg.batch_size), (x_shape, logits_shape)
            continue
        rows = len(unit.members) * cfg.batch_size
        assert x_shape[0] == rows and logits_shape[0] == rows, (unit.name, x_shape, logits_shape)
        if job == "deep_double_descent" and len(unit.members) == 1:
            assert plan.model.k == unit.spec["pack"][0]             # the true width, not a CPU stand-in
        if job == "real_vs_ideal" and cfg.model == "resnet18k":
            assert plan.model.k == cfg.width_k == 64 and x_shape[1:] == (3, 32, 32)
        if job == "feature_calibration" and cfg.model == "resnet18k":
            net = plan.model._template if plan.group else plan.model
            assert net.k == cfg.width and x_shape[1] == (3 if cfg.dataset == "cifar10" else 1)
