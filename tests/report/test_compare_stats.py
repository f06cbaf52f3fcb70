"""`vidbench compare` with statistics: known answers. A/A comparisons built from stored samples rarely flag
anything, an injected 20% slowdown is flagged with p < 0.01 while a 2% one under a 5% threshold is not,
accuracy differences are tested over seeds, and different machines are named before any speed verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from tests.report.synthetic import write_timed
from vidbench.cli import app
from vidbench.report.compare import NODES_APART, compare_folders
from vidbench.report.frame import load_run_folder
from vidbench.store import ResultStore

REPORTS = Path(__file__).resolve().parents[2] / "reports"
runner = CliRunner()
SHAPES = [dict(model=m, clip_length=t, resolution=(r, r)) for m in ("tsn_tiny", "c3d_tiny")
          for t in (4, 8) for r in (16, 24, 32, 40, 48)]  # 20 configurations


def test_aa_comparisons_built_from_stored_samples_flag_at_most_one_in_a_hundred(tmp_path):
    """Real per-call samples of one measured run (a committed reference run's: see below), split at random into
    an A and a B half, 100 times over: both halves come from one distribution, so any flag is a false
    positive."""
    samples = np.asarray(reference_samples("deploy-cpu", "86f1d8495b450fc9"))[::4]  # 250 of them: 125 a side
    assert samples.size >= 200
    rng = np.random.default_rng(0)
    flagged = pairs = 0
    for k in range(5):  # 5 store pairs × 20 configurations = 100 metric-run pairs
        runs_a, runs_b = [], []
        for shape in SHAPES:
            order = rng.permutation(samples.size)
            half = samples.size // 2
            runs_a.append((shape, samples[order[:half]], {}))
            runs_b.append((shape, samples[order[half:2 * half]], {}))
        write_timed(tmp_path / f"a{k}", runs_a)
        write_timed(tmp_path / f"b{k}", runs_b)
        rows = compare_folders(tmp_path / f"a{k}", tmp_path / f"b{k}").rows
        latency = rows[rows["metric"] == "latency_ms_p50"]
        pairs += len(latency)
        flagged += int(latency["regression"].sum())
    assert pairs == 100 and flagged <= 1


def reference_samples(folder: str, run_id: str) -> list[float]:
    """The stored per-call inference samples of one run of a committed reference store."""
    with ResultStore.open_existing(REPORTS / folder) as store:
        (row,) = [r for r in store.rows() if r["run_id"] == run_id]
    return row["detail"]["inference_s"]["samples"]


def test_a_slowdown_injected_into_stored_samples_is_flagged_at_20_percent_not_at_2(tmp_path):
    """Real per-call samples of one measured run, halved: A keeps one half, B the other half 20% slower
    (C 2% slower). The samples are a committed reference run's (c3d_tiny, 1,000 calls measured on a quiet
    machine, reports/deploy-cpu), so the known answer does not depend on how busy this machine is; the
    measured-model version of it is a benchmark (tests/benchmarks/test_compare_known_answers.py)."""
    samples = np.asarray(reference_samples("deploy-cpu", "86f1d8495b450fc9"))
    order = np.random.default_rng(4).permutation(samples.size)
    half = samples.size // 2
    first, second = samples[order[:half]], samples[order[half:2 * half]]
    write_timed(tmp_path / "a", [({}, first, {})])
    write_timed(tmp_path / "b", [({}, second * 1.20, {})])
    write_timed(tmp_path / "c", [({}, second * 1.02, {})])
    slow = compare_folders(tmp_path / "a", tmp_path / "b", threshold_pct=5.0).rows.set_index("metric")
    assert slow.loc["latency_ms_p50", "regression"] and slow.loc["throughput_clips_s", "regression"]
    assert slow.loc["latency_ms_p50", "p_value"] < 0.01 and "Mann-Whitney" in slow.loc["latency_ms_p50", "method"]
    latency = slow.loc["latency_ms_p50"]
    assert 15 < latency["change_pct"] < 25 and latency["lo_pct"] < latency["change_pct"] < latency["hi_pct"]
    outcome = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--threshold", "5"])
    assert outcome.exit_code == 1 and "REGRESSION" in outcome.stdout and "Mann-Whitney" in outcome.stderr
    assert compare_folders(tmp_path / "a", tmp_path / "c", threshold_pct=5.0).regression_count == 0
    assert runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "c"), "--threshold", "5"]).exit_code == 0


def _seeds(top1: list[float], **overrides) -> list[tuple[dict, list[float], dict]]:
    samples = list(np.random.default_rng(1).lognormal(np.log(0.01), 0.02, 40))
    return [({"seed": s, **overrides}, samples, {"top1": t}) for s, t in enumerate(top1)]


def test_accuracy_is_tested_over_seeds_and_one_seed_is_within_seed_noise(tmp_path):
    write_timed(tmp_path / "a", _seeds([80.0, 82.0, 81.0]))
    write_timed(tmp_path / "worse", _seeds([60.0, 61.5, 59.0]))
    write_timed(tmp_path / "noise", _seeds([79.0, 81.5, 80.5]))
    worse = compare_folders(tmp_path / "a", tmp_path / "worse").rows.set_index("metric").loc["top1"]
    assert worse["regression"] and worse["p_value"] < 0.01 and "Welch" in worse["method"]
    assert (worse["replicates_a"], worse["replicates_b"]) == (3, 3)
    assert worse["lo_pct"] < worse["change_pct"] < worse["hi_pct"] < 0
    noise = compare_folders(tmp_path / "a", tmp_path / "noise").rows.set_index("metric").loc["top1"]
    assert not noise["regression"]
    write_timed(tmp_path / "one_a", _seeds([80.0]))
    write_timed(tmp_path / "one_b", _seeds([70.0]))
    one = compare_folders(tmp_path / "one_a", tmp_path / "one_b")
    row = one.rows.set_index("metric").loc["top1"]
    assert not row["regression"] and "within seed noise" in row["note"] and one.regression_count == 0
    assert compare_folders(tmp_path / "one_a", tmp_path / "one_b", stats=False).regression_count == 1  # --no-stats


def test_different_environments_are_named_and_speed_changes_are_not_regressions(tmp_path):
    fast = list(np.random.default_rng(2).lognormal(np.log(0.010), 0.02, 60))
    slow = list(np.random.default_rng(3).lognormal(np.log(0.015), 0.02, 60))
    write_timed(tmp_path / "a", [({}, fast, {})], env={"cpu": "Intel Xeon", "threads": 2, "torch": "2.14.1"})
    write_timed(tmp_path / "b", [({}, slow, {})], env={"cpu": "AMD EPYC", "threads": 2, "torch": "2.14.1"})
    result = compare_folders(tmp_path / "a", tmp_path / "b")
    assert result.env_differences == ["cpu: Intel Xeon → AMD EPYC (cpu runs)"]
    row = result.rows.set_index("metric").loc["latency_ms_p50"]
    assert not row["regression"] and "hardware or software difference" in row["note"] and row["p_value"] < 0.01
    outcome = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert outcome.exit_code == 0 and outcome.stderr.index("different environments") < outcome.stderr.index("runs matched")
    assert runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--same-env"]).exit_code == 1


def test_runs_on_ray_nodes_of_different_hardware_are_different_environments_run_by_run(tmp_path):
    def node(cpu: str, node_id: str) -> dict:
        return {"cpu": cpu, "threads": 1, "torch": "2.x", "ray_node": {"node_id": node_id, "hostname": "h",
                                                                       "ip": "10.0.0.1", "resources": {"CPU": 1.0}}}
    fast = list(np.random.default_rng(4).lognormal(np.log(0.010), 0.02, 60))
    slow = list(np.random.default_rng(5).lognormal(np.log(0.015), 0.02, 60))
    xeon, epyc = node("Intel Xeon", "aaaa1111"), node("AMD EPYC", "bbbb2222")
    # the folders ran on the same two nodes, but two configurations swapped node; the one at batch 4 did not
    write_timed(tmp_path / "a", [({"batch_size": 2}, fast, {}, xeon), ({"batch_size": 4}, fast, {}, epyc),
                                 ({"batch_size": 8}, fast, {}, epyc)])
    write_timed(tmp_path / "b", [({"batch_size": 2}, slow, {}, epyc), ({"batch_size": 4}, slow, {}, epyc),
                                 ({"batch_size": 8}, slow, {}, xeon)])
    result = compare_folders(tmp_path / "a", tmp_path / "b")
    assert result.env_differences == [NODES_APART]  # alike as folders ({Xeon, EPYC}), apart run by run
    rows = result.rows[result.rows["metric"] == "latency_ms_p50"].set_index("batch_size")
    for swapped in (2, 8):
        assert "hardware or software difference" in rows.loc[swapped, "note"] and not rows.loc[swapped, "regression"]
    assert rows.loc[4, "regression"]  # the same node both times: a real slowdown
    labels = set(load_run_folder(tmp_path / "a").environments)
    assert labels == {"cpu on h (10.0.0.1), Ray node aaaa1111", "cpu on h (10.0.0.1), Ray node bbbb2222"}
