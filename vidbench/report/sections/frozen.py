"""Frozen encoders: per encoder (model and weights, at its input, on a dataset), the three frozen evaluations side
by side — the linear probe's top-1, the attentive probe's and the k-NN top-1 of the same cached features — each
with its interval over seeds, beside the encoder's cost. One table answers "which pretrained encoder, and does a
cheap signal (k-NN, a linear head) already rank them as the attentive probe does?"."""

from __future__ import annotations

import pandas as pd

from vidbench.report.aggregate import interval_text
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.columns import figure, filled
from vidbench.report.tables import Column

PROBES = {"linear_probe": "linear probe top-1 (%)", "attentive_probe": "attentive probe top-1 (%)"}
KNN = "k-NN top-1 (%)"
ENCODER = ("dataset", "variant", "resolution", "clip_length")  # what the features depend on besides the weights
COST = ("params", "gmacs", "latency_ms_p50")
NOTE = ("Each encoder frozen, evaluated three ways on the same cached features: a linear probe and an attentive "
        "probe (a trained cross-attention pooling head, V-JEPA 2's evaluation) report top-1 on the validation split, "
        "k-NN (cosine, train.knn_k neighbours) needs no training. Figures are means over seeds with 95% Student-t "
        "intervals (n=1: one seed, no interval). Encoders are read best first by their best of the three "
        "(the three can disagree: read them side by side). Cost is the encoder's own (one clip at batch 1).")


def _protocol(setting) -> str | None:
    return setting.get("train.protocol") if isinstance(setting, dict) else None


def _first(frame: pd.DataFrame, column: str) -> tuple[str, float | None]:
    """The figure of the first configuration as text with its interval, and its value to sort by."""
    if not len(frame):
        return "", None
    return interval_text(frame.iloc[0], column), float(frame.iloc[0][column])


def frozen_rows(configs: pd.DataFrame) -> pd.DataFrame:
    """One row per encoder with a frozen evaluation: its probes' and k-NN's top-1 as text (with the values to sort
    by, `_linear_probe`, `_attentive_probe`, `_knn`) and its cost."""
    if configs.empty or "variant" not in configs:
        return pd.DataFrame()
    configs = configs.assign(_encoder=list(zip(*(configs[c] for c in ENCODER))),
                             _protocol=[_protocol(s) for s in configs["setting"]])
    scored = configs["top1"].notna() if "top1" in configs else pd.Series(False, index=configs.index)
    knn = configs[configs["knn_top1"].notna()] if "knn_top1" in configs else configs.iloc[0:0]
    encoders = dict.fromkeys([*configs.loc[scored & configs["_protocol"].isin(PROBES), "_encoder"], *knn["_encoder"]])
    rows = []
    for encoder in encoders:
        mine = configs[configs["_encoder"] == encoder]
        row = dict(zip(ENCODER, encoder))
        for protocol, header in PROBES.items():
            row[header], row[f"_{protocol}"] = _first(mine[scored[mine.index] & (mine["_protocol"] == protocol)], "top1")
        row[KNN], row["_knn"] = _first(knn[knn["_encoder"] == encoder], "knn_top1")
        row.update({c: mine[c].dropna().iloc[0] if c in mine and mine[c].notna().any() else None for c in COST})
        rows.append(row)
    out = pd.DataFrame(rows)
    if not len(out):
        return out
    best = out[["_attentive_probe", "_linear_probe", "_knn"]].astype(float).max(axis=1)
    return out.assign(_best=best).sort_values(["dataset", "_best"], ascending=[True, False], na_position="last",
                                              kind="stable").reset_index(drop=True)


COLUMNS = [Column("dataset", "dataset"), Column("variant", "encoder"), Column("resolution", "px"),
           Column("clip_length", "frames"), *(Column(h, h) for h in PROBES.values()), Column(KNN, KNN),
           *(figure(c) for c in COST)]


def build(report):
    from vidbench.report.sections.blocks import Table

    rows = frozen_rows(report.configs)
    if not len(rows):
        return None
    return [Table(rows, filled(COLUMNS, rows), id="frozen-encoders")]


def every_trained_run_is_a_probe(report) -> bool:
    """A frozen evaluation's suite: every run that scored top-1 trained a probe (fine-tuning runs beside probes
    make it a transfer comparison, which the recommendations answer)."""
    frame = report.frame
    if "top1" not in frame:
        return True
    scored = frame[frame["top1"].notna()]
    return all(_protocol(s) in PROBES for s in scored["setting"])


SECTION = register(Section(order=25, anchor="frozen", title="Frozen encoders: probes and k-NN", note=NOTE,
                           toc="Frozen encoders", build=build,
                           leads=every_trained_run_is_a_probe))
