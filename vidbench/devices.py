"""What differs between devices, in one place: synchronisation, device-side timing, memory peaks,
library warm-up, availability and identity. Every `cuda` or `mps` branch of vidbench lives here;
backends, timing, memory, training and loading code ask the device's `DeviceOps` instead of testing
its type. A base layer: it imports torch and the GPU peak table (`vidbench/peaks.py`, pure data) only.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import subprocess
from pathlib import Path
from typing import Any, Callable

import torch

from vidbench.peaks import blended_peak_tflops

MIB = 2**20
# int8 is a deployment runtime's post-training quantization: PyTorch's side of an int8 run (training, the eager
# reference the quantized model is checked against) runs fp32
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16, "int8": None}


def autocast(device: torch.device, precision: str):
    """Context manager running the forward pass in the run's precision (fp32: nothing to do)."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The CPU flags (Linux /proc/cpuinfo names) that reduced-precision kernels need: without a native bf16 or fp16
# unit PyTorch emulates those types, which can run many times slower than fp32 (issue 30's AVX2-only EPYC).
PRECISION_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "amx_int8", "avx512_vnni", "avx_vnni", "avx512_fp16",
                   "amx_fp16")
NATIVE = {"bf16": ("avx512_bf16", "amx_bf16"), "fp16": ("avx512_fp16", "amx_fp16")}


def cpu_precision_features(flags_text: str | None = None) -> tuple[str, ...] | None:
    """The CPU's reduced-precision features among PRECISION_FLAGS, or None where they cannot be read (no
    /proc/cpuinfo). `flags_text`: a cpuinfo text to read instead (tests)."""
    if flags_text is None:
        try:
            flags_text = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    line = next((ln for ln in flags_text.splitlines() if ln.startswith("flags")), None)
    if line is None:
        return None
    flags = set(line.split(":", 1)[1].split())
    return tuple(f for f in PRECISION_FLAGS if f in flags)


def cpu_precision_support(features: tuple[str, ...] | None) -> dict[str, str]:
    """Per reduced precision, 'native' or 'emulated' on this CPU ('unknown' where the features cannot be read)."""
    if features is None:
        return {p: "unknown" for p in NATIVE}
    return {p: "native" if set(flags) & set(features) else "emulated" for p, flags in NATIVE.items()}


@functools.lru_cache(maxsize=1)
def nvidia_driver() -> str | None:
    """The NVIDIA driver version, from nvidia-smi when it is installed."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


class DeviceOps:
    """A CPU: nothing queued to wait for, no allocator counters, no device-side clock."""

    has_event_timer = False  # device events time each call beside the wall clock
    has_allocator_peak = False  # the allocator counts its own peak (else: the live-tensor tracker, and RSS)
    has_peak_tflops = False  # a table of dense peaks exists, for achieved TFLOP/s and MFU
    pin_memory = False  # loaders pin host memory for faster copies to the device
    energy_counter: str | None = "rapl"  # the counters `measure.energy` reads here (None: none)

    def __init__(self, device: torch.device):
        self.device = device

    @property
    def kind(self) -> str:
        """The device's type ('cpu', 'cuda', 'mps'), for messages."""
        return self.device.type

    @property
    def index(self) -> int:
        """The device's ordinal (0 when the spec names none)."""
        return self.device.index or 0

    @classmethod
    def unavailable(cls, device: torch.device) -> str | None:
        """Why this device cannot run here, or None."""
        return None

    def synchronize(self) -> None:
        """Wait for queued kernels, so a wall-clock interval covers the work and not just its launch."""

    def event_pair(self) -> tuple[Any, Any] | None:
        """A (begin, end) pair of device events with elapsed_time() in ms, where the device has them."""
        return None

    def allocator_peak_bytes(self, fn: Callable[[], object]) -> int | None:
        """Peak bytes the device's allocator held while `fn` ran, where it keeps that count (else None:
        `measure.memory` tracks live tensors instead)."""
        return None

    def reserved_peak_mb(self) -> float | None:
        """The allocator's reserved peak (cached blocks included), where it keeps one."""
        return None

    def warm_up(self, precision: str) -> float | None:
        """Create library handles and workspaces before anything is measured; the memory then held (MiB)."""
        return None

    def release_cached(self) -> None:
        """Return cached blocks to the device (after an out-of-memory probe)."""

    def grad_scaler(self, precision: str) -> torch.amp.GradScaler | None:
        return None

    def peak_tflops(self, precision: str, conv_share: float) -> float | None:
        """The dense peak the model's FLOPs run at on this device, for MFU; None when unknown."""
        return None

    def describe(self) -> dict[str, Any]:
        """What identifies the device in a run's environment (a CPU's: its model and the reduced-precision
        features its kernels can use: bf16, fp16, int8's VNNI and AMX)."""
        return {"device_name": cpu_model(), "cpu_precision_features": list(cpu_precision_features() or ()),
                "cpu_capability": torch.backends.cpu.get_cpu_capability()}  # the ISA ATen's CPU kernels dispatch to

    def precision_support(self, precision: str) -> str | None:
        """Whether PyTorch's kernels run `precision` natively here ('native', 'emulated', 'unknown'); None
        where there is nothing to say (fp32, int8, a GPU)."""
        if precision not in NATIVE:
            return None
        return cpu_precision_support(cpu_precision_features())[precision]


class CudaOps(DeviceOps):
    """An NVIDIA GPU: kernels run asynchronously; the caching allocator keeps peaks; CUDA events time on
    the stream."""

    has_event_timer = True
    has_allocator_peak = True
    has_peak_tflops = True
    pin_memory = True
    energy_counter = "nvml"

    @classmethod
    def unavailable(cls, device: torch.device) -> str | None:
        if not torch.cuda.is_available():
            return "CUDA is not available on this machine (torch.cuda.is_available() is False)"
        if device.index is not None and device.index >= torch.cuda.device_count():
            return f"{device} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)"
        return None

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.device)

    def event_pair(self):
        return torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def allocator_peak_bytes(self, fn) -> int | None:
        self.synchronize()
        torch.cuda.reset_peak_memory_stats(self.device)
        fn()
        self.synchronize()
        return int(torch.cuda.max_memory_allocated(self.device))

    def reserved_peak_mb(self) -> float | None:
        return torch.cuda.max_memory_reserved(self.device) / MIB

    def warm_up(self, precision: str) -> float | None:
        """cuBLAS's handles and workspaces (one per thread: forward and autograd's backward; 32 MiB each on
        Hopper). A warm worker keeps them, so otherwise the first run on a device would count them in its
        peak and the runs after it would not."""
        weight = torch.randn(64, 64, device=self.device, requires_grad=True)
        for mode in dict.fromkeys(("fp32", precision)):
            with autocast(self.device, mode):
                (weight @ weight).sum().backward()
        self.synchronize()
        return torch.cuda.memory_allocated(self.device) / MIB

    def release_cached(self) -> None:
        torch.cuda.empty_cache()

    def grad_scaler(self, precision: str):
        return torch.amp.GradScaler("cuda") if precision == "fp16" else None

    def peak_tflops(self, precision: str, conv_share: float) -> float | None:
        return blended_peak_tflops(torch.cuda.get_device_name(self.device), precision, conv_share,
                                   torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)

    def precision_support(self, precision: str) -> str | None:
        return None

    def describe(self) -> dict[str, Any]:
        idx = self.device.index or 0
        return {"device_name": torch.cuda.get_device_name(idx),
                "cuda_capability": ".".join(map(str, torch.cuda.get_device_capability(idx))),
                "driver": nvidia_driver(), "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
                "tf32_cudnn": torch.backends.cudnn.allow_tf32, "cudnn_benchmark": torch.backends.cudnn.benchmark}


class MpsOps(DeviceOps):
    """An Apple GPU: kernels run asynchronously too, so timing synchronises; MPS events time on the device."""

    has_event_timer = True
    energy_counter = None

    @classmethod
    def unavailable(cls, device: torch.device) -> str | None:
        return None if torch.backends.mps.is_available() else "MPS is not available on this machine"

    def synchronize(self) -> None:
        torch.mps.synchronize()

    def event_pair(self):
        return torch.mps.event.Event(enable_timing=True), torch.mps.event.Event(enable_timing=True)

    def release_cached(self) -> None:
        torch.mps.empty_cache()

    def precision_support(self, precision: str) -> str | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"device_name": "Apple MPS"}


_OPS: dict[str, type[DeviceOps]] = {"cpu": DeviceOps, "cuda": CudaOps, "mps": MpsOps}


def unavailable(device: str | torch.device) -> str | None:
    """Why `device` cannot run here, or None when it can."""
    dev = torch.device(device)
    ops = _OPS.get(dev.type)
    return f"unsupported device {str(device)!r}" if ops is None else ops.unavailable(dev)


@functools.lru_cache(maxsize=None)
def _ops_for(device: torch.device) -> DeviceOps:
    return _OPS[device.type](device)


def device_ops(device: str | torch.device) -> DeviceOps:
    """The operations of `device` ('cpu', 'cuda:1', a torch.device)."""
    return _ops_for(torch.device(device))


def is_cuda(device: str | torch.device) -> bool:
    """Whether `device` ('cuda', 'cuda:1', a torch.device) is an NVIDIA GPU: what Ray counts as a GPU and what
    ONNX Runtime's CUDA provider serves."""
    return str(device).partition(":")[0] == "cuda"


def wide_float_dtype(device: torch.device) -> torch.dtype:
    """The widest float `device` computes in: float64, except on MPS, which has none. Plain attribute tests
    (no cache), so TorchDynamo and torch.export trace through it."""
    return torch.float32 if device.type == "mps" else torch.float64


def cuda_device_names() -> list[str] | None:
    """The names of this machine's CUDA devices (for the environment), or None without CUDA."""
    if not torch.cuda.is_available():
        return None
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
