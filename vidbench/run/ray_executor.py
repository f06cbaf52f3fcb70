"""Scale a sweep out on a Ray cluster: each run is a Ray task holding its device's resources.

Inside the task the run still executes in its own worker process (a crash or a hang touches only that
run), with the same out-of-memory retries and timeout as the local executor. Results come back to the
driver, which alone writes the store. A run lost with its node (the node died, Ray's memory monitor killed
its worker, the node was preempted) is the infrastructure's failure, not the run's: it is submitted again to
a live node up to `limits.node_retries` times, each lost attempt recorded in its detail. Each result's
environment records the node that ran it (`ray_node`). Install with `pip install "vidbench[ray]"`.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from vidbench.run.executors import Event, WorkerProcess
from vidbench.run.policy import FailureGuard, run_with_oom_retries
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

WAIT_S = 0.5
CLUSTER_LOG = "ray-cluster.log"  # in the run folder: what the cluster said (nodes lost, workers killed)
# Ray's errors that say the task's node or its Ray worker went away, not that the run failed: the run
# itself executes in a child process whose crash comes back as an ordinary `crashed` result.
LOST_WITH_NODE = ("NodeDiedError", "WorkerCrashedError", "OutOfMemoryError", "LocalRayletDiedError",
                  "OwnerDiedError", "ObjectLostError")


def placement() -> dict:
    """The Ray node this task runs on and the resources it holds (called inside the task)."""
    import socket

    import ray

    ctx = ray.get_runtime_context()
    return {"node_id": ctx.get_node_id(), "hostname": socket.gethostname(),
            "ip": ray.util.get_node_ip_address(), "resources": ctx.get_assigned_resources()}


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
    result.env = {**result.env, "ray_node": placement()}
    return asdict(result)


def lost_with_node(error: BaseException) -> bool:
    return any(c.__name__ in LOST_WITH_NODE for c in type(error).__mro__)


@dataclass
class Submitted:
    """A run in flight on the cluster, with the attempts Ray lost before this one."""

    spec: RunSpec
    lost: list[dict] = field(default_factory=list)


class RayExecutor:
    def __init__(self, plugins: list[str], timeout_s: float, log_dir: Path | None = None, oom_retries: int = 0,
                 max_consecutive_failures: int | None = None, address: str | None = None,
                 init_kwargs: dict | None = None, node_retries: int = 2):
        from vidbench.errors import UsageError
        from vidbench.run.ray_connect import connect

        if importlib.util.find_spec("ray") is None:  # not imported yet: token mode is set before Ray reads it
            raise UsageError('--executor ray needs Ray: pip install "vidbench[ray]"')
        self.plugins, self.timeout_s, self.log_dir = plugins, timeout_s, log_dir
        self.oom_retries, self.max_consecutive_failures = oom_retries, max_consecutive_failures
        self.node_retries = node_retries
        self._owns_ray = "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
        if self._owns_ray:
            connect(address, init_kwargs, log_dir / CLUSTER_LOG if log_dir else None)
        import ray

        self.ray = ray
        self._task = ray.remote(max_retries=0)(run_in_task)

    def _resources(self, spec: RunSpec) -> dict:
        from vidbench.devices import is_cuda  # torch, which the driver has by now: not at import

        if is_cuda(spec.device):
            return {"num_gpus": 1, "num_cpus": 1}
        # A CPU run holds every CPU of the smallest node, so two CPU timings never share cores.
        cpus = [n["Resources"].get("CPU", 1) for n in self.ray.nodes() if n.get("Alive")]
        return {"num_cpus": min(cpus) if cpus else 1}

    def _submit(self, spec: RunSpec):
        return self._task.options(**self._resources(spec)).remote(
            spec.to_dict(), self.plugins, self.timeout_s, self.oom_retries,
            str(self.log_dir) if self.log_dir else None)

    def _outcome(self, ref, job: Submitted) -> RunResult | None:
        """The run's result; None when Ray lost it with its node and it was submitted again."""
        ray = self.ray
        try:
            result = RunResult(**ray.get(ref))
        except ray.exceptions.RayError as e:
            attempt = {"error": type(e).__name__, "message": str(e)[-1000:]}
            if lost_with_node(e) and len(job.lost) < self.node_retries:
                job.lost.append(attempt)
                return None
            result = RunResult(job.spec.run_id, "crashed", f"Ray task failed: {type(e).__name__}",
                               detail={"ray_error": str(e)[-2000:]})
            if lost_with_node(e):
                job.lost.append(attempt)
                result.error += f" (lost with its node {len(job.lost)} times; limits.node_retries = " \
                                f"{self.node_retries})"
        if job.lost:
            result.detail["ray_lost_attempts"] = job.lost
        return result

    def execute(self, specs: list[RunSpec]) -> Iterator[Event]:
        pending = {}
        for spec in specs:
            pending[self._submit(spec)] = Submitted(spec)
            yield Event("start", spec)
        guard = FailureGuard(self.max_consecutive_failures)
        try:
            while pending:
                done, _ = self.ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
                for ref in done:
                    job = pending.pop(ref)
                    result = self._outcome(ref, job)
                    if result is None:
                        pending[self._submit(job.spec)] = job
                        continue
                    guard.record(job.spec.device, result.status)
                    yield Event("end", job.spec, result)
                    if guard.stopped(job.spec.device):
                        self._cancel(pending, job.spec.device)
                        yield Event("stopped", device=job.spec.device)
        finally:
            for ref in pending:
                self.ray.cancel(ref, force=True)

    def _cancel(self, pending: dict, device: str) -> None:
        for ref, job in list(pending.items()):
            if job.spec.device == device:
                self.ray.cancel(ref, force=True)
                del pending[ref]

    def close(self) -> None:
        if self._owns_ray:
            self.ray.shutdown()

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
