"""One sweep per run folder at a time: an advisory lock on `<folder>/.vidbench.lock`.

The OS releases a flock when its holder dies, so a sweep killed with SIGKILL never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from vidbench.errors import UsageError

LOCK_NAME = ".vidbench.lock"


class FolderLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> "FolderLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise UsageError(f"{self.path.parent} is in use by another vidbench run (pid {holder}); "
                             "wait for it or use another --output") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
