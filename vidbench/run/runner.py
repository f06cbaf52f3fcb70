"""One RunSpec → one RunResult. Runs inside a worker process, never in the sweep's driver."""

from __future__ import annotations

import contextlib
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from vidbench.backends import RuntimeUnsupported, backend_for
from vidbench.backends.exported import ParityCheck
from vidbench.backends.eager import to_channels_last
from vidbench.data import create_dataset, dataset_info
from vidbench.data.loader import make_loader, measure_data_throughput
from vidbench.data.video import data_detail, skipped_videos
from vidbench.devices import device_ops
from vidbench.measure.accuracy import evaluate
from vidbench.measure.energy import MIN_WINDOW_S, energy_columns, energy_meter
from vidbench.measure.flops import profile_model
from vidbench.measure.memory import MIB, module_tensors
from vidbench.measure.rss import rss_high_water_mib, rss_now_mib, rss_peak_mib
from vidbench.measure.stats import Stats
from vidbench.measure.timing import measure_calls
from vidbench.measure.protocols import TransferPlan, transfer_plan
from vidbench.measure.training import EpochRecord, make_optimizer, train_epochs
from vidbench.measure.uncertainty import quantile_interval
from vidbench.metrics import quantiles_of
from vidbench.measure.views import evaluate_views
from vidbench.models import create_model, model_info
from vidbench.models.weights import load_report
from vidbench.run.artifacts import weights_path
from vidbench.run.env import environment
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

TRACEBACK_LINES = 20
RSS_CALLS = 3  # inference calls under the resident-memory high-water mark
MAX_STORED_SAMPLES = 1000  # statistics use every sample; the store keeps at most this many, evenly spaced


def stored_samples(samples: list[float], limit: int = MAX_STORED_SAMPLES) -> list[float]:
    """At most `limit` of a loop's samples, evenly spaced over the whole loop (in order), so the stored ones
    stand for all of it: tests and intervals computed later from the store see the same distribution
    (the first ones alone would be the loop's start)."""
    if len(samples) <= limit:
        return list(samples)
    step = len(samples) / limit
    return [samples[int(i * step)] for i in range(limit)]


def is_out_of_memory(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text


def execute(spec: RunSpec, run_folder: str | Path | None = None) -> RunResult:
    """Measure everything the spec asks for; an exception becomes a `failed` or `oom` result. `run_folder`
    is where `train.save_weights` writes (`<run_folder>/weights/<run_id>.pt`)."""
    start = time.perf_counter()
    bench = spec.benchmark
    if bench.get("threads"):
        torch.set_num_threads(int(bench["threads"]))
    torch.backends.cudnn.benchmark = bool(bench.get("cudnn_benchmark", True))
    env = environment(spec.device)
    try:
        metrics, detail = Measurement(spec, run_folder).run()
        status, error = _parity_status(spec, metrics)
    except Exception as e:  # the run's failure is its result; the sweep goes on
        refusal = e if isinstance(e, RuntimeUnsupported) else backend_for(spec).compile_refusal(e, spec)
        if refusal is not None:  # the runtime (its converter or compiler) cannot take the model: a finding
            status, error = "unsupported", str(refusal)
            metrics, detail = {}, {"unsupported": error}
        else:
            status = "oom" if is_out_of_memory(e) else "failed"
            error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}".rstrip(": ")
            tail = traceback.format_exc().strip().splitlines()[-TRACEBACK_LINES:]
            metrics, detail = {}, {"error_class": type(e).__name__, "traceback": tail}
    return RunResult(spec.run_id, status, error, metrics, detail, env, round(time.perf_counter() - start, 3))


def _parity_status(spec: RunSpec, metrics: dict[str, Any]) -> tuple[str, str | None]:
    """`mismatch` when a runtime's top-1 agrees with eager's on fewer clips than the parity floor."""
    agree = metrics.get("parity_top1_agree")
    floor = float(spec.benchmark.get("parity_floor", 99.0))
    if agree is not None and agree < floor:
        return "mismatch", f"top-1 agrees with eager PyTorch on {agree:.1f}% of clips (floor {floor:g}%)"
    return "ok", None


__all__ = ["Measurement", "execute", "is_out_of_memory", "rss_peak_mib", "to_channels_last"]


class Measurement:
    """The measurements of one run, each in its own method, each on a freshly seeded model. It decides what
    is measured and in which order; the run's backend (`vidbench.backends`) decides how the model is
    prepared, called and trained, and the device's operations (`vidbench.devices`) how it is synchronised
    and probed."""

    def __init__(self, spec: RunSpec, run_folder: str | Path | None = None):
        self.spec = spec
        self.run_folder = Path(run_folder) if run_folder else None
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
        self.profile = None
        self.meter = None  # the energy meter, when energy is asked

    def dataset_args(self) -> dict[str, Any]:
        """The suite's dataset args, plus the model's input normalisation where the dataset takes it."""
        args = self.spec.resolved_dataset_args()
        info, model = dataset_info(self.spec.dataset), model_info(self.spec.model)
        for key in ("mean", "std"):
            if key not in args and info.accepts(key):
                args[key] = list(getattr(model, key))
        return args

    def run(self) -> tuple[dict[str, Any], dict[str, Any]]:
        baseline = self.ops.warm_up(self.spec.precision)
        if baseline is not None:
            self.detail["baseline_mem_mb"] = baseline
        if "energy" in self.wanted:
            self.meter = energy_meter(self.device)
            self.detail["energy"] = {**self.meter.describe(), "idle_power_w": self.meter.idle_power_w(),
                                     "scope": "device-wide: every process on the device is counted"}
        try:
            return self.measure()
        finally:
            if self.meter is not None:
                self.meter.close()

    def measure(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.wanted & {"params", "flops"} or self.ops.has_peak_tflops:
            self.cost()  # where the device has a known peak, the MACs also give achieved TFLOP/s and MFU
        if self.batch_size is None:
            self.batch_size = self.find_max_batch()
            self.detail["batch_size_run"] = self.batch_size
        if self.wanted & {"memory", "latency", "throughput", "energy"}:
            self.inference()
        if self.wanted & {"memory", "train_throughput"} and self.backend.trains:
            self.training_step()
        if "data_throughput" in self.wanted:
            self.metrics["data_throughput_clips_s"] = measure_data_throughput(
                self.data.train, self.batch_size, seed=self.spec.seed, device=self.spec.device)
        if "accuracy" in self.wanted:
            self.accuracy()
        self.data_record()
        if "memory" in self.wanted and not self.ops.has_allocator_peak:
            self.metrics["rss_peak_mb"] = rss_peak_mib()
        return self.metrics, self.detail

    # -- helpers -------------------------------------------------------------------------------
    def model(self) -> torch.nn.Module:
        """A freshly seeded model (its weights loaded, if any), prepared by the run's backend."""
        return self.backend.prepare(self.built_model(), self.spec)

    def built_model(self) -> torch.nn.Module:
        torch.manual_seed(self.spec.seed)
        model = create_model(self.spec.model, num_classes=self.data.num_classes, **self.spec.resolved_model_args())
        report = load_report(model)
        if report is not None and "weights" not in self.detail:
            self.detail["weights"] = report.as_detail()
        return model

    def trainable_model(self) -> tuple[torch.nn.Module, TransferPlan, Callable[[torch.nn.Module], None]]:
        """A fresh model set up for the run's transfer protocol: the prepared model, the plan (what trains,
        at which learning rates), and the function that puts it in training mode."""
        built = self.built_model()
        plan = transfer_plan(built, self.spec.model, self.spec.train)
        self.detail["transfer"] = plan.as_detail()
        return self.trainer.prepare(built, self.spec), plan, lambda _model: plan.train_mode(built)

    def random_batch(self, batch_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.spec.seed)
        s, b = self.spec, batch_size or self.batch_size
        clips = torch.randn(b, 3, s.clip_length, *s.resolution, generator=g).to(self.device)
        if s.channels_last:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        labels = torch.randint(self.data.num_classes, (b,), generator=g)
        return clips, labels.to(self.device)

    def timed(self, fn: Callable[[], object], name: str, energy: bool = False) -> Stats:
        """Time `fn` as the benchmark block says; with `energy`, the energy meter reads the device's counters
        around the loop (lengthened to at least MIN_WINDOW_S of samples, the counters' resolution)."""
        bench = self.spec.benchmark
        min_time = bench.get("min_time_s", 0.0)
        metered = energy and self.meter is not None
        with self.meter.window() if metered else contextlib.nullcontext() as window:
            timing = measure_calls(fn, self.device, bench["warmup"], bench["repeats"], bench.get("warmup_s", 0.0),
                                   max(min_time, MIN_WINDOW_S) if metered else min_time)
        stats = Stats.from_samples(timing.samples)
        self.detail[name] = {**stats.as_dict(), "warmup_calls": timing.warmup_calls, "warmup_s": timing.warmup_s,
                             "samples": stored_samples(timing.samples),
                             # the within-run interval of each statistic a figure is made of, over every sample
                             "ci": {f"{q:g}": quantile_interval(timing.samples, q) for q in quantiles_of(name)}}
        if timing.device_samples is not None:
            self.detail[name]["cuda_event"] = Stats.from_samples(timing.device_samples).as_dict()
        self.metrics["unstable"] = bool(self.metrics.get("unstable")) or stats.unstable
        if metered:
            calls = timing.warmup_calls + len(timing.samples)  # the window holds the warm-up calls too
            self.detail[name]["energy"] = {**window.as_dict(), "calls": calls}
            if window.joules is not None:
                self.metrics.update(energy_columns(window.joules, calls * self.batch_size, window.seconds,
                                                   prefix="train_" if name == "train_step_s" else ""))
        return stats

    def _achieved(self, clips_per_s: float, train: bool) -> None:
        """Achieved TFLOP/s of the forward (or training step) and, on a GPU with a known peak, model FLOPs
        utilisation against the peak of where the FLOPs run (convolutions and matmuls have separate TF32
        switches)."""
        ops = device_ops(self.device)
        if self.profile is None or not ops.has_peak_tflops:
            return
        p = self.profile
        macs, conv_share, prefix = (p.train_macs, p.train_conv_share, "train_") if train else (p.macs, p.conv_share, "")
        if not macs:
            return
        tflops = 2 * macs * clips_per_s / 1e12
        self.metrics[f"{prefix}tflops_achieved"] = tflops
        peak = ops.peak_tflops(self.spec.precision, conv_share or 0.0)
        if peak:
            self.metrics[f"{prefix}mfu"] = tflops / peak
            self.detail[f"{prefix}mfu_peak_tflops"] = peak

    # -- measurements --------------------------------------------------------------------------
    def cost(self) -> None:
        s = self.spec
        self.profile = profile_model(s.model, self.data.num_classes, s.model_args, s.clip_length, *s.resolution)
        self.detail["flops"] = self.profile.as_dict()
        if "params" in self.wanted:
            self.metrics["params"] = self.profile.params
        if "flops" in self.wanted:
            self.metrics["gmacs"] = self.profile.macs / 1e9
            self.metrics["gflops"] = 2 * self.profile.macs / 1e9
            self.metrics["train_gmacs"] = self.profile.train_macs / 1e9
            self.metrics["views"] = self.views
            self.metrics["gmacs_per_video"] = self.profile.macs / 1e9 * self.views

    def find_max_batch(self) -> int:
        """`batch_sizes: [auto]`: double the batch until a step runs out of memory or reaches the cap, then
        bisect between the last that fitted and the first that did not (timm's approach)."""
        training = bool(self.wanted & {"train_throughput", "accuracy"})
        if training:
            model, plan, train_mode = self.trainable_model()
            train_mode(model)
            optimizer = make_optimizer(plan.param_groups, self.spec.train)
            step = self.trainer.train_step(model, optimizer, self.spec)
        else:
            model, step = self.model().eval(), None

        def fits(b: int) -> bool:
            clips, labels = self.random_batch(b)
            try:
                if training:
                    step(clips, labels)
                else:
                    self.backend.forward(model, clips, self.spec)()
                self.backend.sync(self.spec)
                return True
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                return False
            finally:
                del clips, labels
                self.ops.release_cached()

        cap = int(self.spec.benchmark.get("auto_batch_max", 256))
        good, bad = 0, None
        b = 1
        while b <= cap and fits(b):
            good, b = b, b * 2
        if good == 0:
            raise torch.OutOfMemoryError("batch_sizes: auto: not even a batch of 1 fits")
        if b <= cap:
            bad = b
            while bad - good > 1:
                mid = (good + bad) // 2
                good, bad = (mid, bad) if fits(mid) else (good, mid)
        self.detail["auto_batch"] = {"fits": good, "first_too_big": bad, "cap": cap, "training": training}
        return good

    def inference(self) -> None:
        self.backend.load()  # the runtime's libraries: not part of what the model adds to resident memory
        rss_before = rss_now_mib() if "memory" in self.wanted and not self.ops.has_allocator_peak else None
        model = self.model().eval()
        self.metrics.update(getattr(model, "figures", {}))  # a runtime's export time, artifact and parity
        clips, _ = self.random_batch()
        forward = self.backend.forward(model, clips, self.spec)
        started = time.perf_counter()
        forward()  # first call: lazy initialisation, cuDNN autotuning, compilation
        self.backend.sync(self.spec)
        first = time.perf_counter() - started
        self.detail["first_call_s"] = first
        if self.spec.compile:
            self.metrics["compile_s"] = first
        self.metrics.update(self.backend.parity(model, self.spec))
        if "memory" in self.wanted:
            self.inference_memory(model, forward, clips, rss_before)
        if self.wanted & {"latency", "throughput", "energy"}:
            stats = self.timed(forward, "inference_s", energy="energy" in self.wanted)
            self.per_video(model, stats)
            if "latency" in self.wanted:
                self.metrics["latency_ms_p50"] = stats.median * 1e3
                self.metrics["latency_ms_p90"] = stats.p90 * 1e3
                if stats.p99 is not None:
                    self.metrics["latency_ms_p99"] = stats.p99 * 1e3
            if "throughput" in self.wanted:
                clips_s = self.batch_size / stats.median
                self.metrics["throughput_clips_s"] = clips_s
                self.metrics["throughput_frames_s"] = clips_s * self.spec.clip_length
                self._achieved(clips_s, train=False)

    def inference_memory(self, model, forward: Callable[[], object], clips: torch.Tensor,
                         rss_before: float | None) -> None:
        """Tensor peak where the backend's tensors are PyTorch's; on the CPU also the resident memory the
        run adds over a few calls (vidbench.measure.rss), measured alike for every runtime: the only
        figure a runtime whose buffers PyTorch cannot see has."""
        resident = [*module_tensors(model)] if isinstance(model, torch.nn.Module) else []
        peak = self.backend.peak_memory(forward, self.spec, [*resident, clips])
        if peak is not None:  # the allocator's reserved peak belongs to that probe only
            self.metrics["peak_mem_mb"] = peak / MIB
            reserved = self.ops.reserved_peak_mb()
            if reserved is not None:
                self.metrics["peak_mem_reserved_mb"] = reserved
        if not self.ops.has_allocator_peak:
            peak = rss_high_water_mib(lambda: [forward() for _ in range(RSS_CALLS)])
            if peak is None or rss_before is None:
                self.detail["infer_rss"] = "no resettable RSS high-water mark on this system"
            else:
                self.metrics["infer_rss_mb"] = peak - rss_before
                self.detail["infer_rss"] = {"before_mb": rss_before, "high_water_mb": peak}

    @property
    def views(self) -> int:
        """Clips per validation video (test clips × crops): what one video costs under the test protocol."""
        return int(getattr(self.data.val, "views", 1) or 1)

    def per_video(self, model: torch.nn.Module, batch_stats: Stats) -> None:
        """All views of one video in one batch, as the published protocols run them: its latency and
        videos/s (the run's own timing when its batch is one video's views)."""
        views = self.metrics["views"] = self.views
        if views == self.batch_size:
            stats, self.detail["video_s"] = batch_stats, self.detail["inference_s"]
        else:
            clips, _ = self.random_batch(views)
            stats = self.timed(self.backend.forward(model, clips, self.spec), "video_s")
        if "latency" in self.wanted:
            self.metrics["latency_ms_per_video"] = stats.median * 1e3
        if "throughput" in self.wanted:
            self.metrics["videos_s"] = 1 / stats.median

    def training_step(self) -> None:
        model, plan, train_mode = self.trainable_model()
        train_mode(model)
        optimizer = make_optimizer(plan.param_groups, self.spec.train)
        step = self.trainer.train_step(model, optimizer, self.spec)
        clips, labels = self.random_batch()
        step(clips, labels)  # creates the optimizer state, which a steady-state step holds
        if "memory" in self.wanted:
            state = [t for st in optimizer.state.values() for t in st.values() if isinstance(t, torch.Tensor)]
            peak = self.trainer.peak_memory(lambda: step(clips, labels), self.spec,
                                            [*module_tensors(model), *state, clips, labels])
            if peak is not None:
                self.metrics["train_peak_mem_mb"] = peak / MIB
        if "train_throughput" in self.wanted:
            stats = self.timed(lambda: step(clips, labels), "train_step_s", energy="energy" in self.wanted)
            clips_s = self.batch_size / stats.median
            self.metrics["train_throughput_clips_s"] = clips_s
            self.metrics["train_throughput_frames_s"] = clips_s * self.spec.clip_length
            self._achieved(clips_s, train=True)

    def accuracy(self) -> None:
        """Train as the spec's train block says (protocol, schedule, evaluations), then validate. With
        `eval_every`, the curve (top-1, loss, wall seconds and training PFLOPs at each point) goes into the
        detail and the best top-1 into the figures; `save_weights` keeps the trained weights."""
        train, seed, device = self.spec.train, self.spec.seed, self.spec.device
        batch = int(train["batch_size"])
        train_loader = make_loader(self.data.train, batch, shuffle=True, device=device, seed=seed)
        val_loader = make_loader(self.data.val, batch, device=device, seed=seed)
        model, plan, train_mode = self.trainable_model()
        history: list[EpochRecord] = []
        losses = train_epochs(model, train_loader, train, self.device, self.spec.precision, params=plan.param_groups,
                              evaluate=lambda: self.validate(model, val_loader), train_mode=train_mode,
                              history=history)
        self.detail.update(train_losses=losses, train_samples=len(self.data.train))
        self.metrics["train_s"] = history[-1].seconds
        per_clip = self.training_macs()
        self.metrics["train_pflops"] = 2 * per_clip * history[-1].clips / 1e15
        if not self.backend.trains:  # a deployment runtime: the trained model evaluated through it
            self.validate_through_runtime(model, val_loader)
        elif history[-1].top1 is None:  # evaluated after the last epoch already when eval_every is set
            self.validate(model, val_loader)
        curve = [{"epoch": r.epoch, "loss": r.loss, "seconds": r.seconds, "pflops": 2 * per_clip * r.clips / 1e15,
                  "top1": r.top1} for r in history]
        self.detail["curve"] = curve
        if not self.backend.trains:  # the curve's evaluations ran in eager; the final top-1 through the runtime
            self.detail["curve_evaluated_in"] = "eager"
        evaluated = [r for r in history if r.top1 is not None]
        if evaluated:
            best = max(evaluated, key=lambda r: r.top1)
            self.metrics["best_top1"], self.metrics["best_epoch"] = best.top1, best.epoch
        if train.get("save_weights"):
            self.save_weights(model)

    def validate(self, model: torch.nn.Module, loader) -> float:
        """Top-1 (video-level under multi-view testing) of the model on the validation split, its figures
        into the run's metrics (the last evaluation's stay)."""
        if self.views > 1:  # multi-view testing: video-level beside clip-level
            views = evaluate_views(model, loader, self.data.num_classes, self.device, self.spec.precision)
            self.metrics.update(top1=views.video_top1, clip_top1=views.clip_top1)
            if views.video_top5 is not None:
                self.metrics["top5"] = views.video_top5
            self.detail.update(val_samples=views.samples, val_clips=views.clips)
            return views.video_top1
        acc = evaluate(model, loader, self.data.num_classes, self.device, self.spec.precision)
        self.metrics["top1"] = acc.top1
        if acc.top5 is not None:
            self.metrics["top5"] = acc.top5
        self.detail["val_samples"] = acc.samples
        return acc.top1

    def validate_through_runtime(self, model: torch.nn.Module, loader) -> None:
        """Convert the trained model, validate through the runtime, and take parity on the validation clips
        (eager and the runtime on every clip), replacing the parity on seeded clips."""
        model.eval()
        converted = self.backend.prepare(model, self.spec)
        self.metrics.update(converted.figures)
        check = ParityCheck(self.backend.reference(model, self.spec), converted)
        self.validate(check, loader)
        self.metrics.update(check.figures())
        self.detail["parity_clips"] = f"{sum(len(r) for r in check.references)} validation clips"

    def training_macs(self) -> int:
        """MACs of one training step per clip under the run's protocol (frozen parts need no gradients)."""
        s = self.spec
        if s.train.get("protocol", "full") == "full" and self.profile is not None:
            return self.profile.train_macs
        prepare = None if s.train.get("protocol", "full") == "full" else (
            lambda m: transfer_plan(m, s.model, s.train).train_mode(m))
        profile = profile_model(s.model, self.data.num_classes, s.resolved_model_args(), s.clip_length,
                                *s.resolution, top=0, prepare_train=prepare)
        return profile.train_macs

    def save_weights(self, model: torch.nn.Module) -> None:
        """`<run folder>/weights/<run_id>.pt`: the trained state dict, loadable by `weights:` in a suite."""
        if self.run_folder is None:
            raise RuntimeError("train.save_weights: this run has no run folder to write to")
        path = weights_path(self.run_folder, self.spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = getattr(model, "_orig_mod", model).state_dict()
        tmp = path.with_suffix(".tmp")
        torch.save({k: v.detach().cpu() for k, v in state.items()}, tmp)
        tmp.replace(path)  # whole or absent: a killed run leaves no half-written checkpoint
        self.detail["saved_weights"] = str(path)

    def data_record(self) -> None:
        """Unreadable videos passed over, and where the data came from (decoder, files), for real videos."""
        skipped = skipped_videos(self.data)
        if skipped is not None:
            self.metrics["skipped_videos"] = skipped
        detail = data_detail(self.data)
        if detail:
            self.detail["data"] = detail
