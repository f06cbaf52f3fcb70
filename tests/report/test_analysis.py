"""What the reports conclude: Pareto fronts, fitted exponents, recommendations, family and device summaries.

The synthetic store follows known laws (GMACs ∝ T·px², throughput ∝ 1/GMACs, a cuda 20x faster than the
cpu), so the answers are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.report.synthetic import DEVICE_SPEED, write_store
from vidbench.report import analysis
from vidbench.report.frame import load_run_folder, variant_label


@pytest.fixture(scope="module")
def frame(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("analysis") / "run"
    write_store(folder, datasets=("synthetic-motion", "synthetic-appearance"), sides=(32, 48, 64),
                clip_lengths=(4, 8, 16), devices=("cpu", "cuda"))
    return load_run_folder(folder).frame


def test_variant_label_names_the_constructor_args():
    assert variant_label("tsn_tiny", "{}") == "tsn_tiny"
    assert variant_label("timesformer_tiny", '{"attention":"joint","depth":4}') == \
        "timesformer_tiny[attention=joint,depth=4]"


@pytest.mark.parametrize(("acc", "cost", "higher", "expected"), [
    ([1, 2, 3], [1, 2, 3], False, [True, True, True]),  # more accuracy costs more: all on the front
    ([3, 2, 1], [1, 2, 3], False, [True, False, False]),  # the first is better in both
    ([1, 1], [1, 1], False, [True, True]),  # equal points do not dominate each other
    ([1, 2, 2], [1, 2, 3], False, [True, True, False]),  # as accurate but dearer: dominated
    ([1, 2, 2], [3, 2, 1], True, [True, True, False]),  # throughput: more is better
])
def test_pareto_mask(acc, cost, higher, expected):
    assert analysis.pareto_mask(acc, cost, higher).tolist() == expected


def test_pareto_mask_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    acc, cost = rng.integers(0, 8, 60), rng.integers(0, 8, 60)
    mask = analysis.pareto_mask(acc, cost)
    for i in range(60):
        dominated = any(acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i])
                        for j in range(60))
        assert mask[i] == (not dominated)


def test_pareto_fronts_per_dataset_device_and_cost(frame):
    fronts = analysis.pareto_fronts(frame)
    assert set(fronts["cost"]) == {"gmacs", "throughput_clips_s", "peak_mem_mb"}
    assert set(zip(fronts["dataset"], fronts["device"])) == {(d, dev) for d in ("synthetic-motion",
                                                                                 "synthetic-appearance")
                                                             for dev in ("cpu", "cuda")}
    ok = frame[frame["status"] == "ok"]
    for (dataset, device, cost), front in fronts.groupby(["dataset", "device", "cost"]):
        sub = ok[(ok["dataset"] == dataset) & (ok["device"] == device)]
        expected = sub[analysis.pareto_mask(sub["top1"], sub[cost], cost == "throughput_clips_s")]
        assert set(front["run_id"]) == set(expected["run_id"])
    # The cheapest run in GMACs (tsn at 32px, T4) is always on that front; the most accurate one too.
    motion_cpu = fronts[(fronts["dataset"] == "synthetic-motion") & (fronts["device"] == "cpu")
                        & (fronts["cost"] == "gmacs")]
    assert motion_cpu["run"].iloc[0] == "tsn_tiny 32px T4"
    assert motion_cpu["top1"].max() == ok[ok["dataset"] == "synthetic-motion"]["top1"].max()


@pytest.mark.parametrize(("metric", "axis", "exponent"), [
    ("gmacs", "clip_length", 1.0), ("gmacs", "side", 2.0), ("throughput_clips_s", "clip_length", -1.0),
    ("throughput_clips_s", "side", -2.0), ("latency_ms_p50", "side", 2.0),
])
def test_exponents_recover_the_laws_with_other_axes_held_fixed(frame, metric, axis, exponent):
    exps = analysis.scaling_exponents(frame)
    rows = exps[(exps["metric"] == metric) & (exps["axis"] == axis)]
    assert len(rows) == 5 * 2  # every variant on both devices
    assert np.allclose(rows["exponent"], exponent, atol=1e-9)
    assert (rows["r2"] > 0.999).all()
    # 3 values of the other shape axis x 2 datasets: 6 series of 3 points each
    assert (rows["series"] == 6).all() and (rows["points"] == 18).all()


def test_an_exponent_is_not_confused_by_the_other_axis():
    """GMACs ∝ T·px²: pooling 32px and 64px runs without holding px fixed would give a wrong slope
    for T when the two resolutions were run at different clip lengths."""
    rows = []
    for side, ts in ((32, (8, 16)), (64, (4, 8))):
        for t in ts:
            rows.append({"dataset": "d", "setting": {"resolution": str(side), "clip_length": t}, "clip_length": t,
                         "side": side, "gmacs": 1e-6 * t * side ** 2})
    fit = analysis.fit_exponent(pd.DataFrame(rows), "gmacs", "clip_length")
    assert fit.exponent == pytest.approx(1.0)
    assert fit.series == 2
    naive = np.polyfit(np.log([r["clip_length"] for r in rows]), np.log([r["gmacs"] for r in rows]), 1)[0]
    assert abs(naive - 1.0) > 0.5  # what ignoring the resolution would have said


def test_no_exponent_without_two_values_of_the_axis():
    rows = pd.DataFrame([{"dataset": "d", "setting": {"clip_length": 8, "resolution": str(s)}, "clip_length": 8,
                          "side": s, "gmacs": 1.0 * s} for s in (32, 64)])
    assert analysis.fit_exponent(rows, "gmacs", "clip_length") is None
    assert analysis.fit_exponent(rows, "gmacs", "side").exponent == pytest.approx(1.0)


def test_scaling_table_has_one_row_per_variant_and_device(frame):
    table = analysis.scaling_table(analysis.scaling_exponents(frame))
    assert len(table) == 10
    assert "GMACs ∝ T^" in table.columns and "throughput ∝ px^" in table.columns
    assert analysis.scaling_statement("timesformer_b", "gmacs", "T", 1.1) == "timesformer_b: GMACs ∝ T^1.10"


def test_nearest_rank_is_always_an_observed_value():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert [analysis.nearest_rank(values, p) for p in (25, 50, 75, 100)] == [2.0, 3.0, 4.0, 5.0]
    assert analysis.nearest_rank([7.0], 25) == 7.0


def test_recommendations_pick_the_best_under_each_budget_and_above_each_floor(frame):
    recs = analysis.recommendations(frame)
    ok = frame[frame["status"] == "ok"]
    assert set(recs["kind"]) == {"latency budget", "accuracy floor", "Pareto set"}
    for (dataset, device), group in recs.groupby(["dataset", "device"]):
        sub = ok[(ok["dataset"] == dataset) & (ok["device"] == device)]
        budgets = group[group["kind"] == "latency budget"]
        assert 1 <= len(budgets) <= 4
        for _, rec in budgets.iterrows():
            budget = float(rec["criterion"].split("≤ ")[1].split(" ms")[0])
            within = sub[sub["latency_ms_p50"] <= budget * 1.001]
            assert rec["latency_ms_p50"] <= budget * 1.001
            assert rec["top1"] == within["top1"].max()
        assert "(max)" in budgets["criterion"].iloc[-1]
        assert budgets["top1"].iloc[-1] == sub["top1"].max()  # no budget: the most accurate run
        floors = group[group["kind"] == "accuracy floor"]
        for _, rec in floors.iterrows():
            floor = float(rec["criterion"].split("≥ ")[1].split("%")[0])
            above = sub[sub["top1"] >= floor * 0.999]
            assert rec["top1"] >= floor * 0.999
            assert rec["throughput_clips_s"] == above["throughput_clips_s"].max()
        pareto = group[group["kind"] == "Pareto set"]
        expected = sub[analysis.pareto_mask(sub["top1"], sub["throughput_clips_s"], True)]
        assert set(pareto["run_id"]) == set(expected["run_id"])


def test_recommendations_compare_latency_within_one_batch_size(tmp_path):
    folder = tmp_path / "bs"
    write_store(folder, variants=("tsn_tiny", "c3d_tiny"), batch_sizes=(4, 16), problems=False)
    recs = analysis.recommendations(load_run_folder(folder).frame)
    assert set(recs["device"]) == {"cpu (bs 4)", "cpu (bs 16)"}


def test_no_recommendations_without_accuracy(tmp_path):
    folder = tmp_path / "speed"
    write_store(folder, variants=("tsn_tiny",), problems=False)
    frame = load_run_folder(folder).frame.assign(top1=None)
    assert analysis.recommendations(frame).empty
    assert analysis.pareto_fronts(frame).empty


def test_family_summary(frame):
    fam = analysis.family_summary(frame)
    motion_cpu = fam[(fam["dataset"] == "synthetic-motion") & (fam["device"] == "cpu")].set_index("family")
    assert list(motion_cpu.index) == ["CNN", "CNN+RNN", "transformer"]
    assert motion_cpu.loc["CNN", "models"] == 2 and motion_cpu.loc["transformer", "models"] == 2
    assert motion_cpu.loc["CNN", "runs"] == 2 * 9
    assert motion_cpu.loc["transformer", "best_run"].startswith("timesformer_tiny[attention=joint] 64px T16")


def test_device_summary_speedup_over_the_cpu(frame):
    dev = analysis.device_summary(frame)
    cuda = dev[dev["device"] == "cuda"]
    assert len(cuda) == 5
    assert np.allclose(cuda["speedup"], DEVICE_SPEED["cuda"] / DEVICE_SPEED["cpu"])
    assert (cuda["matched"] == 18).all() and (dev["baseline"] == "cpu").all()
    assert analysis.device_summary(frame[frame["device"] == "cpu"]).empty


def test_run_labels_name_only_the_settings_that_vary(frame):
    one = frame[(frame["status"] == "ok") & (frame["clip_length"] == 8) & (frame["dataset"] == "synthetic-motion")
                & (frame["device"] == "cpu")]
    labels = analysis.run_labels(one)
    assert set(labels) >= {"tsn_tiny 32px", "tsn_tiny 64px", "timesformer_tiny[attention=joint] 48px"}


def test_runs_stored_before_the_schedule_keys_share_settings_with_runs_that_have_them():
    """A resumed suite mixes rows stored without train.schedule / train.warmup_epochs (they trained at
    constant / 0) with rows that hold them: their settings must be the same, or labels would show
    'schedule=None' and device comparisons would match nothing."""
    from vidbench.report.frame import _setting
    old = {"train": {"lr": 0.001, "epochs": 1}, "clip_length": 8}
    new = {"train": {"lr": 0.001, "epochs": 1, "schedule": "constant", "warmup_epochs": 0.0}, "clip_length": 8}
    assert _setting(old, "32", 8) == _setting(new, "32", 8)
    cosine = {"train": {**new["train"], "schedule": "cosine"}, "clip_length": 8}
    assert _setting(cosine, "32", 8)["train.schedule"] == "cosine"
