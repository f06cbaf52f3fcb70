"""Synthetic run folders of full-size models with a per-video cost, as suites with `protocol: published`
store them: views, GMACs per video, latency per video and videos/s, beside a measured top-1 that is
deliberately unlike any published figure (so a test can tell the two apart)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_spec
from vidbench.store import STORE_NAME, ResultStore, RunResult

# model → (family, arch, GMACs of one view at its input)
MODELS = {"x3d_m": ("cnn", "x3d", 6.2), "r3d_18": ("cnn", "r3d", 40.7), "videomae_vit_b": ("transformer", "videomae",
                                                                                           180.0)}
# (model, frames, side, clips, crops): x3d_m twice, once at its published protocol and once at one view
RUNS = (("x3d_m", 16, 256, 10, 3), ("x3d_m", 16, 224, 1, 1), ("r3d_18", 16, 112, 5, 1),
        ("videomae_vit_b", 16, 224, 5, 3))
# Each model's published frame stride (X3D-M 16x5, VideoMAE sampling_rate 4; r3d_18's is not stated: 1), so the
# runs at the published views and input are at its whole protocol, as `protocol: published` runs them.
STRIDES = {"x3d_m": 5, "videomae_vit_b": 4}
DEVICE_GMACS_PER_S = {"cpu": 200.0, "cuda": 40_000.0}
MEASURED_TOP1 = 3.21  # what these runs' own (tiny) training reached: never a published figure


def write_full_size(folder: Path, runs=RUNS, devices=("cuda",), tiny: bool = False) -> list[str]:
    """Ok runs of each (model, frames, side, clips, crops) on each device; with `tiny`, a tsn_tiny run with a
    per-video cost too (it has no published result). Returns the run ids."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "full-size")
        for device in devices:
            for model, frames, side, clips, crops in (*runs, *((("tsn_tiny", 8, 112, 1, 1),) if tiny else ())):
                family, arch, gmacs = MODELS.get(model, ("cnn", "tsn", 1.0))
                gmacs *= frames / 16 * (side / 224) ** 2 if model != "r3d_18" else 1.0
                views = clips * crops
                spec = make_spec(model, family=family, arch=arch,
                                 dataset_args={"test_clips": clips, "test_crops": crops}, resolution=(side, side),
                                 clip_length=frames, frame_stride=STRIDES.get(model, 1), batch_size=views, device=device, metrics=("params", "flops", "latency", "throughput", "accuracy"))
                video_s = gmacs * views / DEVICE_GMACS_PER_S[device]
                metrics = {"params": 1_000_000, "gmacs": gmacs, "latency_ms_p50": video_s * 1e3,
                           "throughput_clips_s": views / video_s, "top1": MEASURED_TOP1, "views": views,
                           "gmacs_per_video": gmacs * views, "latency_ms_per_video": video_s * 1e3,
                           "videos_s": 1 / video_s}
                store.write(spec, RunResult(spec.run_id, "ok", metrics=metrics, env={"torch": "2.x"}), "full-size")
                ids.append(spec.run_id)
    return ids
