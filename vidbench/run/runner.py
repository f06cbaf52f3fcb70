"""One RunSpec → one RunResult. Runs inside a worker process, never in the sweep's driver."""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable

import torch
from torch.utils.data import DataLoader

from vidbench.data import create_dataset
from vidbench.measure.accuracy import evaluate
from vidbench.measure.flops import model_cost
from vidbench.measure.memory import MIB, module_tensors, peak_memory_bytes
from vidbench.measure.precision import autocast
from vidbench.measure.stats import Stats
from vidbench.measure.timing import time_calls
from vidbench.measure.training import make_optimizer, make_train_step, train_epochs
from vidbench.models import create_model
from vidbench.run.env import environment
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

TRACEBACK_LINES = 20


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def execute(spec: RunSpec) -> RunResult:
    """Measure everything the spec asks for; an exception becomes a `failed` or `oom` result."""
    start = time.perf_counter()
    env = environment(spec.device)
    try:
        metrics, detail = Measurement(spec).run()
        status, error = "ok", None
    except Exception as e:  # the run's failure is its result; the sweep goes on
        status = "oom" if is_out_of_memory(e) else "failed"
        error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}".rstrip(": ")
        tail = traceback.format_exc().strip().splitlines()[-TRACEBACK_LINES:]
        metrics, detail = {}, {"error_class": type(e).__name__, "traceback": tail}
    return RunResult(spec.run_id, status, error, metrics, detail, env, round(time.perf_counter() - start, 3))


class Measurement:
    """The measurements of one run, each in its own method, each on a freshly seeded model."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.device = torch.device(spec.device)
        self.wanted = set(spec.metrics)
        self.metrics: dict[str, Any] = {}
        self.detail: dict[str, Any] = {}
        self.data = create_dataset(spec.dataset, clip_length=spec.clip_length, resolution=spec.resolution,
                                   frame_stride=spec.frame_stride, seed=spec.seed, **spec.dataset_args)

    def run(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.wanted & {"params", "flops"}:
            self.cost()
        if self.wanted & {"memory", "latency", "throughput"}:
            self.inference()
        if self.wanted & {"memory", "train_throughput"}:
            self.training_step()
        if "accuracy" in self.wanted:
            self.accuracy()
        return self.metrics, self.detail

    # -- helpers -------------------------------------------------------------------------------
    def model(self) -> torch.nn.Module:
        torch.manual_seed(self.spec.seed)
        model = create_model(self.spec.model, num_classes=self.data.num_classes, **self.spec.model_args)
        model = model.to(self.device)
        return torch.compile(model) if self.spec.compile else model

    def random_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.spec.seed)
        s = self.spec
        clips = torch.randn(s.batch_size, 3, s.clip_length, *s.resolution, generator=g)
        labels = torch.randint(self.data.num_classes, (s.batch_size,), generator=g)
        return clips.to(self.device), labels.to(self.device)

    def timed(self, fn: Callable[[], object]) -> Stats:
        bench = self.spec.benchmark
        return Stats.from_samples(time_calls(fn, self.device, bench["warmup"], bench["repeats"]))

    # -- measurements --------------------------------------------------------------------------
    def cost(self) -> None:
        s = self.spec
        cost = model_cost(s.model, self.data.num_classes, s.model_args, s.clip_length, *s.resolution)
        if "params" in self.wanted:
            self.metrics["params"] = cost.params
        if "flops" in self.wanted:
            self.metrics["gmacs"] = cost.gmacs
            self.metrics["gflops"] = cost.gflops

    def inference(self) -> None:
        model = self.model().eval()
        clips, _ = self.random_batch()

        def forward():
            with torch.no_grad(), autocast(self.device, self.spec.precision):
                return model(clips)

        forward()  # first call: lazy initialisation, compilation
        if "memory" in self.wanted:
            peak = peak_memory_bytes(forward, self.device, [*module_tensors(model), clips])
            self.metrics["peak_mem_mb"] = peak / MIB
        if self.wanted & {"latency", "throughput"}:
            stats = self.timed(forward)
            self.detail["inference_s"] = stats.as_dict()
            if "latency" in self.wanted:
                self.metrics["latency_ms_p50"] = stats.median * 1e3
                self.metrics["latency_ms_p90"] = stats.p90 * 1e3
            if "throughput" in self.wanted:
                self.metrics["throughput_clips_s"] = self.spec.batch_size / stats.median

    def training_step(self) -> None:
        model = self.model().train()
        optimizer = make_optimizer(model.parameters(), self.spec.train)
        step = make_train_step(model, optimizer, self.device, self.spec.precision)
        clips, labels = self.random_batch()
        step(clips, labels)  # creates the optimizer state, which a steady-state step holds
        if "memory" in self.wanted:
            state = [t for st in optimizer.state.values() for t in st.values() if isinstance(t, torch.Tensor)]
            peak = peak_memory_bytes(lambda: step(clips, labels), self.device,
                                     [*module_tensors(model), *state, clips, labels])
            self.metrics["train_peak_mem_mb"] = peak / MIB
        if "train_throughput" in self.wanted:
            stats = self.timed(lambda: step(clips, labels))
            self.detail["train_step_s"] = stats.as_dict()
            self.metrics["train_throughput_clips_s"] = self.spec.batch_size / stats.median

    def accuracy(self) -> None:
        train = self.spec.train
        g = torch.Generator().manual_seed(self.spec.seed)
        pin = self.device.type == "cuda"
        train_loader = DataLoader(self.data.train, batch_size=int(train["batch_size"]), shuffle=True,
                                  generator=g, pin_memory=pin)
        val_loader = DataLoader(self.data.val, batch_size=int(train["batch_size"]), pin_memory=pin)
        model = self.model()
        losses = train_epochs(model, train_loader, train, self.device, self.spec.precision)
        acc = evaluate(model, val_loader, self.data.num_classes, self.device, self.spec.precision)
        self.metrics["top1"] = acc.top1
        if acc.top5 is not None:
            self.metrics["top5"] = acc.top5
        self.detail.update(train_losses=losses, val_samples=acc.samples, train_samples=len(self.data.train))
