"""The run context every scenario runs against: the spec and its data, the run's backend and trainer, the
device's operations, freshly seeded models (built, prepared, set up to train), seeded batches, the timed
loop, and the `metrics` and `detail` a run returns. Figures go in through `put`, which accepts only the
columns `vidbench.metrics` declares."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from vidbench import phase
from vidbench import metrics as tables
from vidbench.axes import QUANTIZED
from vidbench.backends import Prepared, Shapes, backend_for
from vidbench.data import create_dataset, dataset_info
from vidbench.devices import device_ops
from vidbench.measure.calibration import calibration_set
from vidbench.measure.energy import MIN_WINDOW_S, energy_columns
from vidbench.measure.protocols import TransferPlan, transfer_plan
from vidbench.measure.stats import Stats
from vidbench.measure.timing import measure_calls
from vidbench.measure.training import make_optimizer
from vidbench.measure.uncertainty import quantile_interval
from vidbench.models import create_model, model_info
from vidbench.models.weights import load_report
from vidbench import deadline

MAX_STORED_SAMPLES = 1000  # statistics use every sample; the store keeps at most this many, evenly spaced


def stored_samples(samples: list[float], limit: int = MAX_STORED_SAMPLES) -> list[float]:
    """At most `limit` of a loop's samples, evenly spaced over the whole loop (in order), so the stored ones
    stand for all of it: tests and intervals computed later from the store see the same distribution
    (the first ones alone would be the loop's start)."""
    if len(samples) <= limit:
        return list(samples)
    step = len(samples) / limit
    return [samples[int(i * step)] for i in range(limit)]


LOOP_SHARE = 0.25  # one timing loop may take at most this share of the time left before the run's timeout


def loop_budget_s() -> float | None:
    """The seconds a timing loop starting now may take (None: the run has no timeout)."""
    remaining = deadline.remaining_s()
    return None if remaining is None else LOOP_SHARE * remaining


@dataclass
class TrainingStep:
    """A fresh model in training mode under the run's transfer protocol, its optimizer and one step."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class RunContext:
    """One run's state and helpers, shared by its scenarios in order (cost's profile serves the later
    MFU figures; the auto-batch search sets the batch the others use)."""

    def __init__(self, spec, weights_path: Path | None = None):
        self.spec = spec
        self.weights_path = weights_path  # where `train.save_weights` writes (None: no run folder)
        self.device = torch.device(spec.device)
        self.backend = backend_for(spec)
        self.trainer = self.backend.trainer  # eager PyTorch trains a deployment runtime's model
        self.ops = device_ops(self.device)
        self.wanted = set(spec.metrics)
        self.metrics: dict[str, Any] = {}
        self.detail: dict[str, Any] = {"threads": torch.get_num_threads()}
        self.data = create_dataset(spec.dataset, clip_length=spec.clip_length, resolution=spec.resolution,
                                   frame_stride=spec.frame_stride, seed=spec.seed, **self.dataset_args())
        self.batch_size = spec.batch_size if isinstance(spec.batch_size, int) else None
        self.profile = None  # the cost scenario's FLOPs profile
        self.meter = None  # the energy meter, when energy is asked

    def dataset_args(self) -> dict[str, Any]:
        """The suite's dataset args, plus the model's input normalisation where the dataset takes it."""
        args = self.spec.resolved_dataset_args()
        info, model = dataset_info(self.spec.dataset), model_info(self.spec.model)
        for key in ("mean", "std"):
            if key not in args and info.accepts(key):
                args[key] = list(getattr(model, key))
        return args

    # -- figures -------------------------------------------------------------------------------
    def put(self, name: str, value: Any) -> None:
        """Store a figure under its declared column (an undeclared name raises)."""
        self.metrics[tables.column(name).name] = value

    def put_all(self, figures: dict[str, Any]) -> None:
        for name, value in figures.items():
            self.put(name, value)

    @property
    def views(self) -> int:
        """Clips per validation video (test clips × crops): what one video costs under the test protocol."""
        return int(getattr(self.data.val, "views", 1) or 1)

    # -- models and batches --------------------------------------------------------------------
    def shapes(self) -> Shapes:
        """The batches a prepared model serves: the run's, up to one video's views and a validation batch."""
        batch = self.batch_size or 1
        return Shapes(batch, max(batch, self.views, int(self.spec.train.get("batch_size", 1))))

    def built_model(self) -> torch.nn.Module:
        """A freshly seeded model, its weights loaded (the load report kept once)."""
        torch.manual_seed(self.spec.seed)
        model = create_model(self.spec.model, num_classes=self.data.num_classes, **self.spec.resolved_model_args())
        report = load_report(model)
        if report is not None and "weights" not in self.detail:
            self.detail["weights"] = report.as_detail()
        return model

    def prepared(self, model: torch.nn.Module | None = None) -> Prepared:
        """`model` (a freshly built one by default) prepared by the run's backend, in eval mode; an int8
        run's calibrated on clips of its training split (how, and what stayed in float, into the detail)."""
        model = self.built_model() if model is None else model
        if self.spec.precision != QUANTIZED:
            return self.backend.prepare(model, self.spec, self.shapes()).eval()
        calibration = calibration_set(self.data.train, self.spec.calibration(), self.spec.seed)
        prepared = self.backend.prepare(model, self.spec, self.shapes(), calibration=calibration)
        self.detail["int8"] = prepared.detail
        return prepared.eval()

    def trainable_model(self) -> tuple[torch.nn.Module, TransferPlan, Callable[[torch.nn.Module], None]]:
        """A fresh model set up for the run's transfer protocol: the model on the trainer, the plan (what
        trains, at which learning rates), and the function that puts it in training mode."""
        built = self.built_model()
        plan = transfer_plan(built, self.spec.model, self.spec.train)
        self.detail["transfer"] = plan.as_detail()
        model = self.trainer.prepare(built, self.spec, self.shapes()).model
        return model, plan, lambda _model: plan.train_mode(built)

    def training_step(self) -> TrainingStep:
        """A fresh model in training mode, its optimizer and the trainer's step (what a step is timed on)."""
        model, plan, train_mode = self.trainable_model()
        train_mode(model)
        optimizer = make_optimizer(plan.param_groups, self.spec.train)
        return TrainingStep(model, optimizer, self.trainer.train_step(model, optimizer, self.spec))

    def random_batch(self, batch_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.spec.seed)
        s, b = self.spec, batch_size or self.batch_size
        clips = torch.randn(b, 3, s.clip_length, *s.resolution, generator=g).to(self.device)
        if s.channels_last:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        labels = torch.randint(self.data.num_classes, (b,), generator=g)
        return clips, labels.to(self.device)

    # -- timing --------------------------------------------------------------------------------
    def timed(self, fn: Callable[[], object], name: str, energy: bool = False) -> Stats:
        """Time `fn` as the benchmark block says, synchronised by the run's backend; with `energy`, the
        energy meter reads the device's counters around the loop (lengthened to at least MIN_WINDOW_S of
        samples, the counters' resolution)."""
        phase.report("warming up and timing the " + ("training step" if name == "train_step_s" else "inference"))
        bench = self.spec.benchmark
        min_time = bench.get("min_time_s", 0.0)
        metered = energy and self.meter is not None
        with self.meter.window() if metered else contextlib.nullcontext() as window:
            timing = measure_calls(fn, self.device, bench["warmup"], bench["repeats"], bench.get("warmup_s", 0.0),
                                   max(min_time, MIN_WINDOW_S) if metered else min_time,
                                   sync=lambda: self.backend.sync(self.spec), budget_s=loop_budget_s())
        stats = Stats.from_samples(timing.samples)
        self.detail[name] = {**stats.as_dict(), "warmup_calls": timing.warmup_calls, "warmup_s": timing.warmup_s,
                             "samples": stored_samples(timing.samples),
                             # the within-run interval of each statistic a figure is made of, over every sample
                             "ci": {f"{q:g}": quantile_interval(timing.samples, q) for q in tables.quantiles_of(name)}}
        if timing.device_samples is not None:
            self.detail[name]["cuda_event"] = Stats.from_samples(timing.device_samples).as_dict()
        self.put("unstable", bool(self.metrics.get("unstable")) or stats.unstable)
        if timing.bounded is not None:
            self.detail[name]["bounded"] = timing.bounded
            self.put("bounded", True)
        if metered:
            calls = timing.warmup_calls + len(timing.samples)  # the window holds the warm-up calls too
            self.detail[name]["energy"] = {**window.as_dict(), "calls": calls}
            if window.joules is not None:
                self.put_all(energy_columns(window.joules, calls * self.batch_size, window.seconds,
                                            prefix="train_" if name == "train_step_s" else ""))
        return stats

    def achieved(self, clips_per_s: float, train: bool) -> None:
        """Achieved TFLOP/s of the forward (or training step) and, on a GPU with a known peak, model FLOPs
        utilisation against the peak of where the FLOPs run (convolutions and matmuls have separate TF32
        switches)."""
        if self.profile is None or not self.ops.has_peak_tflops:
            return
        p = self.profile
        macs, conv_share, prefix = (p.train_macs, p.train_conv_share, "train_") if train else (p.macs, p.conv_share, "")
        if not macs:
            return
        tflops = 2 * macs * clips_per_s / 1e12
        self.put(f"{prefix}tflops_achieved", tflops)
        peak = self.ops.peak_tflops(self.spec.precision, conv_share or 0.0)
        if peak:
            self.put(f"{prefix}mfu", tflops / peak)
            self.detail[f"{prefix}mfu_peak_tflops"] = peak
