"""The backend seam: what the runner asks of a backend, the eager implementation, the device operations
(every device-specific branch), and refusals at expansion."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

import vidbench.backends as backends
from vidbench.admission import admit_suite
from vidbench import devices
from vidbench.backends import EagerBackend, backend_for
from vidbench.cli import app
from vidbench.errors import SuiteError
from vidbench.measure.memory import module_tensors, peak_memory_bytes
from vidbench.measure.timing import measure_calls
from vidbench.measure.training import make_optimizer
from vidbench.models import create_model
from vidbench.suite.schema import parse_suite


def test_eager_forward_is_the_models_own_output_without_gradients(spec_factory):
    spec = spec_factory("c3d_tiny")
    backend = backend_for(spec)
    assert isinstance(backend, EagerBackend)
    torch.manual_seed(0)
    prepared = backend.prepare(create_model("c3d_tiny", num_classes=4), spec).eval()
    model = prepared.model
    clips = torch.randn(2, 3, 4, 16, 16)
    out = prepared.forward(clips)()
    assert not out.requires_grad
    with torch.no_grad():
        assert torch.equal(out, model(clips))


def test_eager_train_step_updates_the_weights_and_its_memory_probe_counts_them(spec_factory):
    spec = spec_factory("c3d_tiny")
    backend = backend_for(spec)
    model = backend.prepare(create_model("c3d_tiny", num_classes=4), spec).model.train()
    optimizer = make_optimizer(model.parameters(), spec.train)
    step = backend.train_step(model, optimizer, spec)
    clips, labels = torch.randn(2, 3, 4, 16, 16), torch.tensor([0, 1])
    before = [p.detach().clone() for p in model.parameters()]
    loss = step(clips, labels)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    resident = [*module_tensors(model), clips]
    weights = sum(t.untyped_storage().nbytes() for t in module_tensors(model))
    peak = backend.peak_memory(lambda: step(clips, labels), spec, resident)
    assert peak > weights
    assert peak == peak_memory_bytes(lambda: step(clips, labels), torch.device("cpu"), resident)


def test_eager_prepare_puts_3d_weights_in_channels_last(spec_factory):
    spec = spec_factory("c3d_tiny", channels_last=True)
    model = backend_for(spec).prepare(create_model("c3d_tiny", num_classes=4), spec).model
    conv = next(p for p in model.parameters() if p.dim() == 5)
    assert conv.is_contiguous(memory_format=torch.channels_last_3d) and not conv.is_contiguous()


class CountingOps(devices.DeviceOps):
    """A GPU-like device for the timing path: counts synchronisations, gives events with a fixed clock."""

    has_event_timer = True
    syncs = 0

    def synchronize(self) -> None:
        CountingOps.syncs += 1

    def event_pair(self):
        class Event:
            def __init__(self):
                self.at = None

            def record(self):
                self.at = CountingOps.syncs

            def elapsed_time(self, other):
                return 2.0  # ms

        return Event(), Event()


def test_timing_synchronises_every_call_on_a_device_that_queues_work(monkeypatch):
    """MPS runs kernels asynchronously like CUDA: every timed call is bracketed by a synchronisation (the
    device's operations decide, not a `cuda` test in the timer), and device events give their own samples."""
    monkeypatch.setitem(devices._OPS, "mps", CountingOps)
    devices._ops_for.cache_clear()
    try:
        CountingOps.syncs = 0
        timing = measure_calls(lambda: None, torch.device("mps"), warmup=0, repeats=5)
    finally:
        devices._ops_for.cache_clear()
    assert len(timing.samples) == 5
    assert CountingOps.syncs == 10  # before and after each timed call
    assert timing.device_samples == [0.002] * 5


def test_device_ops_of_the_cpu_and_of_devices_not_present():
    cpu = devices.device_ops("cpu")
    assert not cpu.has_event_timer and not cpu.has_allocator_peak and cpu.grad_scaler("fp16") is None
    assert cpu.warm_up("fp32") is None and cpu.reserved_peak_mb() is None and cpu.peak_tflops("fp32", 1.0) is None
    assert devices.device_ops("cuda:0").has_allocator_peak and devices.device_ops("cuda").pin_memory
    if not torch.cuda.is_available():
        assert "CUDA is not available" in devices.unavailable("cuda:1")
    assert devices.unavailable("cpu") is None


class NoHalfPrecision(EagerBackend):
    name = "no-fp16"

    def unsupported(self, spec):
        return "fp16 is not supported by this backend" if spec.precision == "fp16" else None


def test_a_combination_the_backend_cannot_serve_is_refused_at_expansion(monkeypatch, tmp_path):
    monkeypatch.setitem(backends.BACKENDS, "eager", NoHalfPrecision())
    suite = {"name": "t", "models": ["tsn_tiny"], "precisions": ["fp32", "fp16"], "metrics": ["params"]}
    with pytest.raises(SuiteError, match=r"model 'tsn_tiny' on cpu: fp16 is not supported by this backend"):
        admit_suite(parse_suite(suite))
    assert len(admit_suite(parse_suite({**suite, "exclude": [{"precision": "fp16"}]}))) == 1
    path = tmp_path / "suite.yaml"
    path.write_text("name: t\nmodels: [tsn_tiny]\nprecisions: [fp16]\nmetrics: [params]\n")
    result = CliRunner().invoke(app, ["run", str(path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2 and "fp16 is not supported" in result.output
    assert not (tmp_path / "out").exists()
