"""The decoder interface: exact frames by index (with seeking), backend choice, and unreadable files."""

from __future__ import annotations

import pytest
import torch

from tests.data.conftest import LEVEL_STEP, garbage, truncate, write_video
from vidbench.data.decode import backend_available, open_video, resolve_backend
from vidbench.data.errors import DecodeError

TOLERANCE = 4  # gray levels: limited-range YUV rounding and lossy coding of a flat frame


def levels(frames: torch.Tensor) -> list[float]:
    """Mean gray level of each decoded (T, C, H, W) frame."""
    return frames.float().mean((1, 2, 3)).tolist()


def assert_frames(frames: torch.Tensor, indices: list[int]) -> None:
    expected = [i * LEVEL_STEP for i in indices]
    got = levels(frames)
    assert all(abs(g - e) <= TOLERANCE for g, e in zip(got, expected)), (indices, got)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    base = tmp_path_factory.mktemp("decode")
    out = {}
    for ext in (".mp4", ".avi", ".mkv", ".webm"):
        for gop in (1, 4, 12):
            out[ext, gop] = write_video(base / f"v{gop}{ext}", frames=30, gop=gop)
    return out


@pytest.mark.parametrize("ext", [".mp4", ".avi", ".mkv", ".webm"])
@pytest.mark.parametrize("gop", [1, 4, 12])
def test_get_frames_returns_exactly_the_requested_frames(videos, ext, gop):
    with open_video(videos[ext, gop], "pyav") as reader:
        assert reader.backend == "pyav" and reader.num_frames == 30 and reader.fps == pytest.approx(10)
        for indices in ([0], [29], [13], [5, 6, 7, 8], [2, 9, 17, 25], [27, 3, 3, 14], [28, 29], list(range(30))):
            frames = reader.get_frames(indices)
            assert frames.shape == (len(indices), 3, 32, 48) and frames.dtype == torch.uint8
            assert_frames(frames, indices)


class CountingContainer:
    """Wraps an av container, counting the frames its decode() yields."""

    def __init__(self, container):
        self.container, self.decoded = container, 0

    def decode(self, *args, **kwargs):
        for frame in self.container.decode(*args, **kwargs):
            self.decoded += 1
            yield frame

    def __getattr__(self, name):
        return getattr(self.container, name)


@pytest.mark.parametrize("ext", [".mp4", ".mkv", ".avi"])
def test_seeking_decodes_from_the_keyframe_before_the_first_frame(videos, ext):
    with open_video(videos[ext, 4], "pyav") as reader:  # keyframes at 0, 4, 8, ..., 28
        reader._container = counting = CountingContainer(reader._container)
        frames = reader.get_frames([22, 25])
        reader._container = counting.container
    assert_frames(frames, [22, 25])
    assert counting.decoded <= 6 + 2, f"decoded {counting.decoded} frames: from keyframe 20 to 25, not from 0"


def test_indices_out_of_range_are_an_error(videos):
    with open_video(videos[".mp4", 4], "pyav") as reader:
        with pytest.raises(IndexError, match="30"):
            reader.get_frames([30])
        with pytest.raises(ValueError):
            reader.get_frames([])


def test_garbage_and_empty_files_cannot_be_opened(tmp_path):
    for path in (garbage(tmp_path / "noise.mp4"), tmp_path / "empty.avi"):
        path.touch()
        with pytest.raises(DecodeError) as info:
            open_video(path, "pyav")
        assert str(path) in str(info.value) and info.value.path == str(path)
        assert "cannot open" in info.value.reason


def test_a_truncated_video_fails_past_its_end_but_reads_before_it(tmp_path):
    path = truncate(write_video(tmp_path / "cut.mkv", frames=30), 0.5)
    with open_video(path, "pyav") as reader:
        assert reader.num_frames == 30  # what the header promises
        assert_frames(reader.get_frames([0, 1]), [0, 1])
        with pytest.raises(DecodeError, match="truncated"):
            reader.get_frames([29])


def test_a_truncated_mp4_or_avi_cannot_be_opened(tmp_path):
    for name in ("cut.mp4", "cut.avi"):
        path = truncate(write_video(tmp_path / name, frames=30), 0.5)
        with pytest.raises(DecodeError, match="cannot open"):
            open_video(path, "pyav")


def test_backend_resolution():
    assert resolve_backend("pyav") == "pyav"
    assert backend_available("pyav") is None
    expected = "torchcodec" if backend_available("torchcodec") is None else "pyav"
    assert resolve_backend("auto") == expected
    with pytest.raises(ValueError, match="unknown decoder"):
        resolve_backend("opencv")


@pytest.mark.skipif(backend_available("torchcodec") is None, reason="torchcodec loads here")
def test_torchcodec_that_does_not_load_is_reported():
    with pytest.raises(ValueError, match="torchcodec"):
        resolve_backend("torchcodec")


@pytest.mark.skipif(backend_available("torchcodec") is not None, reason="torchcodec does not load here")
@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_torchcodec_returns_the_same_frames(videos, ext):
    indices = [3, 17, 29, 4]
    with open_video(videos[ext, 4], "torchcodec") as reader:
        assert reader.backend == "torchcodec" and reader.num_frames == 30
        assert_frames(reader.get_frames(indices), indices)


def test_a_variable_frame_rate_gap_gives_the_next_frame(tmp_path):
    from fractions import Fraction

    import av
    import numpy as np

    path = tmp_path / "vfr.mkv"
    times = [0, 1, 2, 4, 5, 6, 7, 8, 9]  # frame 3 never shown: frame 2 stays on screen twice as long
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 10)
        for t in times:
            frame = av.VideoFrame.from_ndarray(np.full((32, 48, 3), t * LEVEL_STEP, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with open_video(path, "pyav") as reader:
        assert reader.num_frames == 10
        assert_frames(reader.get_frames([2, 3, 4, 9]), [2, 4, 4, 9])
