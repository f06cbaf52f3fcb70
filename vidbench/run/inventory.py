"""What this machine can run, for `vidbench env`: each device type (available, or why not) and each runtime of
the `runtimes` axis with the version of the package it runs on (or what to install). Read before writing a
suite, so a `devices:` or `runtimes:` entry is not a surprise skip."""

from __future__ import annotations

from vidbench.backends import BACKENDS
from vidbench.devices import cpu_precision_features, cpu_precision_support, cuda_device_names, is_cuda, unavailable
from vidbench.run.env import package_version


def devices() -> dict[str, str]:
    """'available' (with the GPUs' names) or the reason a device type cannot run here."""
    out = {}
    for device in ("cpu", "cuda", "mps"):
        reason = unavailable(device)
        if reason is not None:
            out[device] = f"not available: {reason}"
        elif is_cuda(device):
            names = cuda_device_names() or []
            out[device] = f"available: {len(names)} device(s): {', '.join(names)}"
        else:
            out[device] = "available"
    out["cpu"] += f"; {cpu_precisions()}"  # the CPU is always here: what its reduced precisions cost
    return out


def runtimes() -> dict[str, str]:
    """Each runtime: the package it runs on with its version, or 'not installed' and the install hint."""
    out = {}
    for name, backend in BACKENDS.items():
        packages = getattr(backend, "packages", ()) or ("torch",)
        missing = backend.missing_package() if hasattr(backend, "missing_package") else None
        if missing:
            out[name] = f"not installed ({missing}): {backend.install}"
        else:
            out[name] = ", ".join(f"{p} {package_version(p)}" for p in packages)
    return out


def cpu_precisions() -> str:
    """'bf16 native, fp16 emulated (avx512_bf16, avx512_vnni)': whether PyTorch's CPU kernels have native
    reduced-precision units here, read from the CPU's flags; an emulated precision runs far slower than fp32."""
    features = cpu_precision_features()
    support = ", ".join(f"{p} {how}" for p, how in cpu_precision_support(features).items())
    return f"{support} ({', '.join(features) or 'no reduced-precision features'})" if features is not None else support
