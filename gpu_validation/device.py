"""Devices, threads, precision, compilation and timing of the GPU jobs (one concern: the hardware).

* :func:`select_device` -- ``cuda`` if available, else ``cpu``; ``--device`` overrides.
* :func:`configure` -- per process, before a job trains: torch intra-op threads and the BLAS/OpenMP
  pools (``--threads``; :func:`default_threads` is one per two logical CPUs: two threads on a busy
  2-core box were 4-9x slower than one), and on CUDA ``cudnn.benchmark`` (the jobs' shapes are
  static: every batch has the same size, ``drop_last`` where a group needs it) and TF32 matmuls
  and convolutions for whatever is not under bf16 autocast.
* :func:`autocast` -- ``precision="auto"``: bf16 autocast on CUDA, fp32 on CPU (bit-reproducible);
  ``"bf16"`` autocasts on any device (the CPU tests use it to exercise the CUDA precision path);
  ``"fp32"`` / ``"tf32"`` never autocast.
* :func:`compile_module` -- ``torch.compile`` where it pays: CUDA only (on CPU the module is
  returned unchanged and the fallback is recorded), also for seed groups (``vmap`` under Dynamo);
  ``cuda_graphs=True`` selects ``mode="reduce-overhead"`` (CUDA graphs for the small, launch-bound
  nets, with static batch shapes). Tests run the same path on CPU with ``backend="aot_eager"``.
* :func:`optimizer` -- SGD/Adam with ``fused=True`` on CUDA (one kernel for all parameters),
  the default (foreach) implementation on CPU.
* :class:`Timer` -- CUDA events (read with one synchronize) or ``perf_counter``.
* MFU (PaLM App. B, as nanoGPT's ``estimate_mfu``): achieved FLOP/s / :data:`PEAK_BF16_FLOPS`.
"""
from __future__ import annotations

import contextlib
import os
import platform
import time
from typing import Any, Iterable

import torch
from torch import nn

__all__ = ["PEAK_BF16_FLOPS", "PRECISIONS", "CHANNELS_LAST_DEVICES", "select_device", "default_threads", "configure", "autocast",
           "compile_module", "compile_plan", "optimizer", "optimizer_kwargs", "prepare_model", "peak_flops",
           "peak_flops_for_name", "device_info", "Timer"]

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

PRECISIONS = ("auto", "fp32", "tf32", "bf16")
"""``auto``: bf16 autocast on CUDA, fp32 on CPU; ``tf32``: fp32 storage, TF32 tensor cores on CUDA."""


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
    if dev.type not in ("cpu", "cuda", "meta"):
        raise ValueError(f"device={device!r}, must be 'cpu', 'cuda', 'cuda:N' or 'auto'")
    return dev


def default_threads(cpu_count: int | None = None) -> int:
    """Intra-op threads per process: one per two logical CPUs (hyperthreads share a core), at least 1.

    >>> default_threads(2), default_threads(16), default_threads(1)
    (1, 8, 1)
    """
    n = os.cpu_count() if cpu_count is None else cpu_count
    return max(1, (n or 1) // 2)


def configure(device: torch.device, *, threads: int | None = None, precision: str = "auto") -> dict:
    """Set the process-wide knobs a job needs and return what was set (recorded in ``result.json``).

    ``threads``: torch intra-op threads and the BLAS/OpenMP pools (threadpoolctl); ``None`` leaves
    them as they are. CUDA: ``cudnn.benchmark = True`` and, unless ``precision="fp32"``, TF32 for
    fp32 matmuls/convolutions (bf16 autocast leaves reductions, BatchNorm and losses in fp32).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}, must be one of {list(PRECISIONS)}")
    info: dict[str, Any] = {"precision": precision}
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads={threads!r}, must be an integer >= 1")
        torch.set_num_threads(threads)
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    info["threads"] = torch.get_num_threads()
    if device.type == "cuda":
        tf32 = precision != "fp32"
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        info.update(cudnn_benchmark=True, tf32=tf32)
    return info


def autocast(device: torch.device, precision: str = "auto"):
    """The autocast context of ``precision`` on ``device`` (see :data:`PRECISIONS`)."""
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.autocast(device.type if device.type in ("cpu", "cuda") else "cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def compile_plan(device: torch.device, *, enabled: bool, cuda_graphs: bool = False,
                 backend: str | None = None) -> dict | None:
    """The ``torch.compile`` keyword arguments for a module, or None (eager).

    CUDA: ``backend`` (default inductor), ``mode="reduce-overhead"`` (CUDA graphs) if ``cuda_graphs``.
    CPU: eager unless a ``backend`` is forced (tests: ``"aot_eager"``, which traces forward and
    backward through Dynamo/AOTAutograd without generating code).

    >>> compile_plan(torch.device("cpu"), enabled=True, cuda_graphs=True) is None
    True
    >>> compile_plan(torch.device("cuda"), enabled=True, cuda_graphs=True)
    {'backend': 'inductor', 'mode': 'reduce-overhead'}
    """
    if not enabled:
        return None
    if device.type != "cuda" and backend is None:
        return None
    kw: dict[str, Any] = {"backend": backend or "inductor"}
    if cuda_graphs and device.type == "cuda" and kw["backend"] == "inductor":
        kw["mode"] = "reduce-overhead"
    return kw


def compile_module(module: nn.Module, device: torch.device, *, enabled: bool, cuda_graphs: bool = False,
                   backend: str | None = None) -> tuple[nn.Module, str]:
    """``(module to train, description)``: ``torch.compile(module, **compile_plan(...))`` or the
    module itself. The compiled wrapper shares the module's parameters and state_dict."""
    kw = compile_plan(device, enabled=enabled, cuda_graphs=cuda_graphs, backend=backend)
    if kw is None:
        return module, ("eager" if not enabled else f"eager (torch.compile is used on CUDA only; device {device.type})")
    return torch.compile(module, **kw), "torch.compile(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ")"


def optimizer_kwargs(device: torch.device) -> dict:
    """``{"fused": True}`` on CUDA (one fused kernel per step), ``{}`` elsewhere.

    >>> optimizer_kwargs(torch.device("cpu")), optimizer_kwargs(torch.device("cuda"))
    ({}, {'fused': True})
    """
    return {"fused": True} if device.type == "cuda" else {}


def optimizer(name: str, params: Iterable, device: torch.device, **kw) -> torch.optim.Optimizer:
    """``torch.optim.SGD`` / ``Adam`` / ``AdamW`` with :func:`optimizer_kwargs` of ``device``."""
    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in classes:
        raise ValueError(f"optimizer={name!r}, must be one of {sorted(classes)}")
    return classes[name](params, **kw, **optimizer_kwargs(device))


CHANNELS_LAST_DEVICES = ("cuda",)
"""Where ``channels_last`` is used. Not on CPU: with torch 2.13 (CPU build, oneDNN, AVX2 EPYC) the
backward of a conv net fed channels_last-strided tensors corrupted the heap ("double free or
corruption", e.g. PreActResNet18k k=2 on a (128, 3, 32, 32) NHWC-strided batch; it runs with
``torch.backends.mkldnn.enabled = False``), and on a CPU it brings no speed anyway."""


def prepare_model(model: nn.Module, device: torch.device, *, channels_last: bool = False) -> nn.Module:
    """Move ``model`` to ``device``; ``channels_last`` memory format for conv nets when asked and the
    device is in :data:`CHANNELS_LAST_DEVICES` (elsewhere the request is ignored)."""
    model = model.to(device)
    if channels_last and device.type in CHANNELS_LAST_DEVICES:
        model = model.to(memory_format=torch.channels_last)
    return model


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


def device_info(device: torch.device) -> dict:
    """Type, name, threads (and memory / CUDA version on a GPU) of ``device``."""
    info = {"type": device.type, "name": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1), cuda=torch.version.cuda)
    return info


class Timer:
    """Accumulates elapsed seconds over start/stop segments: CUDA events (read with one
    synchronize) on a GPU, ``time.perf_counter`` on CPU; :meth:`add` adds seconds measured elsewhere."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self._pairs: list = []
        self._seconds = 0.0
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
            self._seconds += time.perf_counter() - self._t0
        self._t0 = None

    def add(self, seconds: float) -> None:
        self._seconds += float(seconds)

    @property
    def seconds(self) -> float:
        if self.cuda and self._pairs:
            torch.cuda.synchronize()
            return sum(a.elapsed_time(b) for a, b in self._pairs) / 1000.0 + self._seconds
        return self._seconds
