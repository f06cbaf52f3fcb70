"""The worker process: receives run specs over a pipe, executes each, sends the result back.

It stays warm between runs (torch and the models are imported once). It leads its own process group,
so the driver can kill it and anything it started on a timeout.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import asdict
from multiprocessing.connection import Connection


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when its driver dies (even by SIGKILL), so no orphan keeps
    computing a run nobody will store."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def worker_main(conn: Connection, log_path: str | None) -> None:
    os.setpgrp()
    _die_with_parent()
    if log_path:  # keep model prints and warnings out of the driver's output
        log = open(log_path, "a", buffering=1)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout = sys.stderr = log
    from vidbench.run.runner import execute
    from vidbench.suite.plugins import import_plugins
    from vidbench.suite.spec import RunSpec

    conn.send("ready")  # imports done: the driver starts the run's clock only now
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        import_plugins(message["plugins"])
        spec = RunSpec.from_dict(message["spec"])
        print(f"--- run {spec.run_id}: {spec.model} {spec.dataset} {spec.resolution_label}px "
              f"T={spec.clip_length} bs={spec.batch_size} {spec.device} {spec.precision}", flush=True)
        conn.send(asdict(execute(spec, message.get("run_folder"))))
