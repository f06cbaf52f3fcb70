"""The environment fingerprint stored with every run and printed by `vidbench env`."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the vidbench checkout, when it runs from one."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def nvidia_driver() -> str | None:
    """The NVIDIA driver version, from nvidia-smi when it is installed."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def decoder_backends() -> dict[str, str | None]:
    """Video decoders importable here (PyAV is the default; torchcodec needs a system FFmpeg)."""
    backends = {"av": _version("av")}
    try:
        import torchcodec  # noqa: F401
        backends["torchcodec"] = _version("torchcodec")
    except Exception:  # torchcodec raises OSError/RuntimeError when FFmpeg libraries are missing
        backends["torchcodec"] = None
    return backends


def device_unavailable(device: str) -> str | None:
    """Why `device` cannot run here, or None when it can."""
    dev = torch.device(device)
    if dev.type == "cpu":
        return None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available on this machine (torch.cuda.is_available() is False)"
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            return f"{device} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)"
        return None
    if dev.type == "mps":
        return None if torch.backends.mps.is_available() else "MPS is not available on this machine"
    return f"unsupported device {device!r}"


def environment(device: str | None = None) -> dict:
    """Versions, hardware and settings that a figure depends on."""
    env = {
        "vidbench": _version("vidbench"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "decoders": decoder_backends(),
    }
    if device is not None:
        env["device"] = device
        dev = torch.device(device)
        if dev.type == "cuda" and torch.cuda.is_available():
            idx = dev.index or 0
            env["device_name"] = torch.cuda.get_device_name(idx)
            env["cuda_capability"] = ".".join(map(str, torch.cuda.get_device_capability(idx)))
            env["driver"] = nvidia_driver()
            env["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
            env["tf32_cudnn"] = torch.backends.cudnn.allow_tf32
            env["cudnn_benchmark"] = torch.backends.cudnn.benchmark
        elif dev.type == "cpu":
            env["device_name"] = cpu_model()
    if torch.cuda.is_available():
        env["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return env
