"""Scale a sweep out on a Ray cluster: each run is a Ray task holding its device's resources.

Inside the task the run still executes in its own worker process (a crash or a hang touches only that
run), with the same out-of-memory retries and timeout as the local executor. Results come back to the
driver, which alone writes the store. Install with `pip install "vidbench[ray]"`.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from vidbench.errors import UsageError
from vidbench.run.executors import Event, WorkerProcess
from vidbench.run.policy import FailureGuard, run_with_oom_retries
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

WAIT_S = 0.5


def run_in_task(spec_dict: dict, plugins: list[str], timeout_s: float, oom_retries: int, log_dir: str | None) -> dict:
    """The body of one Ray task: one run in a fresh worker process on whichever node Ray chose."""
    spec = RunSpec.from_dict(spec_dict)
    log = Path(log_dir) / f"worker-ray-{spec.run_id}.log" if log_dir and Path(log_dir).is_dir() else None
    worker = WorkerProcess(log)
    try:
        result = run_with_oom_retries(lambda s: worker.run(s, plugins, timeout_s, log_dir), worker.kill, spec,
                                      oom_retries)
    finally:
        worker.stop()
    return asdict(result)


class RayExecutor:
    def __init__(self, plugins: list[str], timeout_s: float, log_dir: Path | None = None, oom_retries: int = 0,
                 max_consecutive_failures: int | None = None, address: str | None = None,
                 init_kwargs: dict | None = None):
        try:
            import ray
        except ImportError:
            raise UsageError('--executor ray needs Ray: pip install "vidbench[ray]"') from None
        self.ray = ray
        self.plugins, self.timeout_s, self.log_dir = plugins, timeout_s, log_dir
        self.oom_retries, self.max_consecutive_failures = oom_retries, max_consecutive_failures
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False, **(init_kwargs or {}))
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UsageError(f"cannot connect to the Ray cluster {address or '(local)'}: {e}") from None
        self._task = ray.remote(max_retries=0)(run_in_task)

    def _resources(self, spec: RunSpec) -> dict:
        from vidbench.devices import is_cuda  # torch, which the driver has by now: not at import

        if is_cuda(spec.device):
            return {"num_gpus": 1, "num_cpus": 1}
        # A CPU run holds every CPU of the smallest node, so two CPU timings never share cores.
        cpus = [n["Resources"].get("CPU", 1) for n in self.ray.nodes() if n.get("Alive")]
        return {"num_cpus": min(cpus) if cpus else 1}

    def execute(self, specs: list[RunSpec]) -> Iterator[Event]:
        ray = self.ray
        pending = {}
        for spec in specs:
            ref = self._task.options(**self._resources(spec)).remote(
                spec.to_dict(), self.plugins, self.timeout_s, self.oom_retries,
                str(self.log_dir) if self.log_dir else None)
            pending[ref] = spec
            yield Event("start", spec)
        guard = FailureGuard(self.max_consecutive_failures)
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
                for ref in done:
                    spec = pending.pop(ref)
                    try:
                        result = RunResult(**ray.get(ref))
                    except ray.exceptions.RayError as e:  # the task's process or node died
                        result = RunResult(spec.run_id, "crashed", f"Ray task failed: {type(e).__name__}",
                                           detail={"ray_error": str(e)[-2000:]})
                    guard.record(spec.device, result.status)
                    yield Event("end", spec, result)
                    if guard.stopped(spec.device):
                        for other_ref, other in list(pending.items()):
                            if other.device == spec.device:
                                ray.cancel(other_ref, force=True)
                                del pending[other_ref]
                        yield Event("stopped", device=spec.device)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._owns_ray:
            self.ray.shutdown()

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
