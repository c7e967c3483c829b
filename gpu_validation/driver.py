"""The one driver of the GPU jobs: every job has the same parts, run in the same order.

A job module defines

=====================================  ==========================================================================
``JOB``, ``CLAIM_ID``                  its name and the claim its verdict belongs to
``Config``, ``PROFILES``               a frozen dataclass (a :class:`JobConfig`; units in the comments) and its
                                       ``smoke`` / ``small`` / ``full`` instances
``validate(cfg)``                      ValueError naming the field for a bad configuration (before anything runs)
``units(ctx)``                         the :class:`Unit` list of the sweep: one network, or a group of networks
                                       trained together (seeds, worlds, widths); each unit is stored and resumed
                                       on its own, and a job array splits the list between its tasks
``train_unit(ctx, unit)``              trains one unit; returns ``{member: measurements}`` (JSON). Most jobs
                                       describe the unit as a :class:`Plan` (model or group, optimizer, batches,
                                       evaluations) and hand it to :func:`train_plan`
``measurements(ctx, members)``         the per-seed arrays of the result (seed axis first)
``verdict(cfg, m, *, seed, profile)``  optional: a job's own decision; without it (every job here) :func:`decide`
                                       applies the job's registered rule (``rules.decide``: the statistic,
                                       its preconditions, Student t over seeds)
``figure(result, dir)``                its PDF + PNG
``run(...)``                           ``driver.run(this module, ...)``
=====================================  ==========================================================================

:func:`run` resolves the profile, validates, configures the device (threads, cuDNN, TF32), trains
the units it owns (skipping finished ones when resuming), assembles the measurements, decides and
writes ``result.json``. Errors keep their kind: a bad configuration or data that do not fit
(ValueError / :class:`UsageError`, FileNotFoundError), an interruption or divergence
(:class:`RunInterrupted`, :class:`DivergenceError`); anything else raised while running becomes a
:class:`JobError` naming the job and the unit (``claimcheck gpu`` exit code 5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from claimcheck.gpu_validation import loop
from claimcheck.gpu_validation.device import (CHANNELS_LAST_DEVICES, PRECISIONS, autocast, compile_module, configure, optimizer,
                                              prepare_model, select_device)
from claimcheck.gpu_validation.run import (DivergenceError, JobError, Run, RunInterrupted, UsageError,
                                           resolve_config)

__all__ = ["JobConfig", "Unit", "Plan", "Context", "run", "decide", "train_plan", "shape_step", "validate_common"]

PASS_THROUGH = (DivergenceError, RunInterrupted, UsageError, FileNotFoundError, JobError)


@dataclass(frozen=True)
class JobConfig:
    """Fields every job has (a job's ``Config`` adds its own after these)."""
    profile: str = "custom"
    n_seeds: int = 3                 # replicates seed, seed+1, ...; the verdict's CI is over them
    batched: bool | None = None      # train the members of a sweep point as one group; None: on CUDA, and on
                                     #   CPU for MLPs only (conv groups were slower there: benchmarks/results/gpu_batched.md)
    precision: str = "auto"          # auto (bf16 autocast on CUDA, fp32 on CPU) | fp32 | tf32 | bf16
    channels_last: bool | None = None  # conv nets in channels_last on CUDA (None or True); never on CPU (device.py)
    compile: bool = False            # torch.compile the training forward (CUDA; eager fallback on CPU)
    cuda_graphs: bool = False        # ... with mode="reduce-overhead" (CUDA graphs; static shapes)
    ckpt_every: int = 1000           # optimizer steps between checkpoints
    warmup_steps: int = 2            # first steps of each training loop left out of the timing
    stop_after_steps: int | None = None  # interrupt after this many steps (tests of resume)


def validate_common(cfg: JobConfig) -> None:
    """The checks of the :class:`JobConfig` fields (each job's ``validate`` calls it first)."""
    if isinstance(cfg.n_seeds, bool) or not isinstance(cfg.n_seeds, int) or cfg.n_seeds < 1:
        raise ValueError(f"n_seeds={cfg.n_seeds!r}, must be an integer >= 1")
    if cfg.precision not in PRECISIONS:
        raise ValueError(f"precision={cfg.precision!r}, must be one of {list(PRECISIONS)}")
    for name in ("batched", "channels_last"):
        if getattr(cfg, name) not in (None, True, False):
            raise ValueError(f"{name}={getattr(cfg, name)!r}, must be True, False or None (per device)")
    if isinstance(cfg.warmup_steps, bool) or not isinstance(cfg.warmup_steps, int) or cfg.warmup_steps < 0:
        raise ValueError(f"warmup_steps={cfg.warmup_steps!r}, must be an integer >= 0")


@dataclass(frozen=True)
class Unit:
    """One stored piece of a sweep: ``name`` (its file under ``units/``) and the ``members``
    it trains (one network, or several trained together as a group); ``spec`` is the job's own
    description (e.g. the widths of a pack)."""
    name: str
    members: tuple[str, ...]
    spec: Any = None


@dataclass
class Plan:
    """One unit's training, ready for :func:`train_plan` (or :func:`shape_step` on the meta device).

    ``model``: one network or a :class:`gpu_validation.batched.BatchedModels` group (``group=True``;
    then ``batch_fn`` stacks the members' batches and ``loss_fn`` sums their mean losses).
    ``flops_per_sample``: true training FLOPs per batch row (padding of packed widths excluded).
    ``eval_fn(step, model)`` runs at ``eval_steps``; ``finish(model, history)`` returns the
    members' measurements.
    """
    model: nn.Module
    make_optimizer: Callable[[Any], torch.optim.Optimizer]
    steps: int
    batch_fn: Callable[[int], tuple[torch.Tensor, torch.Tensor]]
    finish: Callable[[nn.Module, list], dict]
    loss_fn: Callable = F.cross_entropy
    lr_fn: Callable[[int], float] | None = None
    flops_per_sample: float = 0.0
    eval_fn: Callable[[int, nn.Module], dict] | None = None
    eval_steps: Sequence[int] = ()
    stop_fn: Callable[[int, dict], bool] | None = None
    conv: bool = False
    group: bool = False


@dataclass
class Context:
    """What a unit's training needs: the run, the config, the seeds and per-device decisions."""
    run: Run
    cfg: Any = None
    seeds: tuple[int, ...] = ()
    cache: dict = field(default_factory=dict)
    unit: str | None = None

    @property
    def device(self) -> torch.device:
        return self.run.device

    @property
    def init_device(self) -> str:
        """Where networks are built: ``"meta"`` for shape checks, else CPU (then moved)."""
        return "meta" if self.device.type == "meta" else "cpu"

    @property
    def precision(self) -> str:
        return getattr(self.cfg, "precision", "auto")

    @property
    def warmup_steps(self) -> int:
        return getattr(self.cfg, "warmup_steps", 0)

    def group(self, *, conv: bool) -> bool:
        """Train the members of a sweep point as one group? ``cfg.batched`` if set; else always on
        CUDA, and on CPU only for MLP-like nets: there the groups of MLPs were 1.1-1.7x and the stacked
        hypersphere networks 1.8-2.3x as fast as one by one, the vmap'ed ResNet groups 0.6-0.9x
        (three benchmark runs on the shared 2-core box; benchmarks/results/gpu_batched.md, job-scale table)."""
        b = getattr(self.cfg, "batched", None)
        if b is not None:
            return bool(b)
        return self.device.type == "cuda" or not conv

    @property
    def channels_last(self) -> bool:
        """channels_last for conv nets: on CUDA by default, never on CPU (device.CHANNELS_LAST_DEVICES)."""
        c = getattr(self.cfg, "channels_last", None)
        return self.device.type in CHANNELS_LAST_DEVICES and (c is None or bool(c))

    def amp(self):
        return autocast(self.device, self.precision)

    def once(self, key, build: Callable[[], Any]) -> Any:
        """``build()`` the first time ``key`` is asked for, the cached value afterwards."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def optimizer(self, name: str, params, **kw) -> torch.optim.Optimizer:
        """SGD / Adam with ``fused=True`` on CUDA (:func:`gpu_validation.device.optimizer`)."""
        return optimizer(name, params, self.device, **kw)

    def compile(self, module: nn.Module) -> nn.Module:
        """The forward to train with (``torch.compile`` on CUDA if ``cfg.compile``); records how."""
        fwd, how = compile_module(module, self.device, enabled=bool(getattr(self.cfg, "compile", False)),
                                  cuda_graphs=bool(getattr(self.cfg, "cuda_graphs", False)))
        self.run.notes["compile"] = how
        return fwd


def train_plan(ctx: Context, unit: Unit, plan: Plan) -> dict:
    """Train ``plan`` with :func:`gpu_validation.loop.train` and return ``plan.finish(model, history)``."""
    model = prepare_model(plan.model, ctx.device, channels_last=plan.conv and ctx.channels_last and not plan.group)
    forward = ctx.compile(model)
    opt = plan.make_optimizer(model.parameters())
    eval_fn = None if plan.eval_fn is None else (lambda step: plan.eval_fn(step, model))
    history = loop.train(ctx, model, opt, unit=unit.name, steps=plan.steps, batch_fn=plan.batch_fn,
                         flops_per_sample=plan.flops_per_sample, lr_fn=plan.lr_fn, eval_fn=eval_fn,
                         eval_steps=plan.eval_steps, ckpt_every=getattr(ctx.cfg, "ckpt_every", 0),
                         loss_fn=plan.loss_fn, stop_fn=plan.stop_fn, forward=forward)
    model.eval()
    return plan.finish(model, history)


def shape_step(plan: Plan, steps: int = 1) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``steps`` training steps of ``plan`` without arithmetic (the meta device): shape, dtype and
    optimizer errors of a full-size configuration show up in milliseconds. Returns the shapes of
    the last batch and of the logits."""
    model = plan.model
    opt = plan.make_optimizer(model.parameters())
    for step in range(steps):
        x, y = plan.batch_fn(step)
        logits = model(x)
        loss = plan.loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return tuple(x.shape), tuple(logits.shape)


def decide(job, cfg, m: dict, *, seed: int, profile: str):
    """The verdict on a job's measurements: the job's own ``verdict`` if it defines one, else its
    rule in :mod:`claimcheck.gpu_validation.rules` (``rules.decide(job.JOB, asdict(cfg), m, ...)``:
    per-seed statistic, preconditions -> underpowered, Student t over seeds)."""
    own = getattr(job, "verdict", None)
    if own is not None:
        return own(cfg, m, seed=seed, profile=profile)
    import dataclasses

    from claimcheck.gpu_validation import rules

    return rules.decide(job.JOB, dataclasses.asdict(cfg), m, seed=seed, profile=profile)


def run(job, profile="smoke", seed: int = 0, device=None, out_dir=None, resume: bool = False, *,
        progress: bool | None = None, shard=None, figures: bool = True, threads: int | None = None,
        **overrides) -> dict:
    """Run ``job`` (a job module) for ``profile`` with field ``overrides``; returns the result dict
    that is also written to ``OUT/JOB-PROFILE-seedS/result.json`` (``out_dir=None``: no files).

    ``threads``: torch/BLAS threads for this process (None: unchanged). ``shard=(i, m)``: train
    only units i, i+m, ... (a job-array task; needs ``resume=True``); the result is then partial.
    """
    cfg, name = resolve_config(job.PROFILES, profile, overrides)
    validate_common(cfg)
    job.validate(cfg)
    dev = select_device(device)
    notes = configure(dev, threads=threads, precision=cfg.precision)
    rn = Run(job.JOB, name, cfg, seed=seed, device=dev, out_dir=out_dir, resume=resume,
             stop_after_steps=cfg.stop_after_steps, progress=progress, shard=shard)
    ctx = Context(rn, cfg, tuple(seed + r for r in range(cfg.n_seeds)))
    units = job.units(ctx)
    rn.notes.update(notes, batched=any(len(u.members) > 1 for u in units), channels_last=ctx.channels_last)
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise JobError(f"{job.JOB}: duplicate unit names in {names}")
    try:
        members: dict[str, dict] = {}
        for u in units:
            ctx.unit = u.name
            done = rn.unit(u.name, lambda u=u: {"members": job.train_unit(ctx, u)})
            if done is not None:
                members.update(done["members"])
        ctx.unit = None
        if rn.partial:
            return rn.finish(None, {})
        m = job.measurements(ctx, members)
        verdict = decide(job, cfg, m, seed=seed, profile=name)
    except PASS_THROUGH:
        raise
    except Exception as exc:
        where = f" unit {ctx.unit}" if ctx.unit else ""
        raise JobError(f"{job.JOB} ({name}, seed {seed}){where}: {type(exc).__name__}: {exc}") from exc
    return rn.finish(verdict, m, figure=job.figure if figures else None)

