"""Target 6: the input pipeline.

The `video-folder` dataset's validation split through `vidbench.data.loader.measure_data_throughput`
(the DataLoader `make_loader` builds: decode with PyAV, sample the centred clip, crop, normalise,
collate) against a bare PyAV loop over the same files that opens each video, seeks to the same first
frame and decodes the same 16 frames to RGB arrays, nothing more. Target: the loader at
`num_workers=0` reaches at least 0.8x the bare loop's clips/s (the transforms' and the DataLoader's
cost fit in 20%), and it scales with `num_workers`.

The videos are H.264, 128x170 (the short side 128 of the usual 128x171 preprocessing of Kinetics/UCF,
so the 112 crop needs no resize, as in training on such a copy), 48 frames at 25 fps with a keyframe
every 16 frames, so the centred 16-frame clip starts on a keyframe for both sides.

Rounds interleave the bare loop, the loader without workers and with workers (5 rounds, 10 when
benchmarks are enabled). The bare loop and the loader without workers are compared on process CPU time
(wall clock on a shared 2-core machine moved single rounds between 0.2x and 1.2x); the ratio is the
median of per-round ratios. Below 0.45x is a hard failure (a regression whatever the noise, e.g.
decoding whole videos instead of seeking); under the 0.8x target a failure when benchmarks are
enabled (10 rounds), an xfail that reports the figure otherwise (5 rounds on a shared machine are too
few to fail on). On this machine the loader sits at ~0.85-0.87x (per clip: the bare loop ~15-16 ms of
CPU, the loader ~2 ms more: planar RGB copied straight into the clip array, one converting copy and
two in-place passes to normalise into the batch tensor, no collate copy). Scaling (wall clock, workers
against no workers) is asserted only when benchmarks are enabled and there are at least 2 cores;
recorded always.

Both tests are `heavy` (writing the videos and the interleaved rounds take ~17 s): they run with benchmarks
enabled or `-m slow`; the default run's fast tests of the same loader are in tests/data.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks.helpers import interleave, median, stopwatch
from vidbench.data import create_dataset
from vidbench.data.loader import available_cores, measure_data_throughput

av = pytest.importorskip("av")

H, W, FRAMES, FPS, GOP, CLIP = 128, 170, 48, 25, 16, 16
CLASSES, PER_CLASS, BATCH = 3, 8, 4
TARGET_RATIO = 0.8
FLOOR_RATIO = 0.45  # below this the loader has regressed (e.g. decoding whole videos): a hard failure
SCALING_TARGET = 1.2  # clips/s with one worker per core over clips/s without workers


def write_video(path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = GOP
        if stream.codec_context.name == "libx264":
            stream.options = {"preset": "veryfast", "crf": "23", "keyint": str(GOP), "min-keyint": str(GOP),
                              "scenecut": "0", "bframes": "0"}
        base = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        for i in range(FRAMES):  # a textured frame panning right: real work for the decoder
            frame = av.VideoFrame.from_ndarray(np.roll(base, 3 * i, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="module")
def video_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for c in range(CLASSES):
        for k in range(PER_CLASS):
            write_video(root / "val" / f"class{c}" / f"v{k}.mp4", seed=100 * c + k)
        write_video(root / "train" / f"class{c}" / "t0.mp4", seed=100 * c + 99)
    splits = create_dataset("video-folder", clip_length=CLIP, resolution=(112, 112), frame_stride=1, seed=0,
                            root=str(root), decoder="pyav")
    val = splits.val
    assert len(val) == CLASSES * PER_CLASS and val.decoder_backend == "pyav"
    return val


def bare_pyav(paths: list[str], start: int) -> None:
    """Open, seek, decode CLIP frames to RGB: the least any PyAV pipeline does per clip."""
    for path in paths:
        with av.open(path) as container:
            stream = container.streams.video[0]
            container.seek(int(start / FPS / stream.time_base), stream=stream, backward=True, any_frame=False)
            got = 0
            for frame in container.decode(stream):
                if round(frame.pts * stream.time_base * FPS) < start:
                    continue
                frame.to_ndarray(format="rgb24")
                got += 1
                if got == CLIP:
                    break
            assert got == CLIP


@pytest.fixture(scope="module")
def pipeline(video_split, bench_enabled):
    """Interleaved rounds of (bare loop, loader without workers, loader with a worker per core), in clips/s.

    The bare loop and the loader without workers both run in this process: they are compared on process
    CPU time (all threads, FFmpeg's included), which the machine's other tenants do not inflate; wall-clock
    figures are kept beside. The loader with workers is wall-clock only (its work is in the workers)."""
    paths = [p for p, _ in video_split.videos]
    start = (FRAMES - CLIP) // 2  # the validation sampler's centred clip
    assert video_split.sampler(FRAMES)[0][0] == start
    workers = max(2, min(available_cores(), 4))
    batches = len(paths) // BATCH
    clips = batches * BATCH
    rounds = 10 if bench_enabled else 5

    def bare():
        with stopwatch() as t:
            bare_pyav(paths, start)
        return {"cpu": len(paths) / t["cpu"], "wall": len(paths) / t["wall"]}

    def loader0():
        with stopwatch() as t:  # no workers to start: nothing to warm up but the loader object itself
            wall = measure_data_throughput(video_split, BATCH, 0, batches=batches, warmup=0)
        return {"cpu": clips / t["cpu"], "wall": wall}

    def loaderN():
        return {"wall": measure_data_throughput(video_split, BATCH, workers, batches=batches, warmup=1)}

    b, zero, many = interleave(rounds, bare, loader0, loaderN)
    return {"rounds": rounds, "workers": workers, "batches": batches, "bare": b, "loader0": zero, "loaderN": many}


def col(rows: list[dict], key: str) -> list[float]:
    return [r[key] for r in rows]


@pytest.mark.heavy
def test_video_folder_loader_keeps_up_with_bare_pyav(benchmark, figures, bench_enabled, pipeline, video_split):
    bare, zero = pipeline["bare"], pipeline["loader0"]
    ratios = [lo["cpu"] / b["cpu"] for lo, b in zip(zero, bare)]
    ratio = median(ratios)
    figures(benchmark, videos=len(video_split), clip=f"{CLIP}x112x112 from {H}x{W}", rounds=pipeline["rounds"],
            bare_pyav_cpu_clips_s=median(col(bare, "cpu")), loader_workers0_cpu_clips_s=median(col(zero, "cpu")),
            bare_pyav_wall_clips_s=median(col(bare, "wall")), loader_workers0_wall_clips_s=median(col(zero, "wall")),
            ratio_cpu=ratio, ratios_cpu=[round(r, 3) for r in ratios],
            ratio_wall=median(z["wall"] / b["wall"] for z, b in zip(zero, bare)),
            target=f">= {TARGET_RATIO}x", floor=f">= {FLOOR_RATIO}x")
    benchmark.pedantic(measure_data_throughput, args=(video_split, BATCH, 0),
                       kwargs={"batches": pipeline["batches"], "warmup": 0}, rounds=3 if bench_enabled else 1)
    message = (f"loader {median(col(zero, 'cpu')):.1f} clips/s vs bare PyAV {median(col(bare, 'cpu')):.1f} clips/s "
               f"of CPU time: {ratio:.2f}x")
    assert ratio >= FLOOR_RATIO, message
    if bench_enabled:
        assert ratio >= TARGET_RATIO, message
    elif ratio < TARGET_RATIO:
        pytest.xfail(f"below the {TARGET_RATIO}x target in a short run (asserted with --benchmark-only): {message}")


@pytest.mark.heavy
def test_video_folder_loader_scales_with_workers(benchmark, figures, bench_enabled, pipeline, video_split):
    workers = pipeline["workers"]
    scaling = [n["wall"] / z["wall"] for n, z in zip(pipeline["loaderN"], pipeline["loader0"])]
    cores = available_cores()
    figures(benchmark, cores=cores, workers=workers, loader_workers0_clips_s=median(col(pipeline["loader0"], "wall")),
            loader_workersN_clips_s=median(col(pipeline["loaderN"], "wall")), scaling=median(scaling),
            scalings=[round(s, 3) for s in scaling], target=f">= {SCALING_TARGET}x with {workers} workers")
    benchmark.pedantic(measure_data_throughput, args=(video_split, BATCH, workers),
                       kwargs={"batches": pipeline["batches"], "warmup": 1}, rounds=3 if bench_enabled else 1)
    if not bench_enabled or cores < 2:
        pytest.skip(f"scaling recorded ({median(scaling):.2f}x with {workers} workers on {cores} cores); "
                    "asserted only with benchmarks enabled and 2+ cores")
    assert median(scaling) >= SCALING_TARGET
