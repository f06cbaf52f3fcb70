"""Finding the Ray token where Ray documents it, and the executor's handling of runs Ray lost with a node
(without a cluster: tests/run/test_ray_cluster.py runs the real one)."""

from __future__ import annotations

import pytest

from vidbench.errors import UsageError
from vidbench.run import ray_connect
from vidbench.run.ray_connect import enable_token_auth, split_address, token_source


def test_the_token_is_found_in_rays_order_env_then_path_then_home(tmp_path):
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    assert token_source({}, home) is None
    (home / ".ray" / "auth_token").write_text("t")
    assert token_source({}, home) == str(home / ".ray" / "auth_token")
    token_file = tmp_path / "tok"
    token_file.write_text("t")
    assert token_source({"RAY_AUTH_TOKEN_PATH": str(token_file)}, home).startswith("RAY_AUTH_TOKEN_PATH")
    assert token_source({"RAY_AUTH_TOKEN": "x", "RAY_AUTH_TOKEN_PATH": str(token_file)}, home) == "RAY_AUTH_TOKEN"
    with pytest.raises(UsageError, match="RAY_AUTH_TOKEN_PATH=.*names no file"):
        token_source({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "missing")}, home)


def test_token_mode_is_switched_on_only_when_a_token_exists_and_the_mode_is_unset(tmp_path):
    env = {"RAY_AUTH_TOKEN": "secret"}
    assert enable_token_auth(env, tmp_path) == "RAY_AUTH_TOKEN" and env["RAY_AUTH_MODE"] == "token"
    none = {}
    assert enable_token_auth(none, tmp_path) is None and "RAY_AUTH_MODE" not in none
    disabled = {"RAY_AUTH_TOKEN": "secret", "RAY_AUTH_MODE": "disabled"}  # the user's explicit choice stands
    assert enable_token_auth(disabled, tmp_path) is None and disabled["RAY_AUTH_MODE"] == "disabled"


def test_addresses_are_split_and_a_malformed_port_is_one_line():
    assert split_address("10.0.0.1:6379") == ("10.0.0.1", 6379)
    assert split_address("auto") is None and split_address("ray://head:10001") is None
    with pytest.raises(UsageError, match="not host:port"):
        split_address("head:http")


def test_a_closed_port_is_refused_at_once_naming_the_address():
    from tests.run.ray_cluster import free_ports

    address = f"127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(UsageError, match=f"cannot reach the Ray cluster at {address}"):
        ray_connect.check_reachable(address)


class FakeRay:
    """ray.get raising the queued errors in turn, then returning the run's result."""

    def __init__(self, errors, result):
        import ray

        self.exceptions, self.errors, self.result = ray.exceptions, list(errors), result

    def get(self, ref):
        if self.errors:
            raise self.errors.pop(0)
        return self.result


def executor_with(fake, retries: int):
    from vidbench.run.ray_executor import RayExecutor

    ex = RayExecutor.__new__(RayExecutor)  # no cluster: only the result handling is under test
    ex.ray, ex.node_retries = fake, retries
    return ex


def lost_error(name: str):
    import ray

    return type(name, (ray.exceptions.RayError,), {})(f"{name}: the node with node id 1a2b went away")


def test_a_run_lost_with_its_node_is_resubmitted_and_its_attempts_recorded():
    pytest.importorskip("ray")
    from vidbench.run.ray_executor import Submitted, lost_with_node
    from vidbench.store.record import RunResult

    ok = RunResult("r1", "ok").__dict__
    ex = executor_with(FakeRay([lost_error("NodeDiedError"), lost_error("OutOfMemoryError")], ok), retries=2)
    job = Submitted(spec=None)
    assert ex._outcome("ref", job) is None and ex._outcome("ref", job) is None  # both resubmitted
    result = ex._outcome("ref", job)
    assert result.status == "ok" and [a["error"] for a in result.detail["ray_lost_attempts"]] == [
        "NodeDiedError", "OutOfMemoryError"]
    assert lost_with_node(lost_error("WorkerCrashedError")) and not lost_with_node(lost_error("RayTaskError"))


def test_a_run_lost_more_often_than_node_retries_is_crashed_and_says_so():
    pytest.importorskip("ray")
    from types import SimpleNamespace

    from vidbench.run.ray_executor import Submitted

    ex = executor_with(FakeRay([lost_error("NodeDiedError")] * 2, None), retries=1)
    job = Submitted(spec=SimpleNamespace(run_id="r1"))
    assert ex._outcome("ref", job) is None
    result = ex._outcome("ref", job)
    assert result.status == "crashed" and "lost with its node 2 times; limits.node_retries = 1" in result.error
    assert len(result.detail["ray_lost_attempts"]) == 2
    other = executor_with(FakeRay([lost_error("RayTaskError")], None), retries=2)
    failed = other._outcome("ref", Submitted(spec=SimpleNamespace(run_id="r2")))  # not a node loss: not retried
    assert failed.status == "crashed" and "ray_lost_attempts" not in failed.detail
