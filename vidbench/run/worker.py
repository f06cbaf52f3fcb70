"""The worker process: receives run specs over a pipe, executes each, sends the result back.

It stays warm between runs (torch and the models are imported once). It leads its own process group,
so the driver can kill it and anything it started on a timeout. A spare worker, started before the driver
knows its device or run folder, holds its output in an unnamed file until it is told its log.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import tempfile
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import IO


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its driver dies (even by SIGKILL), so no orphan keeps
    computing a run nobody will store."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class Output:
    """Where the worker's stdout and stderr go (model prints and warnings stay out of the driver's output):
    its log, the driver's own streams (no log), or, held, an unnamed file until `to` gives it a place."""

    def __init__(self, log_path: str | None, held: bool = False):
        self.inherited = (os.dup(1), os.dup(2)) if held else None
        self.held: IO[str] | None = None
        if held:
            fd, name = tempfile.mkstemp(prefix="vidbench-worker-", suffix=".log")
            os.close(fd)
            self.held = open(name, "a+", buffering=1)  # appending: C and Python writes never overwrite
            os.unlink(name)
            self._point(self.held)
        elif log_path:
            self._point(open(log_path, "a", buffering=1))

    @staticmethod
    def _point(stream: IO[str]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
        sys.stdout = sys.stderr = stream

    def to(self, log_path: str | None) -> None:
        """Held output goes to the log (None: to the driver's streams), what was held first."""
        if self.held is None:
            return
        held, self.held = self.held, None
        held.flush()
        held.seek(0)
        text = held.read()
        if log_path:
            self._point(open(log_path, "a", buffering=1))
        else:
            os.dup2(self.inherited[0], 1)
            os.dup2(self.inherited[1], 2)
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        held.close()
        sys.stdout.write(text)
        sys.stdout.flush()


def worker_main(conn: Connection, log_path: str | None, held: bool = False) -> None:
    os.setpgrp()
    _die_with_parent()
    output = Output(log_path, held)
    import torch._dynamo  # noqa: F401  (every run counts its MACs, whose meta-device pass imports it: ~1 s)
    from vidbench.run.runner import execute
    from vidbench.suite.plugins import import_plugins
    from vidbench.suite.spec import RunSpec

    from vidbench import phase

    phase.listen(lambda text: conn.send({"phase": text}))  # what the run is doing, for the driver's progress
    conn.send("ready")  # imports done: the driver starts the run's clock only now
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:  # stopped: the exit's last garbage collection leaves out what torch holds (see
            gc.freeze()  # vidbench.cli.main): the driver waits ~0.5 s less for this process to end
            return
        if "log" in message:
            output.to(message["log"])
            continue
        import_plugins(message["plugins"])
        spec = RunSpec.from_dict(message["spec"])
        print(f"--- run {spec.run_id}: {spec.model} {spec.dataset} {spec.resolution_label}px "
              f"T={spec.clip_length} bs={spec.batch_size} {spec.device} {spec.precision}", flush=True)
        conn.send(asdict(execute(spec, message.get("run_folder"), message.get("timeout_s"))))
