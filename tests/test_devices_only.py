"""`devices.py` is the only module that tests a device's type (ARCHITECTURE.md): everything else asks the
device's operations or a function of `devices.py`."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from vidbench import devices

PACKAGE = Path(devices.__file__).parent
DEVICE_TESTS = re.compile(r"""startswith\(["'](cuda|mps|cpu)|\.type\s*[!=]=|device\.type\b|["'](cuda|mps)["']\s*(==|!=|in\b)|"""
                          r"""[!=]=\s*["'](cuda|mps)["']""")


def test_devices_imports_nothing_of_measure():
    """devices.py is a base layer: measurement code imports it, never the other way round."""
    source = Path(devices.__file__).read_text()
    assert not re.search(r"(from|import)\s+vidbench\.measure", source)


def test_no_module_but_devices_tests_a_device_type():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "devices.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if DEVICE_TESTS.search(line):
                found.append(f"vidbench/{rel}:{number}: {line.strip()}")
    assert not found, "device-type tests outside devices.py:\n" + "\n".join(found)


def test_the_device_functions():
    assert devices.is_cuda("cuda") and devices.is_cuda("cuda:1") and devices.is_cuda(torch.device("cuda", 0))
    assert not devices.is_cuda("cpu") and not devices.is_cuda("mps")
    assert devices.wide_float_dtype(torch.device("cpu")) is torch.float64
    assert devices.wide_float_dtype(torch.device("mps")) is torch.float32  # MPS has no float64
    assert devices.device_ops("cuda:1").index == 1 and devices.device_ops("cpu").kind == "cpu"
    assert [devices.device_ops(d).energy_counter for d in ("cpu", "cuda", "mps")] == ["rapl", "nvml", None]
    assert (devices.cuda_device_names() is None) == (not torch.cuda.is_available())


def test_the_pattern_catches_the_forms_it_forbids():
    for line in ('if spec.device.startswith("cuda"):', 'wide = a if like.device.type == "mps" else b',
                 'if kind == "cuda":', 'cuda = device.type'):
        assert DEVICE_TESTS.search(line), line
