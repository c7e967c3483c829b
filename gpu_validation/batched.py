"""Train S independent copies of one architecture in a single forward/backward (seeds batched).

Small networks (the MLPs and CNNs of the smoke/small profiles, ResNet-18 at small width k)
leave a GPU mostly idle: one run launches many tiny kernels. Training the S replicates of a
sweep point *together* turns S small kernels into one S-times larger one (a batched matmul,
a grouped convolution) at no cost in independence. :class:`BatchedModels` does this with
``torch.func`` (the "model ensembling" recipe of the PyTorch tutorials):

* :func:`torch.func.stack_module_state` stacks the parameters and buffers of S models that
  were initialised one by one (each from its own seed, exactly as a sequential run would
  initialise them) into tensors with a leading member axis of size S;
* :func:`torch.func.functional_call` runs the architecture (a template module) with those
  tensors, and :func:`torch.vmap` maps it over the member axis: member s sees only its own
  parameters, buffers and mini-batch.

Inputs are *flattened* stacks: ``x`` of shape ``(S * B, ...)`` holds member 0's batch, then
member 1's, and so on (so :func:`gpu_validation.loop.train` counts ``S * B`` training
samples and FLOPs per step), and the logits come back as ``(S * B, classes)``.
:func:`member_loss` is the sum over members of each member's *mean* loss, so the gradient
with respect to member s's parameters is exactly the gradient of its own run (the other
members' terms do not depend on them). Every optimizer used here (SGD, Adam) acts elementwise
and all members take the same step count, so one optimizer on the stacked tensors is S
independent optimizers. BatchNorm works: each member's running statistics are its own slice
of a stacked buffer, updated in place under ``vmap``.

Equivalence with S sequential runs (tested in ``tests/test_gpu_batched.py``, CPU fp32):
MLPs agree to float32 rounding (``vmap`` of ``linear`` is a batched matmul; with Intel MKL on
AVX-512 it sums in the same order and is bit-identical, on an AVX2 AMD EPYC it is 1 ulp apart). Conv nets agree to float32
rounding, not bit for bit, because ``vmap`` of ``conv2d`` runs one grouped convolution whose
kernels accumulate in a different order (a few ulps per step; <= 1e-5 absolute after 20
stable steps). Training can amplify such differences like any change of float32
implementation: chaotic runs, and Adam on coordinates whose exact gradient is zero (a
rounding-level gradient gets an O(lr) Adam step). Members are independent: member s of a
group gives the same bits whatever the other members are. On CUDA under bf16 autocast
batched and sequential runs differ at bf16 rounding (cuBLAS/cuDNN choose algorithms by
shape), as for any change of batch shape.

Data: :func:`stack_batches` builds the per-step batch from one ``batch_fn`` per member, so
every member keeps its own data order (and its own split, label noise or fresh samples).
:func:`train_group` runs :meth:`Run.train` on the group (NaN/divergence detection, timing,
checkpoints of the stacked state under the group's unit name, resume) and splits the eval
history back per member.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BatchedModels", "stack_batches", "member_loss", "train_group", "group_id", "split_history"]


def _key(name: str) -> str:
    return name.replace(".", "__")   # module attribute names cannot contain dots


class BatchedModels(nn.Module):
    """S models of one architecture as stacked tensors; ``forward`` maps over the members.

    ``models`` must share the architecture (the same parameter/buffer names and shapes);
    they are copied, not shared. The stacked state appears in ``parameters()`` and
    ``state_dict()`` (so optimizers and checkpoints see it) as tensors of shape ``(S, ...)``.

    >>> from claimcheck.gpu_validation.models import MLP
    >>> ms = [MLP(4, (3,), 2) for _ in range(5)]
    >>> bm = BatchedModels(ms)
    >>> bm(torch.zeros(5 * 7, 4)).shape            # 5 members x 7 samples each
    torch.Size([35, 2])
    >>> torch.equal(bm.member(2)(torch.ones(1, 4)), ms[2](torch.ones(1, 4)))
    True
    """

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        from torch.func import stack_module_state

        models = list(models)
        if not models:
            raise ValueError("models=[], must hold at least one model")
        shapes = {tuple((n, tuple(p.shape)) for n, p in m.state_dict().items()) for m in models}
        if len(shapes) != 1:
            raise ValueError("models must share one architecture (same state_dict names and shapes)")
        params, buffers = stack_module_state(models)
        self.size = len(models)
        self._param_names = list(params)
        self._buffer_names = list(buffers)
        for name, value in params.items():
            self.register_parameter(_key(name), nn.Parameter(value.detach().clone()))
        for name, value in buffers.items():
            self.register_buffer(_key(name), value.detach().clone())
        # the architecture; kept out of the module tree (its own tensors are never used in
        # forward, only by member(), which loads a member's slices into a copy of it)
        self.__dict__["_template"] = copy.deepcopy(models[0])

    def __len__(self) -> int:
        return self.size

    def _apply(self, fn, recurse=True):  # .to(device) / .float() also move the template
        super()._apply(fn, recurse)
        self.__dict__["_template"] = self._template._apply(fn)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        self._template.train(mode)   # BatchNorm: batch statistics in training, running ones in eval
        return self

    def stacked(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """(parameters, buffers) keyed by the template's names, each of shape (S, ...)."""
        return ({n: getattr(self, _key(n)) for n in self._param_names},
                {n: getattr(self, _key(n)) for n in self._buffer_names})

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (S*B, ...) -> (S*B, classes)
        from torch.func import functional_call, vmap

        S = self.size
        if x.shape[0] % S:
            raise ValueError(f"batch of {x.shape[0]} rows, must be a multiple of the {S} members")
        params, buffers = self.stacked()
        template = self._template

        def one(p, b, xb):
            return functional_call(template, (p, b), (xb,))

        out = vmap(one)(params, buffers, x.reshape(S, x.shape[0] // S, *x.shape[1:]))  # (S, B, classes)
        return out.reshape(x.shape[0], *out.shape[2:])

    @torch.no_grad()
    def member(self, i: int) -> nn.Module:
        """Member ``i`` as an ordinary module (a copy: its own parameters and buffers)."""
        if not 0 <= i < self.size:
            raise ValueError(f"member={i}, must be in [0, {self.size - 1}]")
        model = copy.deepcopy(self._template)
        params, buffers = self.stacked()
        model.load_state_dict({**{n: t[i] for n, t in params.items()}, **{n: t[i] for n, t in buffers.items()}})
        model.train(self.training)
        return model


def stack_batches(batch_fns: Sequence[Callable[[int], tuple[torch.Tensor, torch.Tensor]]]):
    """One ``batch_fn(step) -> (x (S*B, ...), y (S*B,))`` from S per-member batch functions
    (each member keeps its own data order); all members must give the same batch size (use
    ``drop_last`` in :func:`gpu_validation.loop.epoch_batches` when their sets differ in size)."""
    batch_fns = list(batch_fns)

    def batch(step: int):
        xs, ys = zip(*(fn(step) for fn in batch_fns))
        if len({x.shape[0] for x in xs}) != 1:
            raise ValueError(f"step {step}: members gave batches of sizes {[x.shape[0] for x in xs]}, must be equal "
                             "(a member's last batch of an epoch is short: build its batches with drop_last=True)")
        return torch.cat(xs), torch.cat(ys)

    return batch


def member_loss(size: int, loss_fn: Callable = F.cross_entropy) -> Callable:
    """Loss of a stacked batch: the sum over the ``size`` members of each member's mean
    ``loss_fn`` (so member s's gradient is that of its own run)."""

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        b = logits.shape[0] // size
        return loss_fn(logits, y, reduction="sum") / b

    return loss


def group_id(prefix: str, seeds: Sequence[int]) -> str:
    """Unit name of a group: ``prefix`` and the seed range, e.g. ``real-seeds0-4``.

    >>> group_id("real", [0, 1, 2]), group_id("model4-noise0.2", [7])
    ('real-seeds0-2', 'model4-noise0.2-seeds7')
    """
    seeds = list(seeds)
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        tag = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    else:
        tag = "_".join(str(s) for s in seeds)
    return f"{prefix}-seeds{tag}"


def train_group(ctx, models: Sequence[nn.Module], make_optimizer: Callable, *, unit: str, steps: int,
                batch_fns: Sequence[Callable], flops_per_sample: float = 0.0,
                lr_fn: Callable[[int], float] | None = None,
                eval_fn: Callable[[int, nn.Module], dict] | None = None, eval_steps=(),
                ckpt_every: int = 0, loss_fn: Callable = F.cross_entropy) -> BatchedModels:
    """Train ``models`` (initialised one by one) together with :func:`gpu_validation.loop.train`.

    ``make_optimizer(params)`` builds the optimizer on the stacked parameters (elementwise
    optimizers only: SGD, Adam, AdamW...). ``batch_fns[s](step)`` is member s's batch;
    ``eval_fn(step, group)`` evaluates the whole group (e.g. :func:`gpu_validation.loop.evaluate_group`).
    The checkpoint is ``ckpt/<unit>.pt`` (stacked state). Returns the trained group (in eval
    mode); ``group.member(i)`` is member i as an ordinary module.
    """
    from claimcheck.gpu_validation import loop

    group = BatchedModels(models).to(ctx.device)
    opt = make_optimizer(group.parameters())
    loop.train(ctx, group, opt, unit=unit, steps=steps, batch_fn=stack_batches(batch_fns),
               flops_per_sample=flops_per_sample, lr_fn=lr_fn,
               eval_fn=None if eval_fn is None else (lambda step: eval_fn(step, group)), eval_steps=eval_steps,
               ckpt_every=ckpt_every, loss_fn=member_loss(group.size, loss_fn))
    group.eval()
    return group


def split_history(history: list[dict], size: int) -> list[list[dict]]:
    """Per-member eval histories from a group's history (entries ``{"step", "members": [...]}``).

    >>> split_history([{"step": 5, "members": [{"e": 1}, {"e": 2}]}], 2)
    [[{'step': 5, 'e': 1}], [{'step': 5, 'e': 2}]]
    """
    return [[{"step": h["step"], **h["members"][i]} for h in history] for i in range(size)]
