"""Models of the GPU suite, torch only (no torchvision): ResNet-18k, an MLP and a small CNN.

* :class:`PreActResNet18k` -- the pre-activation ResNet-18 of He et al. (2016, "Identity
  mappings in deep residual networks") with stage widths ``[k, 2k, 4k, 8k]``, as the
  ``resnet18k`` of Nakkiran et al. (2020, "Deep double descent", Sec. 3 / App. B) in their code
  (preetum/deep-bootstrap-code, ``common/models/small/resnet18k.py``): conv3x3 stem, four stages
  of two pre-activation blocks, then *directly* pooling and the linear head -- no final
  BatchNorm-ReLU after the last block (the reference has none). ``k = 64`` is the standard
  ResNet-18 (about 11.2M parameters for 10 classes). Deviation, kept: global average pooling
  replaces the reference's fixed ``avg_pool2d(out, 4)``, which is the same on 32x32 inputs
  (a 4x4 final map) and lets 8x8 and 28x28 inputs work; the stem takes ``in_channels`` (1 for MNIST).
* :class:`MLP` -- fully connected ReLU network on flattened inputs, with the initialisations of
  the public codes it stands in for: PyTorch's default, Xavier/Glorot uniform without biases
  (Nagarajan & Kolter's ``experiments.py``: ``xavier_initializer``, ``tf.matmul`` and no bias) and
  the truncated normal of PBB (Perez-Ortiz et al. 2021, ``pbb/models.py``: std 1/sqrt(fan_in),
  truncated at +-2 std, zero biases), and dropout after each hidden linear layer (PBB's prior net).
* :class:`SmallCNN` -- two conv/ReLU/pool stages and a linear head (MNIST, digits).
* :class:`WidthSweepMLP` -- a whole width sweep of one-hidden-layer MLPs (and several replicates of
  it) as one module: the hidden layers of all widths side by side, one output head per width; each
  member is exactly an independent :class:`MLP` ``(in_dim, (k,), classes)`` (the double-descent
  MLP sweep, Nakkiran et al. 2020 / Belkin et al. 2019), at the cost of sum(widths), not
  count x max(width).

:func:`forward_flops` counts the multiply-accumulates of every ``Conv2d`` and ``Linear`` layer
in one forward pass (hooks on a one-sample batch) and returns ``2 * MACs``; the jobs count
training FLOPs as 3 x forward FLOPs (Kaplan et al. 2020, Sec. 2.1; PaLM App. B) for MFU.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PreActBlock", "PreActResNet18k", "MLP", "MLP_INITS", "SmallCNN", "WidthSweepMLP", "forward_flops",
           "count_parameters"]


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3-BN-ReLU-conv3x3 with an identity (or 1x1-conv) shortcut."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut = None
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, in_planes, H, W)
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)  # (B, planes, H/stride, W/stride)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18k(nn.Module):
    """Pre-activation ResNet-18 of width ``k`` (stage widths k, 2k, 4k, 8k; two blocks per stage).

    >>> net = PreActResNet18k(k=2, num_classes=10, in_channels=1)
    >>> net(torch.zeros(3, 1, 8, 8)).shape
    torch.Size([3, 10])
    """

    def __init__(self, k: int = 64, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k={k!r}, must be an integer >= 1")
        self.k = k
        widths = [k, 2 * k, 4 * k, 8 * k]
        self.conv1 = nn.Conv2d(in_channels, k, 3, stride=1, padding=1, bias=False)
        layers, in_planes = [], k
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers += [PreActBlock(in_planes, w, stride), PreActBlock(w, w, 1)]
            in_planes = w
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(8 * k, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, H, W) -> logits (B, classes)
        out = self.layers(self.conv1(x))  # (B, 8k, H/8, W/8); no BN-ReLU here (as the reference)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # (B, 8k)
        return self.linear(out)


MLP_INITS = ("torch", "xavier", "pbb")


class MLP(nn.Module):
    """Flatten, then ``Linear-ReLU`` per hidden width (dropout after each hidden linear layer if
    ``dropout > 0``), then a linear head.

    ``init``: ``"torch"`` (PyTorch's default), ``"xavier"`` (Glorot uniform weights
    U(+-sqrt(6/(fan_in+fan_out))), biases 0; Nagarajan & Kolter) or ``"pbb"`` (truncated normal,
    std 1/sqrt(fan_in), cut at +-2 std, biases 0; PBB's ``Linear``). ``bias=False``: no biases
    (Nagarajan & Kolter's MNIST networks).

    >>> MLP(40, (16, 16), 10)(torch.zeros(5, 40)).shape
    torch.Size([5, 10])
    >>> sum(p.numel() for p in MLP(4, (3,), 2, bias=False).parameters())
    18
    """

    def __init__(self, in_dim: int, hidden: tuple[int, ...] = (512,), num_classes: int = 10, *, bias: bool = True,
                 init: str = "torch", dropout: float = 0.0):
        super().__init__()
        if init not in MLP_INITS:
            raise ValueError(f"init={init!r}, must be one of {list(MLP_INITS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout}, must be in [0, 1)")
        dims = [in_dim, *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers.append(nn.Linear(a, b, bias=bias))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(dims[-1], num_classes, bias=bias))
        self.net = nn.Sequential(*layers)
        if init != "torch":
            with torch.no_grad():
                for m in self.net:
                    if isinstance(m, nn.Linear):
                        if init == "xavier":
                            nn.init.xavier_uniform_(m.weight)
                        else:
                            std = 1.0 / m.in_features ** 0.5
                            nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std)
                        if m.bias is not None:
                            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, classes)
        return self.net(x)


class SmallCNN(nn.Module):
    """conv3x3(c)-ReLU-maxpool2, conv3x3(2c)-ReLU-maxpool2, global average pool, linear.

    >>> SmallCNN(width=4, in_channels=1)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, width: int = 32, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, classes)
        return self.head(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class WidthSweepMLP(nn.Module):
    """``G`` replicates x ``M`` widths of one-hidden-layer ReLU MLPs, trained as one module.

    Member ``(g, m)`` is the MLP ``in_dim -> widths[m] -> num_classes`` of replicate ``g``: its
    hidden units are columns ``offsets[m]:offsets[m+1]`` of replicate g's hidden layer of
    ``H = sum(widths)`` units, and its head reads only those columns. Every parameter entry belongs
    to exactly one member and a member's logits depend on its own entries only, so with the loss
    :meth:`loss` (the sum over members of each member's *mean* cross-entropy) each member's gradient
    is exactly its own run's, and an elementwise optimizer (SGD, Adam) trains ``G * M`` independent
    networks that share the data order of their replicate. Arithmetic: ``G * sum(widths)`` hidden
    units (no padding), one batched matmul for the hidden layers and one small one per width.

    Inputs: ``x`` of shape ``(G * B, ...)`` (replicate 0's batch, then replicate 1's, ...: the
    convention of :mod:`gpu_validation.batched`); logits ``(G, M, B, classes)``.

    >>> nets = [[MLP(4, (k,), 3) for k in (2, 5)] for _ in range(2)]
    >>> sweep = WidthSweepMLP.from_members(nets)
    >>> x = torch.randn(2 * 6, 4)
    >>> out = sweep(x)
    >>> out.shape
    torch.Size([2, 2, 6, 3])
    >>> torch.allclose(out[1, 0], nets[1][0](x[6:]), atol=1e-6)
    True
    """

    def __init__(self, in_dim: int, widths: tuple[int, ...], num_classes: int = 10, replicates: int = 1):
        super().__init__()
        widths = tuple(widths)
        if not widths or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in widths):
            raise ValueError(f"widths={widths!r}, must be a non-empty tuple of integers >= 1")
        if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
            raise ValueError(f"replicates={replicates!r}, must be an integer >= 1")
        self.in_dim, self.widths, self.num_classes, self.replicates = in_dim, widths, num_classes, replicates
        self.offsets = [0]
        for k in widths:
            self.offsets.append(self.offsets[-1] + k)
        G, H, M = replicates, self.offsets[-1], len(widths)
        self.w1 = nn.Parameter(torch.zeros(G, in_dim, H))      # hidden weights, (in, out) per replicate
        self.b1 = nn.Parameter(torch.zeros(G, 1, H))
        self.w2 = nn.Parameter(torch.zeros(G, H, num_classes))  # head weights: row block m is width m's head
        self.b2 = nn.Parameter(torch.zeros(G, M, 1, num_classes))

    @classmethod
    def from_members(cls, nets: "list[list[MLP]]") -> "WidthSweepMLP":
        """The sweep holding ``nets[g][m]`` (one-hidden-layer :class:`MLP` s with biases; every
        replicate the same widths in the same order), values copied."""
        first = [_mlp_layers(n) for n in nets[0]]
        widths = tuple(a.out_features for a, _ in first)
        out = cls(first[0][0].in_features, widths, first[0][1].out_features, len(nets))
        with torch.no_grad():
            for g, row in enumerate(nets):
                if len(row) != len(widths):
                    raise ValueError(f"replicate {g} has {len(row)} members, replicate 0 has {len(widths)}")
                for m, net in enumerate(row):
                    a, b = _mlp_layers(net)
                    if a.out_features != widths[m] or a.in_features != out.in_dim or b.out_features != out.num_classes:
                        raise ValueError(f"member ({g}, {m}) has shape {a.in_features}-{a.out_features}-{b.out_features}, "
                                         f"expected {out.in_dim}-{widths[m]}-{out.num_classes}")
                    sl = slice(out.offsets[m], out.offsets[m + 1])
                    out.w1[g, :, sl] = a.weight.T
                    out.b1[g, 0, sl] = a.bias
                    out.w2[g, sl] = b.weight.T
                    out.b2[g, m, 0] = b.bias
        return out

    def member(self, g: int, m: int) -> MLP:
        """A standalone :class:`MLP` copy of member ``(g, m)``."""
        net = MLP(self.in_dim, (self.widths[m],), self.num_classes)
        a, b = _mlp_layers(net)
        sl = slice(self.offsets[m], self.offsets[m + 1])
        with torch.no_grad():
            a.weight.copy_(self.w1[g, :, sl].T)
            a.bias.copy_(self.b1[g, 0, sl])
            b.weight.copy_(self.w2[g, sl].T)
            b.bias.copy_(self.b2[g, m, 0])
        return net.to(self.w1.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (G*B, ...) -> (G, M, B, classes)
        G = self.replicates
        x = x.reshape(G, x.shape[0] // G, -1)
        h = torch.relu(torch.baddbmm(self.b1, x, self.w1))                       # (G, B, H)
        # split, not slices: one SplitBackward concatenates the gradients (a slice's backward zero-fills a
        # full (G, B, H) tensor per width: 60% of the step time at 14 widths)
        outs = [torch.bmm(hm, wm) for hm, wm in zip(h.split(self.widths, dim=2), self.w2.split(self.widths, dim=1))]
        return torch.stack(outs, dim=1) + self.b2                               # (G, M, B, C)

    @staticmethod
    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Sum over the G x M members of each member's mean cross-entropy; ``y`` is ``(G * B,)``."""
        G, M, B, C = logits.shape
        target = y.reshape(G, 1, B).expand(G, M, B)
        return F.cross_entropy(logits.float().reshape(-1, C), target.reshape(-1), reduction="sum") / B

    def flops_per_row(self) -> int:
        """Forward FLOPs per input row: 2 x (in_dim x H + H x classes) multiply-accumulates."""
        H = self.offsets[-1]
        return 2 * (self.in_dim * H + H * self.num_classes)


def _mlp_layers(net: MLP) -> tuple[nn.Linear, nn.Linear]:
    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if len(lin) != 2 or lin[0].bias is None or lin[1].bias is None:
        raise ValueError("WidthSweepMLP members must be one-hidden-layer MLPs with biases")
    return lin[0], lin[1]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def forward_flops(model: nn.Module, sample_shape: tuple[int, ...]) -> int:
    """Forward FLOPs of one sample: ``2 * sum of Conv2d/Linear multiply-accumulates``.

    A conv layer does ``out_elements * (in_channels / groups) * kh * kw`` MACs, a linear
    layer ``in_features * out_features`` per row (the usual convention, e.g. fvcore/ptflops;
    normalisations, activations and pooling are ignored, < 1% for these nets).

    >>> forward_flops(MLP(4, (3,), 2), (4,))
    36
    """
    macs = [0]

    def conv_hook(mod, inp, out):
        kh, kw = mod.kernel_size
        macs[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw

    def linear_hook(mod, inp, out):
        macs[0] += out.numel() // out.shape[-1] * mod.in_features * mod.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    param = next(model.parameters())
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *sample_shape), dtype=param.dtype, device=param.device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return 2 * macs[0]
