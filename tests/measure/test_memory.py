"""Peak tensor memory on the CPU: a dispatch-level tracker of live storage."""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.measure.memory import TensorPeakTracker, module_tensors, peak_memory_bytes
from vidbench.measure.training import make_optimizer, make_train_step

CPU = torch.device("cpu")
F32 = 4


def test_tracker_gives_the_exact_peak_of_a_known_allocation_pattern():
    tracker = TensorPeakTracker()
    resident = torch.zeros(250)  # 1,000 bytes
    tracker.track_all([resident, resident[:10]])  # a view shares its storage: counted once
    assert tracker.current == tracker.peak == 1_000
    with tracker:
        a = torch.ones(1000)  # +4,000 → 5,000
        b = a * 2  # +4,000 → 9,000
        del a  # → 5,000
        c = torch.empty(500)  # +2,000 → 7,000
        view = b.view(10, 100)  # same storage: +0
        b.add_(1)  # in place: +0
        del b, view  # → 3,000
        d = torch.ones(2000)  # +8,000 → 11,000: the peak
        del c, d  # → 1,000
    assert tracker.peak == 11_000
    assert tracker.current == 1_000


def test_tracker_sees_storage_grow_in_place():
    tracker = TensorPeakTracker()
    with tracker:
        x = torch.empty(0)
        x.resize_(100)
        x.resize_(10)  # shrinking the view keeps the storage
    assert tracker.peak == tracker.current == 100 * F32


def test_resident_tensors_count_even_when_nothing_is_allocated():
    w = torch.randn(300, 100)
    x = torch.randn(7, 100)
    assert peak_memory_bytes(lambda: None, CPU, [w, x, w.t()]) == (300 * 100 + 7 * 100) * F32


def test_linear_forward_peak_covers_weights_input_and_output():
    torch.manual_seed(0)
    layer = nn.Linear(512, 256)
    x = torch.randn(8, 512)
    weights = sum(t.numel() for t in module_tensors(layer)) * F32
    lower = weights + x.numel() * F32 + 8 * 256 * F32

    def forward():
        with torch.no_grad():
            return layer(x)

    peak = peak_memory_bytes(forward, CPU, [*module_tensors(layer), x])
    assert peak >= lower
    assert peak < 2 * lower  # nothing is counted twice


def test_activations_kept_for_backward_raise_the_peak():
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(256, 256) for _ in range(4)])
    x = torch.randn(64, 256)
    resident = [*module_tensors(model), x]

    def no_grad():
        with torch.no_grad():
            model(x)

    def with_grad():
        model(x).sum()

    activation = 64 * 256 * F32
    assert peak_memory_bytes(with_grad, CPU, resident) >= peak_memory_bytes(no_grad, CPU, resident) + 2 * activation


def test_a_training_step_holds_gradients_and_adamw_state():
    torch.manual_seed(0)
    model = nn.Linear(1024, 1024)
    weight_bytes = sum(p.numel() for p in model.parameters()) * F32
    optimizer = make_optimizer(model.parameters(), {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.01})
    step = make_train_step(model, optimizer, CPU, "fp32")
    x, y = torch.randn(4, 1024), torch.randint(1024, (4,))

    first = peak_memory_bytes(lambda: step(x, y), CPU, [*module_tensors(model), x, y])
    assert first >= 4 * weight_bytes  # weights + gradients + exp_avg + exp_avg_sq

    # Steady state, as the runner measures it: the optimizer state exists and is resident.
    state = [t for s in optimizer.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    assert sum(t.numel() for t in state if t.dim() > 0) * F32 == 2 * weight_bytes
    steady = peak_memory_bytes(lambda: step(x, y), CPU, [*module_tensors(model), *state, x, y])
    assert steady >= 4 * weight_bytes


def test_sgd_without_momentum_needs_less_than_adamw():
    def peak(train):
        torch.manual_seed(0)
        model = nn.Linear(1024, 512)
        opt = make_optimizer(model.parameters(), train)
        step = make_train_step(model, opt, CPU, "fp32")
        x, y = torch.randn(4, 1024), torch.randint(512, (4,))
        return peak_memory_bytes(lambda: step(x, y), CPU, [*module_tensors(model), x, y])

    sgd = peak({"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.0, "momentum": 0.0})
    adamw = peak({"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0})
    assert adamw - sgd >= 2 * 1024 * 512 * F32 * 0.99  # AdamW's two moment buffers
