"""The environment fingerprint stored with every run and printed by `vidbench env`."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

from vidbench.devices import cpu_model, cuda_device_names, device_ops, nvidia_driver
from vidbench.devices import unavailable as device_unavailable

__all__ = ["cpu_model", "decoder_backends", "device_unavailable", "environment", "git_commit", "nvidia_driver",
           "package_version"]


def package_version(package: str) -> str | None:
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


def decoder_backends() -> dict[str, str | None]:
    """Video decoders importable here (PyAV is the default; torchcodec needs a system FFmpeg)."""
    backends = {"av": package_version("av")}
    try:
        import torchcodec  # noqa: F401
        backends["torchcodec"] = package_version("torchcodec")
    except Exception:  # torchcodec raises OSError/RuntimeError when FFmpeg libraries are missing
        backends["torchcodec"] = None
    return backends


def environment(device: str | None = None) -> dict:
    """Versions, hardware and settings that a figure depends on."""
    env = {
        "vidbench": package_version("vidbench"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torchvision": package_version("torchvision"),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "decoders": decoder_backends(),
    }
    if device is not None:
        env["device"] = device
        if device_unavailable(device) is None:
            env.update(device_ops(device).describe())
    gpus = cuda_device_names()
    if gpus is not None:
        env["cuda_devices"] = gpus
    return env
