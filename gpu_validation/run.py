"""One run of a job: seeds, its directory, finished units, checkpoints, accounting and result file.

* :func:`derive_seed` / :func:`generator` / :func:`seeded_init`: every random choice (init, data
  order, label noise, fresh samples) comes from an explicitly seeded ``torch.Generator`` or from the
  global RNG forked and seeded, so a run is a pure function of its seed.
* :class:`Run`: the run directory ``OUT/JOB-PROFILE-seedS/`` with ``result.json`` (config, git
  revision, device, torch version, timings, throughput, MFU, verdict; written atomically),
  ``units/*.json`` (finished pieces of a sweep) and ``ckpt/*.pt`` (training checkpoints written
  atomically: temp file, fsync, ``os.replace``). ``resume=True`` skips finished units and restarts
  unfinished ones from their last checkpoint; data order and fresh samples depend only on
  (seed, step), so a resumed run ends bit-identical to an uninterrupted one.
* The errors a run can end with, each with its own exit code in ``claimcheck gpu``:
  :class:`UsageError` (2: configuration or data do not fit), :class:`RunInterrupted` and
  :class:`DivergenceError` (4), :class:`JobError` (5: anything else that broke while training).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from claimcheck.io import atomic_write_json, jsonable
from claimcheck.gpu_validation.device import Timer, device_info, peak_flops

__all__ = ["DivergenceError", "RunInterrupted", "UsageError", "JobError", "derive_seed", "generator", "seeded_init",
           "atomic_torch_save", "git_revision", "resolve_config", "Run", "jsonable"]


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or a loss far above its starting value."""


class RunInterrupted(RuntimeError):
    """Raised by ``stop_after_steps``: simulates a run killed midway (checkpoints stay on disk)."""


class UsageError(ValueError):
    """The configuration and the data do not fit (found while running, e.g. too few samples)."""


class JobError(RuntimeError):
    """A job failed while running (not a usage error, not an interruption or divergence)."""


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed that depends only on ``parts`` (stable across processes and machines).

    >>> derive_seed(0, "data") == derive_seed(0, "data") != derive_seed(1, "data")
    True
    """
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(*parts: Any, device: "str | torch.device" = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`derive_seed` of ``parts``."""
    return torch.Generator(device=device).manual_seed(derive_seed(*parts))


def seeded_init(build: Callable[[], nn.Module], *parts: Any, device: "str | torch.device" = "cpu") -> nn.Module:
    """Build a module under a forked global RNG seeded from ``parts`` (init is reproducible).

    ``device="meta"`` builds it without memory or values (shape checks of full-size configs).
    """
    if torch.device(device).type == "meta":
        with torch.device("meta"):
            return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(*parts))
        return build()


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


class Run:
    """One run of a job: its directory, finished units, checkpoints, accounting and result file.

    ``out_dir=None`` keeps everything in memory (no files, no resume). Accounting: every
    optimizer step counts in ``steps_done`` / ``samples`` / ``flops``; throughput and MFU use only
    the *timed* steps (``samples_timed``, ``flops_timed``, ``timer``): the first ``warmup`` steps of
    each training loop (lazy initialisation, cuDNN autotuning, compilation) are left out.
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
        self.flops = 0.0             # their true training FLOPs (padding of packed widths not counted)
        self.samples_timed = 0       # ... of the timed steps (warm-up steps excluded)
        self.flops_timed = 0.0
        self.timer = Timer(device)
        self.units_resumed: list[str] = []
        self.notes: dict[str, Any] = {}   # how the run was executed (batched, compile, precision, ...)
        self.t_start = time.perf_counter()
        self.cpu_start = time.process_time()   # process CPU seconds (all threads): next to wall time on a busy box
        if shard is not None and self.dir is not None and not resume:
            raise ValueError("shard needs resume=True (shards share one run directory)")
        if self.dir is not None:  # no symlinks; config fingerprint written, or checked on resume
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

    # units ------------------------------------------------------------------------------
    def _unit_path(self, unit: str) -> Path | None:
        return None if self.dir is None else self.dir / "units" / f"{unit}.json"

    def load_unit(self, unit: str) -> dict | None:
        """The stored result of a finished unit (resume only), else None."""
        from claimcheck.gpu_validation import rundir

        path = self._unit_path(unit)
        if not self.resume or path is None or not path.is_file():
            return None
        result = rundir.read_unit(path)  # UsageError naming the file if it is corrupt
        self.units_resumed.append(unit)
        return result

    def save_unit(self, unit: str, result: dict) -> dict:
        """Store a finished unit atomically and drop its checkpoint."""
        path = self._unit_path(unit)
        result = jsonable(result)
        if path is not None:
            atomic_write_json(path, result)
            ckpt = self.dir / "ckpt" / f"{unit}.pt"
            with contextlib.suppress(FileNotFoundError):
                ckpt.unlink()
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

    def checkpoint_path(self, unit: str) -> Path | None:
        return None if self.dir is None else self.dir / "ckpt" / f"{unit}.pt"

    # accounting -------------------------------------------------------------------------
    def count_step(self, samples: int, flops: float, timed: bool) -> None:
        """One optimizer step of ``samples`` samples and ``flops`` true training FLOPs."""
        self.steps_done += 1
        self.samples += samples
        self.flops += flops
        if timed:
            self.samples_timed += samples
            self.flops_timed += flops

    def check_interrupt(self) -> None:
        if self.stop_after_steps is not None and self.steps_done >= self.stop_after_steps:
            raise RunInterrupted(f"{self.job}: stopped after {self.steps_done} steps (stop_after_steps)")

    # result ----------------------------------------------------------------------------
    def finish(self, verdict, measurements: dict, figure=None) -> dict:
        """Assemble the result (config, code version, device, timings, MFU, verdict) and write
        ``result.json`` atomically when the run has a directory. A partial (sharded) run has no
        verdict and writes ``shard-I-of-M.json`` instead. ``figure(result, dir)``, when given,
        draws the job's figure into the run directory first; its paths go under ``"figures"``."""
        train_s = self.timer.seconds
        wall_s = time.perf_counter() - self.t_start
        throughput = self.samples_timed / train_s if train_s > 0 and self.samples_timed else None
        peak = peak_flops(self.device)
        achieved = self.flops_timed / train_s if train_s > 0 and self.flops_timed else None
        result = {
            "job": self.job,
            "profile": self.profile,
            "seed": self.seed,
            "config": dataclasses.asdict(self.cfg) if dataclasses.is_dataclass(self.cfg) else None,
            "verdict": None if verdict is None else verdict.to_dict(),
            "partial": self.partial,
            "shard": list(self.shard) if self.shard else None,
            "measurements": measurements,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git_revision": git_revision(),
            "device": device_info(self.device),
            "execution": self.notes,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "timings": {
                "wall_s": wall_s,
                "cpu_s": time.process_time() - self.cpu_start,
                "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                "train_s": train_s,
                "steps": self.steps_done,
                "samples": self.samples,
                "samples_timed": self.samples_timed,
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
