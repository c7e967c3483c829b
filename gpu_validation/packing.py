"""Train networks of *different widths* together: embed each in the widest one, zero-padded.

:mod:`gpu_validation.batched` trains replicates that share one architecture. A width sweep
(ResNet-18k for k = 1..64, Nakkiran et al. 2020) has a different architecture per width, and
its small widths are the worst case for a GPU: a width-1 ResNet-18 launches the same ~60
kernels per step as a width-64 one for 1/4096 of the arithmetic. :func:`embed` makes the
widths share one architecture:

    a width-k model is a width-K model (K >= k) whose extra channels are zero.

Every tensor of the width-k state (conv kernels, BatchNorm scale/shift/running mean, linear
weights) is copied into the leading corner of the width-K tensor; the rest is 0, except the
BatchNorm ``running_var`` padding, which is 1 (the value a fresh BatchNorm holds). Why this
is exact, for the ReLU/BatchNorm/conv/linear networks of :mod:`gpu_validation.models`:

* forward -- a padded channel is 0 wherever it appears: a conv or linear output channel with
  zero weights and no bias gives 0; BatchNorm of an all-zero channel with scale 0 and shift 0
  gives ``0 * (0 - 0) / sqrt(0 + eps) + 0 = 0``; ReLU, pooling and the residual sum keep 0.
  The real channels see only real channels (the padded ones add exact zeros), so the logits
  are the width-k network's.
* backward -- every gradient reaching a padded coordinate is a product with an exact zero:
  a padded output channel's gradient is back-propagated through the next layer's zero
  weights and BatchNorm's zero scale; a padded input channel's weights multiply a zero input.
  So padded parameters get gradient exactly 0.
* optimizer -- SGD (with momentum and weight decay) and Adam/AdamW map a zero parameter with
  zero gradient and zero state to 0 (Adam's step is ``m / (sqrt(v) + eps) = 0 / eps = 0``).

So a padded member trains exactly as the width-k model would, and :func:`extract` reads the
width-k model back out, checking that the padding is still exactly zero (a broken assumption
-- a layer with a bias, an optimizer with a non-elementwise update -- raises instead of
returning a wrong model). The arithmetic is the width-K network's, so the *order* of float
additions differs from a standalone width-k run: results agree to float32 rounding, as for
:mod:`gpu_validation.batched` (tested in ``tests/test_gpu_packing.py``).

The price is FLOPs: a member costs what a width-K member costs (~K^2 for ResNet-18k).
:func:`plan_packs` groups a sweep's widths so that the padded arithmetic of each pack is at
most ``max_waste`` times the true arithmetic; on a GPU the small widths are bound by kernel
launches, not arithmetic, so packing them trades cheap FLOPs for fewer launches. On CUDA the
padded width is also rounded up to a multiple of 8 (:func:`pack_width`; bf16 tensor cores want
channel counts that are multiples of 8). MFU counts the *true* FLOPs of the members, never the
padded ones (the padding is arithmetic the experiment does not need).
"""
from __future__ import annotations

import copy
from typing import Callable, Sequence

import torch
from torch import nn

__all__ = ["embed", "extract", "plan_packs", "pack_tag", "pack_width"]


def _fill(name: str) -> float:
    return 1.0 if name.endswith("running_var") else 0.0


@torch.no_grad()
def embed(small: nn.Module, big: nn.Module) -> nn.Module:
    """A copy of ``big`` that computes what ``small`` computes: ``small``'s tensors in the
    leading corner of ``big``'s, zero elsewhere (``running_var``: 1).

    ``small`` and ``big`` must have the same state names, and every ``small`` tensor must fit
    in ``big``'s (same rank, each dimension <= ``big``'s).

    >>> from claimcheck.gpu_validation.models import MLP
    >>> torch.manual_seed(0); s, b = MLP(4, (3,), 2), MLP(4, (8,), 2)
    <torch._C.Generator object at ...>
    >>> x = torch.randn(5, 4)
    >>> torch.allclose(embed(s, b)(x), s(x), atol=1e-6)
    True
    """
    out = copy.deepcopy(big)
    s_state, b_state = small.state_dict(), out.state_dict()
    if set(s_state) != set(b_state):
        diff = sorted(set(s_state) ^ set(b_state))[:4]
        raise ValueError(f"small and big have different state names (e.g. {diff}); they must share the architecture")
    new = {}
    for name, t in s_state.items():
        target = b_state[name]
        if t.dim() != target.dim() or any(a > b for a, b in zip(t.shape, target.shape)):
            raise ValueError(f"{name}: shape {tuple(t.shape)} does not fit in {tuple(target.shape)}; "
                             "small must be at most as wide as big in every dimension")
        padded = torch.full_like(target, _fill(name))
        padded[tuple(slice(0, n) for n in t.shape)] = t
        new[name] = padded
    out.load_state_dict(new)
    out.train(small.training)
    return out


@torch.no_grad()
def extract(big: nn.Module, small: nn.Module, *, check: bool = True) -> nn.Module:
    """The width-``small`` network held in a padded ``big`` (a copy of ``small`` carrying it).

    ``check``: raise ``RuntimeError`` if a padded parameter or running mean is not exactly
    zero, i.e. the member did *not* train as the small network (see the module docstring).
    """
    out = copy.deepcopy(small).to(next(big.parameters()).device)
    b_state = big.state_dict()
    new = {}
    for name, t in out.state_dict().items():
        src = b_state[name]
        corner = tuple(slice(0, n) for n in t.shape)
        if check and not name.endswith(("running_var", "num_batches_tracked")):
            rest = src.clone()
            rest[corner] = 0
            if bool(rest.any()):
                raise RuntimeError(f"{name}: padded entries became non-zero (max |.| = {float(rest.abs().max()):.3g}); "
                                   "the packed member no longer equals its narrower network")
        new[name] = src[corner].clone()
    out.load_state_dict(new)
    out.train(big.training)
    return out


def plan_packs(widths: Sequence[int], cost: Callable[[int], float] = lambda k: k * k,
               max_waste: float = 2.0) -> list[list[int]]:
    """Group widths into packs; each pack is padded to its widest member.

    A pack's *waste* is ``len(pack) * cost(max(pack)) / sum(cost(k) for k in pack)``, the
    padded arithmetic over the true arithmetic (``cost``: per-member cost of a width, ~k^2 for
    ResNet-18k). Greedy from the widest width down: a pack takes the next narrower width while
    its waste stays <= ``max_waste``. Packs come back in sweep order (narrowest first, each
    sorted ascending); ``max_waste=1`` packs only equal widths.

    >>> plan_packs([1, 2, 4, 8])          # 2 * 8^2 / (8^2 + 4^2) = 1.6; adding 2 would give 2.29
    [[1, 2], [4, 8]]
    >>> plan_packs([1, 2, 4, 8], max_waste=1)
    [[1], [2], [4], [8]]
    """
    ws = sorted((int(k) for k in widths), reverse=True)
    if not ws:
        raise ValueError("widths is empty, must hold at least one width")
    if min(ws) < 1:
        raise ValueError(f"widths={list(widths)}, must all be >= 1")
    if not max_waste >= 1:
        raise ValueError(f"max_waste={max_waste}, must be >= 1")
    packs: list[list[int]] = []
    for k in ws:
        if packs:
            p = packs[-1]
            trial = p + [k]
            if len(trial) * cost(trial[0]) <= max_waste * sum(cost(w) for w in trial):
                p.append(k)
                continue
        packs.append([k])
    return [p[::-1] for p in packs[::-1]]


def pack_tag(pack: Sequence[int]) -> str:
    """Unit-name tag of a pack: ``"8"``, ``"5-8"`` (a run of consecutive widths) or ``"2_4_8"``.

    >>> pack_tag([8]), pack_tag([8, 7, 6, 5]), pack_tag([8, 4, 2])
    ('8', '5-8', '2_4_8')
    """
    ks = sorted(pack)
    if len(ks) > 1 and ks == list(range(ks[0], ks[-1] + 1)):
        return f"{ks[0]}-{ks[-1]}"
    return "_".join(str(k) for k in ks)


def pack_width(pack: Sequence[int], multiple: int = 1) -> int:
    """The width a pack is padded to: its widest member, rounded up to a multiple of ``multiple``.

    >>> pack_width([2, 4, 6]), pack_width([2, 4, 6], multiple=8), pack_width([16], multiple=8)
    (6, 8, 16)
    """
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"multiple={multiple!r}, must be an integer >= 1")
    k = max(int(v) for v in pack)
    return -(-k // multiple) * multiple
