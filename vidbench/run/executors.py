"""Executors run specs in worker processes and hand back results; only the driver stores them."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

from vidbench.run.worker import worker_main
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

POLL_S = 0.1


class WorkerProcess:
    """A warm worker; replaced by a fresh one after it crashes or is killed."""

    def __init__(self, log_path: Path | None):
        self.log_path = log_path
        self.process: mp.Process | None = None
        self.conn = None

    def start(self) -> None:
        ctx = mp.get_context("spawn")  # no fork of a driver that may hold CUDA or threads
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child, str(self.log_path) if self.log_path else None),
                                   daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        if self.process is None:
            return
        if self.process.is_alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.join(5)
        self.conn.close()
        self.process = self.conn = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(None)
            self.process.join(5)
        except (BrokenPipeError, OSError):
            pass
        self.kill()

    def run(self, spec: RunSpec, plugins: list[str], timeout_s: float) -> RunResult:
        if self.process is None or not self.process.is_alive():
            if self.process is not None:
                self.kill()
            self.start()
        start = time.perf_counter()
        self.conn.send({"spec": spec.to_dict(), "plugins": plugins})
        while True:
            result = self._receive(POLL_S)
            if result is not None:
                return result
            elapsed = time.perf_counter() - start
            if not self.process.is_alive():
                result = self._receive(0)  # it may have answered just before exiting
                if result is not None:
                    return result
                code = self.process.exitcode
                self.kill()
                return _crashed(spec, code, elapsed)
            if elapsed > timeout_s:
                self.kill()
                return RunResult(spec.run_id, "timeout", f"run exceeded limits.timeout_s = {timeout_s:g} s",
                                 duration_s=round(elapsed, 3))

    def _receive(self, wait_s: float) -> RunResult | None:
        try:
            if self.conn.poll(wait_s):
                return RunResult(**self.conn.recv())
        except (EOFError, OSError):  # the pipe closed under us: the worker is dying
            time.sleep(POLL_S)
        return None


def _crashed(spec: RunSpec, exitcode: int | None, elapsed: float) -> RunResult:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exited with code {exitcode}"
    return RunResult(spec.run_id, "crashed", f"worker process {how}", detail={"exitcode": exitcode},
                     duration_s=round(elapsed, 3))


class LocalExecutor:
    """Runs specs one at a time in a warm worker process on this machine."""

    def __init__(self, plugins: list[str], timeout_s: float, log_path: Path | None = None):
        self.plugins = plugins
        self.timeout_s = timeout_s
        self.worker = WorkerProcess(log_path)

    def run(self, spec: RunSpec) -> RunResult:
        return self.worker.run(spec, self.plugins, self.timeout_s)

    def close(self) -> None:
        self.worker.stop()

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
