"""Executors run specs in worker processes and report events; only the driver stores results.

The local executor keeps one warm worker per device and runs the devices' queues in parallel, one run
per device at a time, so timings never share a device.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from vidbench.run.policy import FailureGuard, run_with_oom_retries
from vidbench.run.worker import worker_main
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

POLL_S = 0.1
STARTUP_TIMEOUT_S = 300  # importing torch and the models; not counted in a run's timeout
HELD = "held"  # a spare worker's output, until it is given a log


class WorkerStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class Event:
    """What an executor reports: a run started, a run ended (with its result), or a device stopped."""

    kind: str  # "start" | "phase" | "end" | "stopped"
    spec: RunSpec | None = None
    result: RunResult | None = None
    device: str | None = None
    text: str = ""  # a phase's: what the run is doing now (vidbench.run.phase)


class WorkerProcess:
    """A warm worker; replaced by a fresh one after it crashes or is killed."""

    def __init__(self, log_path: Path | None):
        self.log_path = log_path
        self.process: mp.Process | None = None
        self.conn = None
        self.ready = False  # its imports are done (it said so)
        self.logs_to: Path | None | str = None  # the log it writes to; HELD while a spare waits for one

    @classmethod
    def spare(cls) -> "WorkerProcess":
        """A worker started now, before its device and run folder are known (nothing is written for it):
        its imports run beside the driver's own preparation. An executor given it as `spare` hands it the
        first device it runs on, and its log."""
        worker = cls(None)
        worker.launch(held=True)
        return worker

    def launch(self, held: bool = False) -> None:
        """Start the process without waiting for its imports."""
        ctx = mp.get_context("spawn")  # no fork of a driver that may hold CUDA or threads
        self.conn, child = ctx.Pipe()
        # Not a daemon: a daemonic process may not start the DataLoader workers a video run needs. The
        # driver stops it explicitly; orphaned, it exits when its pipe closes.
        log = str(self.log_path) if self.log_path and not held else None
        self.process = ctx.Process(target=worker_main, args=(child, log, held), daemon=False)
        self.process.start()
        child.close()
        self.ready, self.logs_to = False, HELD if held else self.log_path

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def wait_ready(self) -> None:
        try:
            ready = self.conn.poll(STARTUP_TIMEOUT_S) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self.process.exitcode
            self.kill()
            raise WorkerStartError(f"the worker process did not start (exit code {code})")
        self.ready = True

    def kill(self) -> None:
        process, conn = self.process, self.conn
        if process is None:
            return
        self.process = self.conn = None
        if process.is_alive():
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the worker leads its group: its children go too
            except (ProcessLookupError, PermissionError):
                process.kill()
        process.join(5)
        conn.close()

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(None)
            self.process.join(5)
        except (BrokenPipeError, OSError):
            pass
        self.kill()

    def run(self, spec: RunSpec, plugins: list[str], timeout_s: float, run_folder: str | None = None,
            on_phase: Callable[[str], None] = lambda text: None) -> RunResult:
        try:
            if self.process is None or not self.process.is_alive():
                self.kill()
                self.start()
            elif not self.ready:  # launched early: its imports may still be running
                self.wait_ready()
        except WorkerStartError as e:
            return RunResult(spec.run_id, "crashed", str(e))
        if self.logs_to != self.log_path:  # a spare: its held output goes to the log it is given now
            self.conn.send({"log": str(self.log_path) if self.log_path else None})
            self.logs_to = self.log_path
        start = time.perf_counter()
        process = self.process
        self.conn.send({"spec": spec.to_dict(), "plugins": plugins, "run_folder": run_folder, "timeout_s": timeout_s})
        while True:
            result = self._receive(POLL_S, on_phase)
            if result is not None:
                return result
            elapsed = time.perf_counter() - start
            if self.process is None or not process.is_alive():
                result = self._receive(0)  # it may have answered just before exiting
                if result is not None:
                    return result
                code = process.exitcode
                self.kill()
                return _crashed(spec, code, elapsed)
            if elapsed > timeout_s:
                self.kill()
                return RunResult(spec.run_id, "timeout", f"run exceeded limits.timeout_s = {timeout_s:g} s",
                                 duration_s=round(elapsed, 3))

    def _receive(self, wait_s: float, on_phase: Callable[[str], None] = lambda text: None) -> RunResult | None:
        conn = self.conn
        if conn is None:
            return None
        try:
            if conn.poll(wait_s):
                message = conn.recv()
                if isinstance(message, dict) and "phase" in message:  # what the run is doing: its result is to come
                    on_phase(message["phase"])
                    return None
                return RunResult(**message)
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
    """Runs specs in warm worker processes on this machine: one worker (and one run at a time) per device."""

    def __init__(self, plugins: list[str], timeout_s: float, log_dir: Path | None = None, oom_retries: int = 0,
                 max_consecutive_failures: int | None = None, spare: WorkerProcess | None = None):
        self.plugins = plugins
        self.spare = spare  # a worker started early (WorkerProcess.spare): the first device to run takes it
        self.timeout_s = timeout_s
        self.log_dir = log_dir
        self.oom_retries = oom_retries
        self.max_consecutive_failures = max_consecutive_failures
        self._workers: dict[str, WorkerProcess] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _worker(self, device: str) -> WorkerProcess:
        with self._lock:  # lanes ask from their threads; one of them takes the spare
            if device not in self._workers:
                worker, self.spare = self.spare or WorkerProcess(None), None
                worker.log_path = self.log_dir / f"worker-{device.replace(':', '')}.log" if self.log_dir else None
                self._workers[device] = worker
            return self._workers[device]

    def _drop_spare(self) -> None:
        if self.spare is not None:
            self.spare.kill()
            self.spare = None

    def run(self, spec: RunSpec, on_phase: Callable[[str], None] = lambda text: None) -> RunResult:
        """One run, with the out-of-memory retries, in the device's worker."""
        worker = self._worker(spec.device)
        folder = str(self.log_dir) if self.log_dir else None  # the run folder: where saved weights go
        return run_with_oom_retries(lambda s: worker.run(s, self.plugins, self.timeout_s, folder, on_phase),
                                    worker.kill, spec, self.oom_retries)

    def _lane(self, device: str, specs: list[RunSpec], events: queue.Queue) -> None:
        guard = FailureGuard(self.max_consecutive_failures)
        try:
            for spec in specs:
                if self._stop.is_set():
                    return
                if guard.stopped(device):
                    events.put(Event("stopped", device=device))
                    return
                events.put(Event("start", spec))
                result = self.run(spec, lambda text, spec=spec: events.put(Event("phase", spec, text=text)))
                if self._stop.is_set():  # killed by an interrupt: not a result of the run
                    return
                guard.record(device, result.status)
                events.put(Event("end", spec, result))
        finally:
            events.put(Event("lane_done", device=device))

    def execute(self, specs: list[RunSpec]) -> Iterator[Event]:
        """Run every spec; yields events in the order they happen. Devices run in parallel."""
        lanes: dict[str, list[RunSpec]] = {}
        for spec in specs:
            lanes.setdefault(spec.device, []).append(spec)
        if not lanes:
            self._drop_spare()  # nothing to run: it would only compete for the CPU
        events: queue.Queue = queue.Queue()
        threads = [threading.Thread(target=self._lane, args=(d, s, events), daemon=True) for d, s in lanes.items()]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while running:
                try:
                    event = events.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
                except queue.Empty:
                    continue
                if event.kind == "lane_done":
                    running -= 1
                else:
                    yield event
        finally:
            if running:  # interrupted: stop the lanes and their workers
                self._stop.set()
                for worker in list(self._workers.values()):
                    worker.kill()
                for t in threads:
                    t.join(10)

    def close(self) -> None:
        self._drop_spare()
        for worker in self._workers.values():
            worker.stop()

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
