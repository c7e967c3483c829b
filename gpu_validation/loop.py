"""The training loop of the GPU jobs, their batch functions and their evaluation (one concern: training).

* :func:`train` -- ``steps`` optimizer steps with NaN/divergence detection (:class:`DivergenceError`
  says at which step and what to change), checkpoints for exact resume, evaluations at chosen
  steps, a stopping rule, a progress bar (tqdm) and timing that leaves the first warm-up steps out.
  The loss is read on the host only every ``check_every`` steps (one sync), never per step.
* :func:`epoch_batches` -- a fresh order per epoch that depends only on (seed, epoch), optionally
  ``drop_last`` (every batch full: what groups of members need, and what the Deep Bootstrap code
  does) and a per-batch ``transform`` (uint8 images stay uint8 on the device and are converted one
  batch at a time).
* :func:`evaluate` / :func:`evaluate_group` / :func:`predict_group` -- error, soft error and loss
  accumulated on the device, one host transfer at the end; a group (:class:`BatchedModels`) is
  evaluated in one pass over its members' data, never member by member from fresh copies.
"""
from __future__ import annotations

import contextlib
import math
import sys
from typing import Any, Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from claimcheck.gpu_validation.run import DivergenceError, atomic_torch_save, generator

__all__ = ["train", "epoch_batches", "label_noise", "evaluate", "evaluate_group", "predict_group", "predict"]


def epoch_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, *order_key: Any, drop_last: bool = False,
                  shuffle: bool = True, transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
    """``(batch_fn, steps_per_epoch)`` cycling through ``(x, y)`` in a fresh order each epoch.

    Epoch e's order is ``torch.randperm(n, generator=generator(*order_key, e))``, so
    ``batch_fn(step)`` depends only on ``order_key`` and ``step`` (what resuming from a
    checkpoint needs). The last batch of an epoch is short unless ``drop_last`` (then each epoch
    has ``n // batch_size`` full batches and the remaining samples wait for another epoch's order).
    ``shuffle=False``: the same order (0, 1, ..., n-1) every epoch (Nagarajan & Kolter's code).
    ``transform`` is applied to each batch of ``x`` (e.g. uint8 -> normalised float).

    >>> fn, per_epoch = epoch_batches(torch.arange(5.0), torch.arange(5), 2, 0, "order")
    >>> per_epoch, sorted(torch.cat([fn(s)[1] for s in range(3)]).tolist())
    (3, [0, 1, 2, 3, 4])
    >>> fn, per_epoch = epoch_batches(torch.arange(5.0), torch.arange(5), 2, 0, "order", drop_last=True)
    >>> per_epoch, [len(fn(s)[1]) for s in range(4)]
    (2, [2, 2, 2, 2])
    """
    n = x.shape[0]
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}, must be >= 1")
    if drop_last and n < batch_size:
        raise ValueError(f"drop_last with {n} samples < batch_size={batch_size}: no full batch")
    per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    orders: dict[int, torch.Tensor] = {}

    def batch(step: int):
        epoch, i = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            order = torch.randperm(n, generator=generator(*order_key, epoch)) if shuffle else torch.arange(n)
            orders[epoch] = order.to(x.device)
        idx = orders[epoch][i * batch_size:(i + 1) * batch_size]
        xb = x[idx]
        return (xb if transform is None else transform(xb)), y[idx]

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


def train(ctx, model: nn.Module, optimizer: torch.optim.Optimizer, *, unit: str, steps: int,
          batch_fn: Callable[[int], tuple[torch.Tensor, torch.Tensor]], flops_per_sample: float = 0.0,
          lr_fn: Callable[[int], float] | None = None, eval_fn: Callable[[int], dict] | None = None,
          eval_steps: Iterable[int] = (), ckpt_every: int = 0, check_every: int = 25,
          divergence_factor: float = 1e4, loss_fn: Callable = F.cross_entropy,
          stop_fn: Callable[[int, dict], bool] | None = None, forward: nn.Module | None = None) -> list[dict]:
    """Train ``model`` for ``steps`` optimizer steps; returns the eval history.

    ``ctx`` supplies the run (accounting, checkpoints), the device, the autocast context
    (``ctx.amp()``), the progress setting and ``ctx.warmup_steps`` (untimed first steps).
    ``batch_fn(step) -> (x, y)`` must depend only on ``step`` (and seeds fixed before training),
    ``lr_fn(step)`` sets the learning rate; ``eval_fn(step)`` runs after the steps listed in
    ``eval_steps``. Checkpoints every ``ckpt_every`` steps (model, optimizer, step, history) let
    a unit resume exactly. The loss is checked every ``check_every`` steps: non-finite, or above
    ``divergence_factor`` x its first value -> :class:`DivergenceError`. ``stop_fn(step, evaluation)``
    is asked after each evaluation; True ends training there (deterministic, so an interrupted and
    resumed unit stops at the same step). ``forward`` (default ``model``) computes the logits, e.g.
    a ``torch.compile`` wrapper of ``model``; ``model`` holds the state that is checkpointed.
    ``flops_per_sample``: true training FLOPs per row of a batch (MFU).
    """
    from tqdm import tqdm

    rn = ctx.run
    device = rn.device
    forward = model if forward is None else forward
    eval_steps = set(int(s) for s in eval_steps)
    ckpt = rn.checkpoint_path(unit) if ckpt_every > 0 else None
    step, history = 0, []
    if rn.resume and ckpt is not None and ckpt.is_file():
        from claimcheck.gpu_validation import rundir

        state = rundir.load_checkpoint(ckpt, device)  # torch.load(weights_only=True); corrupt -> UsageError naming it
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = int(state["step"]), list(state["history"])
    first_loss: float | None = None
    bad = torch.zeros((), dtype=torch.bool, device=device)
    last_loss = torch.zeros((), device=device)
    warmup = getattr(ctx, "warmup_steps", 0)
    untimed = 0
    bar = tqdm(total=steps, initial=step, desc=f"{rn.job} {unit}", unit="step", leave=False,
               disable=(not rn.progress) if rn.progress is not None else None, file=sys.stderr)
    model.train()
    try:
        while step < steps:
            if lr_fn is not None:
                lr = lr_fn(step)
                for g in optimizer.param_groups:
                    g["lr"] = lr
            timed = untimed >= warmup
            untimed += 1
            if timed:
                rn.timer.start()
            x, y = batch_fn(step)
            with ctx.amp():
                loss = loss_fn(forward(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if timed:
                rn.timer.stop()
            loss = loss.detach().float()
            bad |= ~torch.isfinite(loss)
            last_loss = loss
            step += 1
            rn.count_step(x.shape[0], flops_per_sample * x.shape[0], timed)
            bar.update()
            if step % check_every == 0 or step == steps or step in eval_steps or step == 1:
                value = float(last_loss)
                if first_loss is None:
                    first_loss = value
                if bool(bad) or not math.isfinite(value) or value > divergence_factor * max(first_loss, 1e-3):
                    raise DivergenceError(
                        f"{rn.job} unit {unit}: training diverged at step {step} (loss = {value:g}, first loss "
                        f"{first_loss:g}, non-finite seen: {bool(bad)}); lower the learning rate, use fp32 "
                        f"(--set precision=fp32 or --device cpu) to rule out bf16 overflow, or check the data for NaN/inf"
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
            rn.check_interrupt()
    finally:
        bar.close()
    return history


# --------------------------------------------------------------------------- evaluation

def _sums(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row-group sums (..., 3): errors, soft errors (1 - p_y), cross-entropy; logits (..., b, C)."""
    logits = logits.float()
    logp = logits.log_softmax(-1)
    lp_y = logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    err = (logits.argmax(-1) != y).float()
    return torch.stack([err.sum(-1), (1 - lp_y.exp()).sum(-1), (-lp_y).sum(-1)], dim=-1)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024, *,
             amp: Callable[[], Any] = contextlib.nullcontext, transform: Callable | None = None) -> dict:
    """Hard error, soft error and cross-entropy of ``model`` on (x, y), summed on the device and
    read once at the end.

    soft error = 1 - E[p_y(x)]: the expected error of a prediction *sampled* from the softmax
    (Nakkiran, Neyshabur & Sedghi 2021, "The Deep Bootstrap", Sec. 2).
    """
    was = model.training
    model.eval()
    total = torch.zeros(3, device=y.device)
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        with amp():
            logits = model(xb if transform is None else transform(xb))
        total += _sums(logits, y[i:i + batch])
    model.train(was)
    err, soft, loss = (v / x.shape[0] for v in total.tolist())
    return {"error": err, "soft_error": soft, "loss": loss}


@torch.no_grad()
def evaluate_group(group: nn.Module, xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor], batch: int = 1024, *,
                   amp: Callable[[], Any] = contextlib.nullcontext, transform: Callable | None = None) -> list[dict]:
    """:func:`evaluate` for every member of a group at once: member s on ``(xs[s], ys[s])``.

    All members' sets must have the same size N; each forward takes ``batch`` rows of every
    member (S x batch rows), and the sums stay on the device until one transfer at the end.
    """
    S = len(xs)
    n = xs[0].shape[0]
    if len(ys) != S or any(x.shape[0] != n for x in xs):
        raise ValueError(f"evaluate_group: {S} members need {S} label sets and equal set sizes, got "
                         f"{[x.shape[0] for x in xs]}")
    was = group.training
    group.eval()
    total = torch.zeros(S, 3, device=ys[0].device)
    for i in range(0, n, batch):
        xb = torch.cat([x[i:i + batch] for x in xs])
        yb = torch.stack([y[i:i + batch] for y in ys])                   # (S, b)
        with amp():
            logits = group(xb if transform is None else transform(xb))   # (S*b, C)
        total += _sums(logits.reshape(S, yb.shape[1], -1), yb)
    group.train(was)
    return [{"error": e / n, "soft_error": s / n, "loss": lo / n} for e, s, lo in total.tolist()]


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = 1024, *, amp: Callable[[], Any] = contextlib.nullcontext) -> torch.Tensor:
    """Predicted classes (N,) of ``model`` on ``x`` (on the device)."""
    was = model.training
    model.eval()
    out = []
    for i in range(0, x.shape[0], batch):
        with amp():
            out.append(model(x[i:i + batch]).argmax(-1))
    model.train(was)
    return torch.cat(out)


@torch.no_grad()
def predict_group(group: nn.Module, xs: Sequence[torch.Tensor], batch: int = 1024, *,
                  amp: Callable[[], Any] = contextlib.nullcontext) -> torch.Tensor:
    """Predicted classes (S, N) of every member s on ``xs[s]`` (equal sizes), in one pass."""
    S, n = len(xs), xs[0].shape[0]
    was = group.training
    group.eval()
    out = []
    for i in range(0, n, batch):
        with amp():
            logits = group(torch.cat([x[i:i + batch] for x in xs]))
        out.append(logits.reshape(S, -1, logits.shape[-1]).argmax(-1))
    group.train(was)
    return torch.cat(out, dim=1)
