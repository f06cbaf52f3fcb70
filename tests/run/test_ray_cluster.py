"""`--executor ray` on a real two-node cluster on loopback (tests/run/ray_cluster.py): token authentication
and its refusal, runs placed on both nodes and recorded, a run lost with its node resubmitted, kill -9 of the
driver resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.run.ray_cluster import start_cluster
from tests.run.test_reliability import stored, vidbench, wait_for_rows, write_suite

pytest.importorskip("ray")


@pytest.fixture
def cluster(tmp_path):
    c = start_cluster(tmp_path)
    yield c
    c.stop()


def run(tmp_path, cluster, out: str = "out", **env):
    return subprocess.run([sys.executable, "-m", "vidbench", "run", "suite.yaml", "--output", out, "--executor",
                           "ray", "--address", cluster.address, "--json"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=cluster.driver_env(**env))


def placements(folder) -> dict[str, dict]:
    from vidbench.report.frame import load_run_folder

    frame = load_run_folder(folder).frame
    return {rid: {"node": env.get("ray_node"), "detail": detail, "status": status}
            for rid, env, detail, status in zip(frame["run_id"], frame["env"], frame["detail"], frame["status"])}


def assert_refused(result, *words) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "InvalidAuthToken" not in result.stderr
    assert all(w in lines[-1] for w in words), lines[-1]
    assert [ln for ln in lines if ln.startswith("error:")] == [lines[-1]]  # one line of error, nothing else


def test_token_auth_placement_on_both_nodes_and_a_crash_on_a_live_node(tmp_path, cluster):
    write_suite(tmp_path, runs=2, sleep=1.0, extra_models="  - aborting_model")
    assert_refused(run(tmp_path, cluster, RAY_AUTH_TOKEN="not-the-token"), cluster.address, "refused the token",
                   "RAY_AUTH_TOKEN")
    no_token = run(tmp_path, cluster, RAY_AUTH_TOKEN_PATH=None, HOME=str(tmp_path))
    assert_refused(no_token, cluster.address, "without a token")
    assert not stored(tmp_path / "out")  # refused before any run: nothing stored

    result = run(tmp_path, cluster)
    assert result.returncode == 1, result.stderr[-2000:]  # the aborting model's run crashed: exit 1
    outcome = json.loads(result.stdout)  # the cluster's messages never reach stdout
    assert sorted(outcome["runs"].values()) == ["crashed", "ok", "ok"]
    runs = placements(tmp_path / "out")
    nodes = {r["node"]["node_id"] for r in runs.values()}
    assert len(nodes) == 2  # both nodes ran runs
    for r in runs.values():
        assert r["node"]["ip"] and r["node"]["hostname"] and r["node"]["resources"] == {"CPU": 1.0}
    crashed = [r for r in runs.values() if r["status"] == "crashed"]
    assert "ray_lost_attempts" not in crashed[0]["detail"]  # a crash on a live node is the run's: not retried
    from vidbench.report.frame import load_run_folder

    labels = set(load_run_folder(tmp_path / "out").environments)
    assert len(labels) == 2 and all(label.startswith("cpu on ") for label in labels)


def test_an_address_with_nothing_listening_is_one_line_before_any_run(tmp_path):
    from tests.run.ray_cluster import free_ports

    write_suite(tmp_path, runs=1)
    address = f"127.0.0.1:{free_ports(1)[0]}"
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "vidbench", "run", "suite.yaml", "--output", "out", "--executor",
                             "ray", "--address", address], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert_refused(result, address, "cannot reach", "ray start --head")
    assert time.time() - started < 120 and not stored(tmp_path / "out")


@pytest.mark.slow
def test_a_node_killed_mid_sweep_loses_no_run_and_the_sweep_exits_0(tmp_path, cluster):
    gate = tmp_path / "gate"  # runs after the first wait at the gate: both nodes are busy when the node dies
    write_suite(tmp_path, runs=4, sleep=0.5, gate=str(gate))
    out = tmp_path / "out"
    sweep = vidbench("run", "suite.yaml", "--output", str(out), "--executor", "ray", "--address", cluster.address,
                     "--json", cwd=tmp_path, env=cluster.driver_env())
    deadline = time.time() + 300
    while len(list(out.glob("worker-ray-*.log"))) < 2 and time.time() < deadline:  # a run started on each node
        time.sleep(0.2)
    cluster.kill_worker_node()
    gate.touch()
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr[-3000:]
    assert sorted(json.loads(stdout)["runs"].values()) == ["ok"] * 4
    rows = stored(out)
    assert len(rows) == 4 == len({r[0] for r in rows})  # each run once
    lost = [r for r in placements(out).values() if r["detail"].get("ray_lost_attempts")]
    assert len(lost) >= 1 and all(a["error"] == "NodeDiedError" for r in lost for a in r["detail"]["ray_lost_attempts"])
    assert len({r["node"]["node_id"] for r in lost}) == 1  # resubmitted to the node still alive


@pytest.mark.slow
def test_kill_9_of_the_driver_during_a_ray_sweep_resumes_as_locally(tmp_path, cluster):
    gate = tmp_path / "gate"
    write_suite(tmp_path, runs=3, sleep=0.0, gate=str(gate))
    out = tmp_path / "out"
    sweep = vidbench("run", "suite.yaml", "--output", str(out), "--executor", "ray", "--address", cluster.address,
                     cwd=tmp_path, env=cluster.driver_env())
    try:
        wait_for_rows(out, 1, timeout=300)
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    before = stored(out)
    gate.touch()
    again = run(tmp_path, cluster, out=str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    after = stored(out)
    assert len(after) == 3 == len({r[0] for r in after}) and set(before) <= set(after)
    assert json.loads(again.stdout)["executed"] == 3 - len(before)
