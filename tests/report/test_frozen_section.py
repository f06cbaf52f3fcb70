"""The frozen-encoder section: per encoder, linear probe, attentive probe and k-NN top-1 side by side with their
intervals over seeds and the encoder's cost, best encoder first, opening the report of a frozen evaluation."""

from __future__ import annotations

from tests.conftest import TRAIN, make_spec
from vidbench.report.render import render_reports
from vidbench.store import STORE_NAME, ResultStore, RunResult

# (model, protocol) → top-1 per seed; k-NN per seed
TOP1 = {("c3d_tiny", "linear_probe"): [70.0, 72.0, 74.0], ("c3d_tiny", "attentive_probe"): [80.0, 82.0, 84.0],
        ("tsn_tiny", "linear_probe"): [40.0, 40.0, 40.0], ("tsn_tiny", "attentive_probe"): [50.0, 52.0, 48.0]}
KNN = {"c3d_tiny": [60.0, 61.0, 62.0], "tsn_tiny": [30.0, 30.0, 33.0]}


def write_frozen(folder) -> None:
    with ResultStore(folder / STORE_NAME) as store:
        for (model, protocol), values in TOP1.items():
            for seed, (top1, knn) in enumerate(zip(values, KNN[model]), 1):
                spec = make_spec(model, seed=seed, metrics=("params", "flops", "accuracy", "knn"),
                                 train={**TRAIN, "protocol": protocol})
                metrics = {"top1": top1, "knn_top1": knn, "params": 1000, "gmacs": 0.5}
                store.write(spec, RunResult(spec.run_id, "ok", metrics=metrics))


def test_probes_and_knn_side_by_side_per_encoder_best_first(tmp_path):
    write_frozen(tmp_path)
    md, _ = render_reports(tmp_path)
    text = md.read_text()
    assert text.index("## Frozen encoders: probes and k-NN") < text.index("## Recommendations")
    section = text.split("## Frozen encoders: probes and k-NN")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert "linear probe top-1 (%)" in rows[0] and "attentive probe top-1 (%)" in rows[0] and "k-NN" in rows[0]
    assert len(rows) == 3 and "c3d_tiny" in rows[1] and "tsn_tiny" in rows[2]  # the best encoder first
    # means over the three seeds with their Student-t intervals: 82 ± t(0.975, 2) × 2 / √3 = 82 ± 4.97
    assert "82.00 [77.03, 86.97] n=3" in rows[1] and "72.00 [67.03, 76.97] n=3" in rows[1], rows[1]
    assert "61.00 [58.52, 63.48] n=3" in rows[1], rows[1]  # 61 ± 4.303 × 1 / √3


def test_beside_fine_tuning_the_recommendations_answer_first(tmp_path):
    write_frozen(tmp_path)
    spec = make_spec("c3d_tiny", seed=1, metrics=("params", "flops", "accuracy"), train={**TRAIN, "protocol": "full"})
    with ResultStore(tmp_path / STORE_NAME) as store:
        store.write(spec, RunResult(spec.run_id, "ok", metrics={"top1": 90.0, "params": 1000, "gmacs": 0.5}))
    md, _ = render_reports(tmp_path)
    text = md.read_text()
    assert text.index("## Recommendations") < text.index("## Frozen encoders: probes and k-NN")
