"""`vidbench data check ROOT`: find the video files under a folder that cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from vidbench.data.decode import open_video
from vidbench.data.errors import DecodeError
from vidbench.data.index import find_videos
from vidbench.errors import require_folder


def probe_video(path: str | Path, decoder: str = "pyav") -> str | None:
    """Why `path` is unreadable — it cannot be opened, or its first or last frame cannot be decoded —
    or None when it reads."""
    try:
        with open_video(path, decoder) as reader:
            reader.get_frames([0])
            reader.get_frames([reader.num_frames - 1])
    except DecodeError as e:
        return e.reason
    return None


def check_videos(root: str | Path, decoder: str = "pyav",
                 progress: Callable[[int, int, Path], None] | None = None) -> list[tuple[str, str]]:
    """(path, reason) of every unreadable video file (.mp4, .avi, .mkv, .webm) under `root`, sorted by
    path; empty when all read. `progress(done, total, path)` is called after each file.

    Raises UsageError when root is not a folder.
    """
    folder = require_folder(root)
    videos = find_videos(folder)
    bad = []
    for done, path in enumerate(videos, 1):
        reason = probe_video(path, decoder)
        if reason is not None:
            bad.append((str(path), reason))
        if progress is not None:
            progress(done, len(videos), path)
    return bad
