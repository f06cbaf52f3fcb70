"""The spare worker `vidbench run` starts before it imports torch (issue 18): taken by the first device that
runs, its output held until it is given that device's log; stopped when nothing runs; never for a dry run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import make_spec
from tests.run.test_executor import _alive
from vidbench.run.executors import LocalExecutor, WorkerProcess


def test_the_first_device_takes_the_spare_and_its_log(tmp_path):
    spare = WorkerProcess.spare()
    pid = spare.process.pid
    with LocalExecutor([], 120.0, log_dir=tmp_path, spare=spare) as ex:
        result = ex.run(make_spec("tsn_tiny"))
        assert result.status == "ok", result.error
        assert ex._workers["cpu"] is spare and spare.process.pid == pid, "the spare ran it: no second start"
        again = ex.run(make_spec("tsn_tiny", clip_length=8))
        assert again.status == "ok" and spare.process.pid == pid
    assert not _alive(pid)
    log = (tmp_path / "worker-cpu.log").read_text()
    assert log.count("--- run") == 2 and result.run_id in log


def test_a_spare_nothing_runs_on_is_stopped(tmp_path):
    spare = WorkerProcess.spare()
    pid = spare.process.pid
    with LocalExecutor([], 120.0, log_dir=tmp_path, spare=spare) as ex:
        assert list(ex.execute([])) == []
        assert ex.spare is None and spare.process is None
    assert not _alive(pid)
    assert not list(tmp_path.iterdir()), "a spare writes nothing before it has a run"


def test_a_stopped_worker_exits_cleanly_and_at_once():
    worker = WorkerProcess(None)
    worker.start()
    process = worker.process
    worker.stop()
    assert process.exitcode == 0


HELD = textwrap.dedent("""\
    import os, sys
    from vidbench.run.worker import Output
    output = Output(None, held=True)
    print("held from python")
    os.write(2, b"held from C\\n")
    output.to(sys.argv[1] if len(sys.argv) > 1 else None)
    print("after")
    """)


def test_held_output_goes_to_the_log_it_is_given_or_back_to_the_streams(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("earlier run\n")
    out = subprocess.run([sys.executable, "-c", HELD, str(log)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == out.stderr == "", "nothing reaches the driver's streams"
    assert log.read_text() == "earlier run\nheld from python\nheld from C\nafter\n"
    out = subprocess.run([sys.executable, "-c", HELD], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "held from python\nheld from C\nafter\n"
