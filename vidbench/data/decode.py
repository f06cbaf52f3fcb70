"""One interface over the video decoders: PyAV (always there) and torchcodec (when it loads).

`open_video(path, backend)` returns a `VideoReader` whose `get_frames(indices)` returns exactly the
requested frames as a uint8 tensor (T, C, H, W), RGB, in the order asked (repeats allowed). Readers
seek to the frames they need instead of decoding whole videos. PyAV converts frames to planar RGB
and copies the planes straight into one (C, T, H, W) array, the model's layout, which `get_frames`
returns as a (T, C, H, W) view: `transforms.normalize` then converts it without transposing. Any
failure to open or decode becomes a `DecodeError` carrying the path and a one-line reason; a video that
ends before the frames its header promises ("truncated") is one.

Backends: `pyav`, `torchcodec`, or `auto` (torchcodec when it imports — it needs a system FFmpeg —
PyAV otherwise). `resolve_backend` says which one a name means here.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Sequence

import numpy as np
import torch

from vidbench.data.errors import DecodeError

BACKENDS = ("auto", "pyav", "torchcodec")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm")


@functools.lru_cache(maxsize=None)
def backend_available(backend: str) -> str | None:
    """None when `backend` can decode here, else why not."""
    try:
        if backend == "pyav":
            import av  # noqa: F401
        elif backend == "torchcodec":
            from torchcodec.decoders import VideoDecoder  # noqa: F401
        else:
            return f"unknown decoder {backend!r} (use one of {', '.join(BACKENDS)})"
    except Exception as e:  # torchcodec raises OSError/RuntimeError when the FFmpeg libraries are missing
        return f"{backend} does not load here ({_reason(e)})"
    return None


def resolve_backend(name: str = "auto") -> str:
    """The backend `name` means here: `auto` → torchcodec when it loads, else pyav.

    Raises ValueError for an unknown name or a backend that does not load.
    """
    if name == "auto":
        return "torchcodec" if backend_available("torchcodec") is None else "pyav"
    problem = backend_available(name)
    if problem:
        raise ValueError(problem)
    return name


class VideoReader:
    """An open video. Use as a context manager, or call close()."""

    backend: str = ""

    def __init__(self, path: str):
        self.path = str(path)
        self.num_frames = 0
        self.fps: float | None = None

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        """The frames at `indices` (0-based), as uint8 (len(indices), 3, H, W)."""
        if len(indices) == 0:
            raise ValueError("no frame indices requested")
        bad = [i for i in indices if not 0 <= i < self.num_frames]
        if bad:
            raise IndexError(f"frame {bad[0]} is out of range for {self.path} ({self.num_frames} frames)")
        wanted = sorted(set(int(i) for i in indices))
        frames = self._decode(wanted)
        if [int(i) for i in indices] == wanted:  # the usual case: no repeats, in order, nothing to copy
            return frames
        position = {index: k for k, index in enumerate(wanted)}
        return frames[torch.tensor([position[int(i)] for i in indices])]

    def _decode(self, wanted: list[int]) -> torch.Tensor:
        """The frames at `wanted` (sorted, unique), as uint8 (len(wanted), 3, H, W) in that order."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _truncation_tolerance(num_frames: int) -> int:
    # Frame counts from a container's duration (mkv, webm) or an mp4 edit list can be a frame or two off.
    return max(2, num_frames // 50)


def _check_tail(wanted: list[int], done: int, num_frames: int, path: str, last: int | None) -> None:
    """The decoder produced wanted[:done] and the stream ended at frame `last` (None: no frame at all).
    The last frame may stand in for a frame or two lost at the end (header counts can be that far off);
    more missing, or a gap before the end, is a DecodeError."""
    if done == len(wanted):
        return
    missing = wanted[done]
    if last is None:
        raise DecodeError(f"no frame could be decoded (asked for frame {missing} of {num_frames})", path)
    if missing < last or num_frames - 1 - last > _truncation_tolerance(num_frames):
        raise DecodeError(f"truncated: frame {missing} of {num_frames} could not be decoded "
                          f"(the stream ends at frame {last})", path)


class PyAVReader(VideoReader):
    """PyAV: seek to the keyframe before the first needed frame, decode forward to the last one."""

    backend = "pyav"

    def __init__(self, path: str):
        super().__init__(path)
        import av

        self._av = av
        try:
            self._container = av.open(self.path)
        except Exception as e:  # av.error.FFmpegError, OSError, UnicodeDecodeError in metadata ...
            raise DecodeError(f"cannot open: {_reason(e)}", self.path) from None
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        streams = self._container.streams.video
        if not streams:
            raise DecodeError("no video stream", self.path)
        stream = self._stream = streams[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate or stream.time_base is None:
            raise DecodeError("unknown frame rate", self.path)
        self._rate, self._time_base = Fraction(rate), Fraction(stream.time_base)
        self._start = stream.start_time or 0
        scale = self._time_base * self._rate  # frames per tick, kept as integers: _index runs once a frame
        self._ticks_num, self._ticks_den = scale.numerator, scale.denominator
        self.fps = float(self._rate)
        if stream.frames and stream.frames > 0:
            n = stream.frames
        elif stream.duration:
            n = round(stream.duration * self._time_base * self._rate)
        elif self._container.duration:
            n = round(Fraction(self._container.duration, 1_000_000) * self._rate)
        else:
            n = self._count_packets()
        if n <= 0:
            raise DecodeError("no frames", self.path)
        self.num_frames = int(n)

    def _count_packets(self) -> int:
        try:
            count = sum(1 for p in self._container.demux(self._stream) if p.size)
            self._container.seek(0)
        except Exception as e:
            raise DecodeError(f"cannot read: {_reason(e)}", self.path) from None
        return count

    def _index(self, pts: int) -> int:
        """round((pts - start) × time_base × rate), half to even as round(Fraction), in integers."""
        q, r = divmod((pts - self._start) * self._ticks_num, self._ticks_den)
        return q + (2 * r > self._ticks_den or (2 * r == self._ticks_den and q % 2 == 1))

    def _pts(self, index: int) -> int:
        return self._start + math.floor(index / (self._rate * self._time_base))

    def _decode_from(self, first: int, wanted: list[int], seek: bool) -> tuple[np.ndarray | None, int, int | None,
                                                                              tuple[int, Planes] | None]:
        """Decode forward (after seeking to the keyframe before `first` when `seek`) until every wanted
        index has its frame: frame index = presentation time × frame rate, and index i gets the first
        frame whose rounded index is ≥ i — exactly frame i at a constant frame rate, the next frame
        shown over a gap of a variable one.

        Each frame is copied into its place in one (3, len(wanted), H, W) array as soon as it is converted
        to RGB (while it is in cache, and its buffer is reused for the next). Returns that array (None if
        no wanted frame came), how many of `wanted` it holds (a prefix), the index of the first frame
        decoded, and (index, frame) of the last frame of a stream that ended before the last wanted
        index (else None).
        """
        container, stream = self._container, self._stream
        if seek:
            container.seek(self._pts(first), stream=stream, backward=True, any_frame=False)
        else:
            container.seek(0)
        out, done = None, 0  # wanted[:done] are in out
        first_seen = index = frame = rgb = rgb_index = None
        try:
            for frame in container.decode(stream):
                index = self._index(frame.pts) if frame.pts is not None else (index + 1 if index is not None else 0)
                if first_seen is None:
                    first_seen = index
                    if seek and index > first:  # the seek landed past the frame: start over from the top
                        return out, done, first_seen, None
                if wanted[done] <= index:
                    rgb, rgb_index = _rgb(frame), index
                    if out is None:
                        out = np.empty((3, len(wanted), *rgb[0].shape), np.uint8)
                    while done < len(wanted) and wanted[done] <= index:
                        _put(out, done, rgb)
                        done += 1
                    if done == len(wanted):
                        break
        except self._av.error.FFmpegError as e:
            if done < len(wanted):
                raise DecodeError(f"decoding failed near frame {index if index is not None else first}: "
                                  f"{_reason(e)}", self.path) from None
        if index is None or done == len(wanted):
            return out, done, first_seen, None
        # The stream ended before the last wanted frame: remember the frame it ended on.
        return out, done, first_seen, (index, rgb if rgb_index == index else _rgb(frame))

    def _decode(self, wanted: list[int]) -> torch.Tensor:
        first = wanted[0]
        result = None
        if first > 0:
            try:
                result = self._decode_from(first, wanted, seek=True)
            except self._av.error.FFmpegError:
                result = None  # the seek failed: decode from the top instead
            if result is not None and (result[2] is None or result[2] > first):
                result = None  # it found no frame, or landed past the first one
        if result is None:
            try:
                result = self._decode_from(first, wanted, seek=False)
            except self._av.error.FFmpegError as e:
                raise DecodeError(f"cannot decode: {_reason(e)}", self.path) from None
        out, done, _, end = result
        _check_tail(wanted, done, self.num_frames, self.path, None if end is None else end[0])
        if done < len(wanted):  # the last frame stands in for the missing ones
            if out is None:
                out = np.empty((3, len(wanted), *end[1][0].shape), np.uint8)
            _put(out, slice(done, None), end[1])
        return torch.from_numpy(out).permute(1, 0, 2, 3)  # (T, C, H, W), a view of the (C, T, H, W) array

    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None


class TorchCodecReader(VideoReader):
    """torchcodec's VideoDecoder (exact seek mode), frames fetched by index in one call."""

    backend = "torchcodec"

    def __init__(self, path: str):
        super().__init__(path)
        from torchcodec.decoders import VideoDecoder

        try:
            try:
                self._decoder = VideoDecoder(self.path, dimension_order="NCHW", seek_mode="exact")
            except TypeError:  # torchcodec < 0.2 has no seek_mode (it is always exact)
                self._decoder = VideoDecoder(self.path, dimension_order="NCHW")
            meta = self._decoder.metadata
            n = meta.num_frames
            self.fps = float(meta.average_fps) if meta.average_fps else None
        except Exception as e:
            raise DecodeError(f"cannot open: {_reason(e)}", self.path) from None
        if not n:
            raise DecodeError("no frames", self.path)
        self.num_frames = int(n)

    def _decode(self, wanted: list[int]) -> torch.Tensor:
        try:
            return self._decoder.get_frames_at(indices=wanted).data
        except Exception as e:
            # Frames past a truncated end: fetch what can be fetched, one by one, then apply the tail rule.
            frames = []
            for i in wanted:
                try:
                    frames.append(self._decoder.get_frame_at(i).data)
                except Exception:
                    break
            if not frames:
                raise DecodeError(f"cannot decode: {_reason(e)}", self.path) from None
        _check_tail(wanted, len(frames), self.num_frames, self.path, wanted[len(frames) - 1])
        return torch.stack(frames + frames[-1:] * (len(wanted) - len(frames)))

    def close(self) -> None:
        self._decoder = None


_READERS = {"pyav": PyAVReader, "torchcodec": TorchCodecReader}


def open_video(path, backend: str = "auto") -> VideoReader:
    """Open `path` with `backend` (`auto`, `pyav` or `torchcodec`); raises DecodeError when it cannot."""
    return _READERS[resolve_backend(backend)](str(path))


Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def _rgb(frame) -> Planes:
    """The frame's R, G and B planes, (H, W) each: views of the frame converted to planar RGB (gbrp)."""
    g, b, r = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
               for p in frame.reformat(format="gbrp").planes)
    return r, g, b


def _put(out: np.ndarray, frames: int | slice, rgb: Planes) -> None:
    """Copy the planes into frame(s) `frames` of the (C, T, H, W) array `out`."""
    for channel, plane in zip(out, rgb):
        channel[frames] = plane


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
