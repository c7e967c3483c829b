"""Machinery shared by the GPU jobs: devices, seeds, timing, MFU, checkpoints, results, verdicts.

Every job file (``double_descent.py``, ``real_vs_ideal.py``, ...) reads top to bottom and
uses only what is here:

* :func:`select_device` (``cuda`` if available, else ``cpu``; ``--device`` overrides),
  :func:`autocast` (bf16 on CUDA only; CPU runs stay in fp32 and bit-reproducible),
  ``channels_last`` for conv nets on CUDA (:func:`prepare_model`), optional ``torch.compile``
  (CUDA only; ignored on CPU).
* :func:`derive_seed` / :func:`generator`: every random choice (init, data order, label
  noise, fresh samples) comes from an explicitly seeded ``torch.Generator`` or from the
  global RNG forked and seeded (:func:`seeded_init`), so a run is a pure function of its seed.
* :class:`Run`: the run directory ``OUT/JOB-PROFILE-seedS/`` with ``result.json`` (config,
  git revision, device, torch version, timings, throughput, MFU, verdict; written
  atomically), ``units/*.json`` (finished pieces of a sweep) and ``ckpt/*.pt`` (training
  checkpoints written atomically: temp file, fsync, ``os.replace``). ``resume=True`` skips
  finished units and restarts unfinished ones from their last checkpoint; because the data
  order and fresh samples depend only on (seed, step), a resumed run ends bit-identical to
  an uninterrupted one. ``stop_after_steps`` interrupts a run (raises :class:`RunInterrupted`)
  so tests can kill it midway.
* :meth:`Run.train`: the training loop -- NaN/divergence detection (:class:`DivergenceError`
  says at which step and what to change), progress bar (tqdm), CUDA-event timing.
* MFU (model FLOPs utilization, Chowdhery et al. 2022 "PaLM", App. B, as in nanoGPT's
  ``estimate_mfu``): achieved FLOP/s / peak FLOP/s, with achieved = training FLOPs per
  sample x samples/s and training FLOPs per sample = 3 x forward FLOPs (backward costs
  twice the forward: Kaplan et al. 2020, Sec. 2.1). Peak = dense bf16 tensor-core rate from
  the vendor datasheet (:data:`PEAK_BF16_FLOPS`); ``None`` on CPU or an unknown GPU.
* :func:`bootstrap` and :func:`sign_verdict` / :func:`upper_verdict`: percentile-bootstrap
  CIs over seeds and a :class:`claimcheck.verdict.Verdict` per job.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from claimcheck.estimate import Estimate
from claimcheck.io import atomic_write_json, jsonable  # jsonable re-exported for the jobs
from claimcheck.verdict import Status, Verdict

__all__ = [
    "PEAK_BF16_FLOPS", "DivergenceError", "RunInterrupted", "select_device", "autocast", "derive_seed",
    "generator", "seeded_init", "prepare_model", "peak_flops", "peak_flops_for_name", "train_flops_per_sample", "Timer",
    "atomic_torch_save", "epoch_batches", "git_revision", "Run", "bootstrap", "sign_verdict", "upper_verdict",
    "evaluate", "resolve_config", "jsonable", "label_noise", "save_figure",
]

PEAK_BF16_FLOPS: dict[str, float] = {
    # Dense (no sparsity) bf16/fp16 tensor-core peaks from the NVIDIA datasheets; the first
    # key contained in the lower-cased torch.cuda.get_device_name() wins, so order matters.
    "h100 pcie": 756e12,
    "h100": 989e12,   # H100 SXM5
    "h200": 989e12,
    "gh200": 989e12,
    "b200": 2250e12,
    "a100": 312e12,   # the number nanoGPT uses
    "l40s": 362e12,
    "l4": 121e12,
    "a10": 125e12,
    "rtx 4090": 165e12,  # fp16/bf16 with fp32 accumulate
    "rtx 3090": 71e12,
    "v100": 125e12,   # fp16 (no bf16 on Volta)
    "t4": 65e12,      # fp16
}
"""Peak dense bf16 FLOP/s per GPU name fragment (vendor datasheets)."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or a loss far above its starting value."""


class RunInterrupted(RuntimeError):
    """Raised by ``stop_after_steps``: simulates a run killed midway (checkpoints stay on disk)."""


# --------------------------------------------------------------------------- devices, seeds

def select_device(device: "str | torch.device | None" = None) -> torch.device:
    """``device`` if given (validated), else ``cuda`` when available, else ``cpu``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r}, must be 'cpu', 'cuda', 'cuda:N' or 'auto'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but torch {torch.__version__} sees no CUDA GPU; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}, must be 'cpu', 'cuda', 'cuda:N' or 'auto'")
    return dev


def autocast(device: torch.device):
    """bf16 autocast on CUDA; a no-op on CPU (fp32, bit-reproducible)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed that depends only on ``parts`` (stable across processes and machines).

    >>> derive_seed(0, "data") == derive_seed(0, "data") != derive_seed(1, "data")
    True
    """
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(*parts: Any, device: "str | torch.device" = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded with :func:`derive_seed` of ``parts``."""
    return torch.Generator(device=device).manual_seed(derive_seed(*parts))


def seeded_init(build: Callable[[], nn.Module], *parts: Any) -> nn.Module:
    """Build a module on CPU under a forked global RNG seeded from ``parts`` (init is reproducible)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(*parts))
        return build()


def prepare_model(model: nn.Module, device: torch.device, *, conv: bool = False, compile: bool = False) -> nn.Module:
    """Move to ``device``; channels_last for conv nets on CUDA; ``torch.compile`` on CUDA if asked."""
    model = model.to(device)
    if device.type == "cuda" and conv:
        model = model.to(memory_format=torch.channels_last)
    if compile and device.type == "cuda":
        model = torch.compile(model)
    return model


def epoch_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, *order_key: Any):
    """``(batch_fn, steps_per_epoch)`` cycling through ``(x, y)`` in a fresh order each epoch.

    Epoch e's order is ``torch.randperm(n, generator=generator(*order_key, e))``, so
    ``batch_fn(step)`` depends only on ``order_key`` and ``step`` (what resuming from a
    checkpoint needs); the last batch of an epoch may be short.

    >>> fn, per_epoch = epoch_batches(torch.arange(5.0), torch.arange(5), 2, 0, "order")
    >>> per_epoch, sorted(torch.cat([fn(s)[1] for s in range(3)]).tolist())
    (3, [0, 1, 2, 3, 4])
    """
    n = x.shape[0]
    per_epoch = math.ceil(n / batch_size)
    orders: dict[int, torch.Tensor] = {}

    def batch(step: int):
        epoch, i = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            orders[epoch] = torch.randperm(n, generator=generator(*order_key, epoch)).to(x.device)
        idx = orders[epoch][i * batch_size:(i + 1) * batch_size]
        return x[idx], y[idx]

    return batch, per_epoch


def label_noise(y: torch.Tensor, fraction: float, num_classes: int, gen: torch.Generator) -> torch.Tensor:
    """Replace exactly ``round(fraction * n)`` labels, chosen uniformly, by a uniformly random
    *wrong* label (Nakkiran et al. 2020, Sec. 3: noise fixed once, before training).

    >>> y = torch.zeros(10, dtype=torch.long)
    >>> int((label_noise(y, 0.3, 10, torch.Generator().manual_seed(0)) != y).sum())
    3
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"label_noise={fraction}, must be in [0, 1]")
    n = y.shape[0]
    m = int(round(fraction * n))
    idx = torch.randperm(n, generator=gen)[:m]
    shift = torch.randint(1, num_classes, (m,), generator=gen)
    out = y.clone()
    out[idx] = (y[idx] + shift) % num_classes
    return out


# --------------------------------------------------------------------------- FLOPs, timing

def peak_flops(device: torch.device) -> float | None:
    """Peak dense bf16 FLOP/s of ``device`` from :data:`PEAK_BF16_FLOPS`; None on CPU/unknown."""
    if device.type != "cuda":
        return None
    return peak_flops_for_name(torch.cuda.get_device_name(device))


def peak_flops_for_name(name: str) -> float | None:
    """Peak dense bf16 FLOP/s for a GPU name (first matching :data:`PEAK_BF16_FLOPS` key).

    >>> peak_flops_for_name("NVIDIA A100-SXM4-80GB"), peak_flops_for_name("NVIDIA H100 PCIe")
    (312000000000000.0, 756000000000000.0)
    """
    name = name.lower()
    for key, value in PEAK_BF16_FLOPS.items():
        if key in name:
            return value
    return None


def train_flops_per_sample(model: nn.Module, sample_shape: tuple[int, ...]) -> int:
    """Training FLOPs per sample = 3 x forward FLOPs (forward + backward at 2x forward;
    Kaplan et al. 2020, Sec. 2.1; PaLM App. B)."""
    from claimcheck.gpu_validation.models import forward_flops

    return 3 * forward_flops(model, sample_shape)


class Timer:
    """Accumulates elapsed seconds over start/stop segments: CUDA events (with a
    synchronize when read) on a GPU, ``time.perf_counter`` on CPU."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self._pairs: list = []
        self._cpu = 0.0
        self._t0: Any = None

    def start(self) -> None:
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            self._t0 = ev
        else:
            self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self._t0 is None:
            return
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            self._pairs.append((self._t0, ev))
        else:
            self._cpu += time.perf_counter() - self._t0
        self._t0 = None

    @property
    def seconds(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
            return sum(a.elapsed_time(b) for a, b in self._pairs) / 1000.0 + getattr(self, "_external", 0.0)
        return self._cpu


# --------------------------------------------------------------------------- files

def atomic_torch_save(obj: Any, path: "str | os.PathLike") -> Path:
    """``torch.save`` to a temp file in the same folder, fsync, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def git_revision() -> str | None:
    """Short git revision of the checkout holding this file (``+dirty`` if modified), or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, cwd=root)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=5, cwd=root)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def resolve_config(profiles: dict, profile, overrides: dict | None = None):
    """A job config from a profile name or a config instance, with field overrides applied."""
    if isinstance(profile, str):
        if profile not in profiles:
            raise ValueError(f"profile={profile!r}, must be one of {sorted(profiles)}")
        cfg, name = profiles[profile], profile
    elif dataclasses.is_dataclass(profile):
        cfg, name = profile, getattr(profile, "profile", "custom")
    else:
        raise ValueError(f"profile={profile!r}, must be one of {sorted(profiles)} or a config dataclass")
    if overrides:
        fields = {f.name for f in dataclasses.fields(cfg)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; valid: {sorted(fields)}")
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg, name


# --------------------------------------------------------------------------- the run

class Run:
    """One run of a job: its directory, finished units, checkpoints, timing and result file.

    ``out_dir=None`` keeps everything in memory (no files, no resume).
    """

    def __init__(self, job: str, profile: str, cfg: Any, *, seed: int, device: torch.device,
                 out_dir: "str | os.PathLike | None", resume: bool = False,
                 stop_after_steps: int | None = None, progress: bool | None = None,
                 shard: tuple[int, int] | None = None):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed={seed!r}, must be an integer >= 0")
        self.job, self.profile, self.cfg, self.seed, self.device = job, profile, cfg, seed, device
        self.dir = None if out_dir is None else Path(out_dir) / f"{job}-{profile}-seed{seed}"
        self.resume = resume and self.dir is not None
        self.stop_after_steps = stop_after_steps
        self.progress = progress
        if shard is not None and not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
            raise ValueError(f"shard={shard!r}, must be (index, count) with 0 <= index < count")
        self.shard = shard           # (i, m): this process computes units i, i+m, i+2m, ... only
        self.partial = False         # True once a unit was left to another shard
        self._unit_index = 0
        self.steps_done = 0          # optimizer steps taken by this process
        self.samples = 0             # training samples processed by this process
        self.flops = 0.0             # training FLOPs of those samples
        self.timer = Timer(device)
        self.units_resumed: list[str] = []
        self.t_start = time.perf_counter()
        if shard is not None and self.dir is not None and not resume:
            raise ValueError("shard needs resume=True (shards share one run directory)")
        if self.dir is not None:  # no symlinks; config fingerprint written, or checked on --resume
            from claimcheck.gpu_validation import rundir

            rundir.prepare(self.dir, job=job, profile=profile, seed=seed, cfg=cfg, resume=self.resume)
        if self.dir is not None and self.dir.is_dir() and shard is None:
            # temp files of a process killed mid-write (ours only; shards of an array may be
            # writing theirs concurrently, so only an unsharded run cleans up)
            for stale in self.dir.rglob(".*.tmp"):
                stale.unlink(missing_ok=True)
        if self.dir is not None and not resume:
            for sub in ("units", "ckpt"):
                shutil.rmtree(self.dir / sub, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                (self.dir / "result.json").unlink()

    # units: finished pieces of a sweep --------------------------------------------------
    def load_unit(self, unit: str) -> dict | None:
        """The stored result of a finished unit when resuming, else None."""
        if not self.resume:
            return None
        path = self.dir / "units" / f"{unit}.json"
        if not path.is_file():
            return None
        from claimcheck.gpu_validation import rundir

        result = rundir.read_unit(path)  # ValueError naming the file if it is corrupt
        self.units_resumed.append(unit)
        return result

    def save_unit(self, unit: str, result: dict) -> dict:
        if self.dir is not None:
            atomic_write_json(self.dir / "units" / f"{unit}.json", jsonable(result))
            with contextlib.suppress(FileNotFoundError):
                (self.dir / "ckpt" / f"{unit}.pt").unlink()
        return result

    def unit(self, unit: str, compute: Callable[[], dict]) -> dict | None:
        """``load_unit(unit)`` or ``save_unit(unit, compute())``; None for a unit that belongs
        to another shard of a job array (the run is then ``partial``: no verdict)."""
        index, self._unit_index = self._unit_index, self._unit_index + 1
        done = self.load_unit(unit)
        if done is not None:
            return done
        if self.shard is not None and index % self.shard[1] != self.shard[0]:
            self.partial = True
            return None
        return self.save_unit(unit, compute())

    def account(self, samples: int, seconds: float, flops_per_sample: float = 0.0) -> None:
        """Add training done by code outside :meth:`train` (e.g. a wrapped experiment that
        reports its own samples and synchronised seconds) to the run's throughput and MFU."""
        self.samples += int(samples)
        self.flops += flops_per_sample * samples
        self.timer._cpu += float(seconds)
        if self.timer.cuda:  # keep CUDA-event segments and external seconds in one total
            self.timer._external = getattr(self.timer, "_external", 0.0) + float(seconds)

    # training ---------------------------------------------------------------------------
    def train(self, model: nn.Module, optimizer: torch.optim.Optimizer, *, unit: str, steps: int,
              batch_fn: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
              flops_per_sample: float = 0.0, lr_fn: Callable[[int], float] | None = None,
              eval_fn: Callable[[int], dict] | None = None, eval_steps: Iterable[int] = (),
              ckpt_every: int = 0, check_every: int = 25, divergence_factor: float = 1e4,
              loss_fn: Callable = F.cross_entropy,
              stop_fn: Callable[[int, dict], bool] | None = None) -> list[dict]:
        """Train ``model`` for ``steps`` optimizer steps; returns the eval history.

        ``batch_fn(step) -> (x, y)`` must depend only on ``step`` (and seeds fixed before
        training), ``lr_fn(step)`` sets the learning rate; ``eval_fn(step)`` runs after the
        steps listed in ``eval_steps``. Checkpoints every ``ckpt_every`` steps (model,
        optimizer, step, history) let :meth:`train` resume a unit exactly. The loss is checked
        every ``check_every`` steps: non-finite, or above ``divergence_factor`` x its first
        value -> :class:`DivergenceError`. ``stop_fn(step, evaluation)`` is asked after each
        evaluation; True ends training there (a stopping rule such as "margin reached"; it is
        deterministic, so an interrupted and resumed unit stops at the same step).
        """
        from tqdm import tqdm

        eval_steps = set(int(s) for s in eval_steps)
        ckpt = None if self.dir is None or ckpt_every <= 0 else self.dir / "ckpt" / f"{unit}.pt"
        step, history = 0, []
        if self.resume and ckpt is not None and ckpt.is_file():
            from claimcheck.gpu_validation import rundir

            state = rundir.load_checkpoint(ckpt, self.device)  # torch.load(weights_only=True); corrupt -> ValueError
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            step, history = int(state["step"]), list(state["history"])
        first_loss: float | None = None
        bad = torch.zeros((), dtype=torch.bool, device=self.device)
        last_loss = torch.zeros((), device=self.device)
        bar = tqdm(total=steps, initial=step, desc=f"{self.job} {unit}", unit="step", leave=False,
                   disable=(not self.progress) if self.progress is not None else None, file=sys.stderr)
        model.train()
        try:
            while step < steps:
                if lr_fn is not None:
                    for g in optimizer.param_groups:
                        g["lr"] = lr_fn(step)
                self.timer.start()
                x, y = batch_fn(step)
                with autocast(self.device):
                    loss = loss_fn(model(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                self.timer.stop()
                loss = loss.detach().float()
                bad |= ~torch.isfinite(loss)
                last_loss = loss
                step += 1
                self.steps_done += 1
                self.samples += x.shape[0]
                self.flops += flops_per_sample * x.shape[0]
                bar.update()
                if step % check_every == 0 or step == steps or step in eval_steps or step == 1:
                    value = float(last_loss)
                    if first_loss is None:
                        first_loss = value
                    if bool(bad) or not math.isfinite(value) or value > divergence_factor * max(first_loss, 1e-3):
                        raise DivergenceError(
                            f"{self.job} unit {unit}: training diverged at step {step} (loss = {value:g}, first loss "
                            f"{first_loss:g}, non-finite seen: {bool(bad)}); lower the learning rate, use fp32 "
                            f"(--device cpu) to rule out bf16 overflow, or check the data for NaN/inf"
                        )
                    bar.set_postfix(loss=f"{value:.3g}")
                if step in eval_steps and eval_fn is not None:
                    model.eval()
                    history.append({"step": step, **eval_fn(step)})
                    model.train()
                    if stop_fn is not None and stop_fn(step, history[-1]):
                        break
                if ckpt is not None and (step % ckpt_every == 0) and step < steps:
                    atomic_torch_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                       "step": step, "history": history}, ckpt)
                if self.stop_after_steps is not None and self.steps_done >= self.stop_after_steps:
                    raise RunInterrupted(f"{self.job}: stopped after {self.steps_done} steps (stop_after_steps)")
        finally:
            bar.close()
        return history

    # result ----------------------------------------------------------------------------
    def finish(self, verdict: Verdict | None, measurements: dict, figure=None) -> dict:
        """Assemble the result (config, code version, device, timings, MFU, verdict) and
        write ``result.json`` atomically when the run has a directory. A partial (sharded)
        run has no verdict and writes ``shard-I-of-M.json`` instead. ``figure(result, dir)``,
        when given, draws the job's figure into the run directory first; its paths are
        recorded under ``"figures"``."""
        train_s = self.timer.seconds
        wall_s = time.perf_counter() - self.t_start
        throughput = self.samples / train_s if train_s > 0 and self.samples else None
        peak = peak_flops(self.device)
        achieved = self.flops / train_s if train_s > 0 and self.flops else None
        result = {
            "job": self.job,
            "profile": self.profile,
            "seed": self.seed,
            "config": dataclasses.asdict(self.cfg),
            "verdict": None if verdict is None else verdict.to_dict(),
            "partial": self.partial,
            "shard": list(self.shard) if self.shard else None,
            "measurements": measurements,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git_revision": git_revision(),
            "device": _device_info(self.device),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "timings": {
                "wall_s": wall_s,
                "train_s": train_s,
                "steps": self.steps_done,
                "samples": self.samples,
                "throughput_samples_per_s": throughput,
                "achieved_flops_per_s": achieved,
                "peak_flops_per_s": peak,
                "mfu": achieved / peak if achieved and peak else None,
                "units_resumed": self.units_resumed,
            },
        }
        result = jsonable(result)
        if figure is not None and self.dir is not None and not self.partial:
            result["figures"] = figure(result, self.dir)
        if self.dir is not None:
            name = f"shard-{self.shard[0]}-of-{self.shard[1]}.json" if self.partial else "result.json"
            atomic_write_json(self.dir / name, result)
            result["path"] = str(self.dir / name)
        return result


def _device_info(device: torch.device) -> dict:
    info = {"type": device.type, "name": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1), cuda=torch.version.cuda)
    return info


# --------------------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int = 1024) -> dict:
    """Hard error, soft error and cross-entropy of ``model`` on (x, y).

    soft error = 1 - E[p_y(x)]: the expected error of a prediction *sampled* from the softmax
    (Nakkiran, Neyshabur & Sedghi 2021, "The Deep Bootstrap", Sec. 2).
    """
    was = model.training
    model.eval()
    err = soft = loss = 0.0
    for i in range(0, x.shape[0], batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        with autocast(device):
            logits = model(xb)
        logits = logits.float()
        p = logits.softmax(-1)
        err += float((logits.argmax(-1) != yb).sum())
        soft += float((1 - p.gather(1, yb[:, None]).squeeze(1)).sum())
        loss += float(F.cross_entropy(logits, yb, reduction="sum"))
    model.train(was)
    n = x.shape[0]
    return {"error": err / n, "soft_error": soft / n, "loss": loss / n}


# --------------------------------------------------------------------------- statistics

def bootstrap(samples: np.ndarray, stat: Callable[[np.ndarray], float], *, seed: int = 0, n_boot: int = 2000,
              level: float = 0.95) -> dict:
    """Percentile bootstrap over the first axis (seeds) of ``samples``.

    Returns ``{"value", "ci_low", "ci_high", "se", "n"}``: the statistic on all seeds, the
    ``level`` percentile interval and the bootstrap SE (nan and a degenerate interval when
    there is a single seed: no CI can be had).

    >>> b = bootstrap(np.array([1.0, 2.0, 3.0, 4.0]), np.mean)
    >>> b["ci_low"] < b["value"] < b["ci_high"]
    True
    """
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    value = float(stat(samples))
    if n < 2:
        return {"value": value, "ci_low": value, "ci_high": value, "se": float("nan"), "n": n}
    rng = np.random.default_rng(derive_seed(seed, "bootstrap"))
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = np.array([stat(samples[i]) for i in idx])
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return {"value": value, "ci_low": float(lo), "ci_high": float(hi), "se": float(reps.std(ddof=1)), "n": n}


MIN_SEEDS = 3
"""A bootstrap over fewer seeds has too few distinct resamples to pass or fail a claim."""


def _verdict(claim_id, status, threshold, b, seed, params, profile, detail, extra, level):
    se = b["se"]
    z = (b["value"] - threshold) / se if se and math.isfinite(se) and se > 0 else 0.0
    return Verdict(
        claim_id=claim_id, status=status, prediction=float(threshold),
        estimate=Estimate(b["value"], se, b["n"]), z=float(z), alpha=1 - level, seed=seed,
        params=jsonable(params), budget=profile, detail=detail,
        extra=jsonable({"ci_low": b["ci_low"], "ci_high": b["ci_high"], "ci_level": level, **extra}),
    )


def sign_verdict(claim_id: str, b: dict, *, statistic: str, seed: int, params: dict, profile: str,
                 threshold: float = 0.0, extra: dict | None = None, level: float = 0.95,
                 unmet: str | None = None) -> Verdict:
    """Claim "statistic > threshold": passed if the bootstrap CI lies above the threshold,
    failed if it lies at or below it, underpowered otherwise (fewer than MIN_SEEDS seeds, or a
    precondition of the claim not met: ``unmet`` says which)."""
    ci = f"{b['value']:.4g} [{b['ci_low']:.4g}, {b['ci_high']:.4g}] ({level:.0%} bootstrap CI over {b['n']} seeds)"
    if b["n"] < MIN_SEEDS:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}: fewer than {MIN_SEEDS} seeds, not a verdict"
    elif unmet:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}; precondition not met: {unmet}"
    elif b["ci_low"] > threshold:
        status, detail = Status.PASSED, f"{statistic} = {ci} > {threshold:g}"
    elif b["ci_high"] <= threshold:
        status, detail = Status.FAILED, f"{statistic} = {ci} <= {threshold:g}: contradicts the claim"
    else:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci} straddles {threshold:g}: more seeds needed"
    return _verdict(claim_id, status, threshold, b, seed, params, profile, detail, extra or {}, level)


def upper_verdict(claim_id: str, b: dict, *, statistic: str, tolerance: float, seed: int, params: dict,
                  profile: str, extra: dict | None = None, level: float = 0.95, unmet: str | None = None) -> Verdict:
    """Claim "statistic <= tolerance": passed if the CI lies below, failed if above, else
    underpowered (as :func:`sign_verdict`, including an ``unmet`` precondition)."""
    ci = f"{b['value']:.4g} [{b['ci_low']:.4g}, {b['ci_high']:.4g}] ({level:.0%} bootstrap CI over {b['n']} seeds)"
    if b["n"] < MIN_SEEDS:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}: fewer than {MIN_SEEDS} seeds, not a verdict"
    elif unmet:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci}; precondition not met: {unmet}"
    elif b["ci_high"] <= tolerance:
        status, detail = Status.PASSED, f"{statistic} = {ci} <= {tolerance:g}"
    elif b["ci_low"] > tolerance:
        status, detail = Status.FAILED, f"{statistic} = {ci} > {tolerance:g}: contradicts the claim"
    else:
        status, detail = Status.UNDERPOWERED, f"{statistic} = {ci} straddles {tolerance:g}: more seeds needed"
    return _verdict(claim_id, status, tolerance, b, seed, params, profile, detail, extra or {}, level)


def save_figure(draw: Callable, out_dir, name: str) -> list[str]:
    """Draw one panel with ``draw(ax)`` in the project's paper style (NeurIPS, half column)
    and write ``out_dir/name.pdf`` + ``.png`` atomically (:func:`paper_figures.style.save`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from claimcheck.paper_figures import style

    with plt.rc_context(style.rc("neurips", column="half")):
        fig, ax = plt.subplots()
        draw(ax)
        return [str(p) for p in style.save(fig, out_dir, name)]
