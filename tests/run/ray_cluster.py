"""A real two-node Ray cluster on loopback, as the README starts one, for the cluster tests.

Each node is a `ray start ... --block` process of its own (its Ray processes go when it is stopped), on
ports of its own, so the cluster never touches another Ray on the machine; token authentication is on, with
a token file the test owns. `kill_worker_node()` SIGKILLs the second node's raylet, as a machine lost mid-sweep.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _node_ports(ports: list[int]) -> list[str]:
    names = ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
             "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port")
    return [f"{name}={port}" for name, port in zip(names, ports)]


@dataclass
class Cluster:
    address: str
    token_path: Path
    worker_manager_port: int
    processes: list[subprocess.Popen]

    def driver_env(self, **changes) -> dict:
        """The environment of a vidbench driver that finds the token as a user would (RAY_AUTH_TOKEN_PATH,
        RAY_AUTH_MODE left unset: vidbench turns token mode on itself)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
        env["RAY_AUTH_TOKEN_PATH"] = str(self.token_path)
        env.update(changes)
        return {k: v for k, v in env.items() if v is not None}

    def kill_worker_node(self) -> None:
        """SIGKILL the second node's raylet (found by its own node-manager port): its tasks die with it."""
        out = subprocess.run(["pgrep", "-f", f"node_manager_port={self.worker_manager_port}"],
                             capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        assert pids, "the worker node's raylet was not found"
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # `ray start --block` stops its node's processes
        for process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_for_nodes(address: str, env: dict, processes: list[subprocess.Popen], timeout_s: float = 120) -> None:
    """Until the cluster has a live node per started process; a `ray start` that exited fails at once."""
    probe = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='error'); "
             "print(sum(1 for n in ray.nodes() if n['Alive']))")
    host, port = address.rsplit(":", 1)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        exited = [p.args for p in processes if p.poll() is not None]
        assert not exited, f"ray start exited: {exited}"
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
            out = subprocess.run([sys.executable, "-c", probe, address], env=env, capture_output=True, text=True,
                                 timeout=120)
            if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(len(processes))]:
                return
        time.sleep(0.5)
    raise AssertionError(f"the cluster at {address} did not reach {len(processes)} nodes in {timeout_s} s")


def start_cluster(tmp_path: Path, cpus_per_node: int = 1) -> Cluster:
    token_path = tmp_path / "ray_token"
    token_path.write_text(uuid.uuid4().hex)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_path)}
    env.pop("RAY_AUTH_TOKEN", None)
    gcs, *ports = free_ports(13)
    address = f"127.0.0.1:{gcs}"
    common = ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus_per_node}", "--block", "--disable-usage-stats"]
    head = [RAY, "start", "--head", f"--port={gcs}", "--include-dashboard=false", *common, *_node_ports(ports[:6])]
    worker = [RAY, "start", f"--address={address}", *common, *_node_ports(ports[6:12])]
    processes = []
    cluster = Cluster(address, token_path, ports[6], processes)
    try:
        for command in (head, worker):
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              start_new_session=True))
            _wait_for_nodes(address, env, processes)
    except BaseException:
        cluster.stop()
        raise
    return cluster
