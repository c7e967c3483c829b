"""Run folders that are safe to resume: a config fingerprint, no symlinks, clear errors for corrupt files.

A run folder ``OUT/JOB-PROFILE-seedS/`` holds ``config.json`` (the job, profile, seed and the
full config, with a SHA-256 fingerprint of them, execution-only fields such as
``stop_after_steps`` or ``batched`` left out: :data:`EXECUTION_FIELDS`), finished units (``units/*.json``) and
checkpoints (``ckpt/*.pt``). :func:`prepare` is called when a run starts:

* a fresh run (no ``--resume``) writes ``config.json``;
* ``--resume`` compares the stored fingerprint with the current config and refuses a
  different one (naming the fields that differ), or a folder holding results but no
  fingerprint, unless forced (``claimcheck gpu ... --resume --force``, or
  :data:`force_resume` set): mixing units computed under two configurations would give a
  verdict about neither;
* the output folder, the run folder and its ``units``/``ckpt`` folders must not be symbolic
  links: results are never written through a link planted to point elsewhere.

:func:`read_unit` and :func:`load_checkpoint` turn a corrupt file into a ``ValueError`` naming
the file and what to do (delete it to recompute that unit, or rerun without ``--resume``):
a :class:`~claimcheck.gpu_validation.run.UsageError` (exit 2 in ``claimcheck gpu``, one line), not
a runtime failure.
"""
from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from claimcheck.io import atomic_write_json, jsonable

__all__ = ["CONFIG_FILE", "EXECUTION_FIELDS", "force_resume", "fingerprint", "prepare", "read_unit", "load_checkpoint"]

CONFIG_FILE = "config.json"

force_resume: contextvars.ContextVar[bool] = contextvars.ContextVar("claimcheck_force_resume", default=False)
"""True: ``--resume`` continues a run folder even if its config fingerprint differs (``--force``)."""


EXECUTION_FIELDS = frozenset({"stop_after_steps", "batched", "channels_last", "compile", "cuda_graphs", "warmup_steps",
                              "ckpt_every", "data_dir"})
"""Config fields left out of the fingerprint: how a run executes (grouping, compilation, memory
layout, checkpoint spacing, untimed warm-up, a test's interruption point, where the data set is
read from), not what it measures; a run interrupted by ``stop_after_steps`` or moved to a GPU
(batched, channels_last) resumes without ``--force``."""


def _config_dict(cfg: Any) -> dict:
    if dataclasses.is_dataclass(cfg):
        d = dataclasses.asdict(cfg)
    elif isinstance(cfg, dict):
        d = dict(cfg)
    else:  # a plain config object: its public non-callable attributes
        d = {k: getattr(cfg, k) for k in dir(cfg) if not k.startswith("_") and not callable(getattr(cfg, k))}
    return jsonable(d)


def _measured(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in EXECUTION_FIELDS}


def fingerprint(job: str, profile: str, seed: int, cfg: Any) -> str:
    """SHA-256 of the canonical JSON of (job, profile, seed, config without :data:`EXECUTION_FIELDS`)."""
    blob = json.dumps({"job": job, "profile": profile, "seed": seed, "config": _measured(_config_dict(cfg))},
                      sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


def _usage_error(msg: str) -> ValueError:
    from claimcheck.gpu_validation.run import UsageError  # lazy: run.py imports this module

    return UsageError(msg)


def _no_symlinks(*paths: Path) -> None:
    for p in paths:
        if p.is_symlink():
            raise _usage_error(f"{p} is a symbolic link, must be a real folder (run output is never written through links); "
                             "remove the link or choose another --out")


def prepare(run_dir: Path, *, job: str, profile: str, seed: int, cfg: Any, resume: bool) -> None:
    """Check (and on a fresh start, write) the run folder's config fingerprint; refuse symlinks."""
    run_dir = Path(run_dir)
    _no_symlinks(run_dir.parent, run_dir, run_dir / "units", run_dir / "ckpt", run_dir / CONFIG_FILE)
    path = run_dir / CONFIG_FILE
    fp = fingerprint(job, profile, seed, cfg)
    record = {"fingerprint": fp, "job": job, "profile": profile, "seed": seed, "config": _config_dict(cfg)}
    if resume and not force_resume.get():
        if path.is_file():
            try:
                stored = json.loads(path.read_text())
                old_fp = stored["fingerprint"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise _usage_error(f"{path} is corrupt ({exc}); delete it and pass --force to resume anyway, "
                                 "or rerun without --resume") from None
            if old_fp != fp:
                old = _measured(stored.get("config", {}) if isinstance(stored.get("config"), dict) else {})
                new = _measured(record["config"])
                diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                extra = [k for k in ("job", "profile", "seed") if stored.get(k) != record[k]]
                raise _usage_error(f"--resume: {run_dir} was started with a different configuration (differs in "
                                 f"{', '.join(extra + diff) or 'its fingerprint'}); rerun without --resume to start over, "
                                 "or add --force to resume it anyway")
            return
        if any((run_dir / sub).is_dir() and any((run_dir / sub).iterdir()) for sub in ("units", "ckpt")):
            raise _usage_error(f"--resume: {run_dir} holds results but no {CONFIG_FILE} (made by an older claimcheck?); "
                             "its configuration cannot be checked: add --force to resume it anyway, or rerun without --resume")
    if not path.is_file() or not resume or force_resume.get():
        atomic_write_json(path, record)


def read_unit(path: Path) -> dict:
    """A finished unit's stored result; ValueError naming the file if it is not valid JSON of a dict."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _usage_error(f"unit file {path} is corrupt ({exc}); delete it to recompute that unit, "
                         "or rerun without --resume") from None
    if not isinstance(value, dict):
        raise _usage_error(f"unit file {path} holds a {type(value).__name__}, must hold a JSON object; delete it to "
                         "recompute that unit, or rerun without --resume")
    return value


def load_checkpoint(path: Path, device, keys=("model", "optimizer", "step", "history")) -> dict:
    """``torch.load(weights_only=True)`` of a training checkpoint; UsageError naming the file if it
    is corrupt or lacks the ``keys`` a checkpoint has (default model, optimizer, step, history;
    ``keys=()`` for a bare state dict)."""
    import torch

    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, ... for bad files
        raise _usage_error(f"checkpoint {path} is corrupt ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                         "delete it to restart that unit from step 0, or rerun without --resume") from None
    missing = [k for k in keys if not isinstance(state, dict) or k not in state]
    if not isinstance(state, dict):
        missing = missing or ["a dict"]
    if missing:
        raise _usage_error(f"checkpoint {path} lacks {missing}, must be a claimcheck training checkpoint; delete it to "
                         "restart that unit from step 0")
    return state
