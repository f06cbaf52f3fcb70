"""The system under test LoadGen drives: queries go on a queue, one worker thread batches them dynamically
(the first waiting sample, then up to `max_batch` within `max_wait_s`) and runs each batch through the run's
prepared model, then tells LoadGen the samples are complete. A model that raises is recorded and every later
sample is completed at once, so LoadGen ends its test (no hang) and the run fails with the model's error."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable


class BatchingSUT:
    """LoadGen's issue and flush callbacks around `run_batch(indices)` (the library's sample indices)."""

    def __init__(self, run_batch: Callable[[list[int]], Any], max_batch: int = 1, max_wait_s: float = 0.0):
        self.run_batch, self.max_batch, self.max_wait_s = run_batch, max(1, max_batch), max(0.0, max_wait_s)
        self.queue: collections.deque = collections.deque()
        self.ready = threading.Condition()
        self.error: BaseException | None = None
        self.batches: list[int] = []  # the size of each batch run (how the batching went)
        self._stopping = False
        self._worker: threading.Thread | None = None

    def configure(self, max_batch: int, max_wait_s: float) -> None:
        """The batching of the next test (SingleStream takes one sample and never waits; Server batches)."""
        self.max_batch, self.max_wait_s = max(1, max_batch), max(0.0, max_wait_s)
        self.batches = []

    def __enter__(self) -> "BatchingSUT":
        self._stopping = False
        self._worker = threading.Thread(target=self._serve, name="vidbench-sut", daemon=True)
        self._worker.start()
        return self

    def __exit__(self, *exc) -> None:
        with self.ready:
            self._stopping = True
            self.ready.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=60)

    # -- LoadGen's callbacks -------------------------------------------------------------------------
    def issue(self, samples) -> None:
        with self.ready:
            self.queue.extend(samples)
            self.ready.notify()

    def flush(self) -> None:
        """LoadGen's end-of-test flush: every queued sample is already on its way."""

    # -- the worker ----------------------------------------------------------------------------------
    def _next_batch(self) -> list | None:
        with self.ready:
            while not self.queue and not self._stopping:
                self.ready.wait()
            if not self.queue:
                return None
            batch = [self.queue.popleft()]
            deadline = time.perf_counter() + self.max_wait_s
            while len(batch) < self.max_batch:
                if self.queue:
                    batch.append(self.queue.popleft())
                    continue
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                self.ready.wait(left)
            return batch

    def _serve(self) -> None:
        import mlperf_loadgen as lg

        while (batch := self._next_batch()) is not None:
            if self.error is None:
                try:
                    self.run_batch([s.index for s in batch])
                    self.batches.append(len(batch))
                except BaseException as e:  # the model's failure ends the test early, never hangs it
                    self.error = e
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in batch])
