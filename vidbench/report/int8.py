"""The int8 view: per model, setting and quantizing runtime, int8 against fp32 of the same runtime — the
speed-up (the ratio of the two runs' median per-call times, with its bootstrap interval), the top-1 drop
measured inside the int8 run against the same trained model in fp32 (with its interval over seeds), the
artifact's shrinkage and what ran in int8; and per model and setting the fastest runtime-precision pair
whose drop is within DROP_BOUND. A scatter of speed-up against drop shows which architectures quantize well.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from vidbench.axes import QUANTIZED
from vidbench.measure.uncertainty import mean_interval, samples_difference
from vidbench.report.plots import Plot
from vidbench.report.runtimes import inference_samples
from vidbench.report.tables import Column, formatted

SECTION = "int8"
DROP_BOUND = 1.0  # points of top-1 an int8 model may lose and still be picked
PAIR = ("variant", "family", "dataset", "dataset_args", "device", "resolution", "clip_length", "frame_stride",
        "batch_size", "runtime")  # what an int8 run shares with the fp32 run it is measured against (and seed)
SETTING = tuple(k for k in PAIR if k not in ("variant", "family", "runtime"))
NOTE = ("int8 is post-training static quantization by the runtime (ONNX Runtime's quantize_static, QDQ with "
        "per-channel weights; OpenVINO's NNCF), calibrated on clips of the training split. Speed-up: int8 "
        "throughput over fp32's under the same runtime, model and setting (the ratio of median per-call times, "
        "95% bootstrap interval). Top-1 drop: the int8 model's top-1 minus the same trained model's fp32 top-1 "
        "under the same runtime on the same validation clips, measured in the int8 run (mean over seeds with its "
        "95% interval where there are several). Int8 layers: OpenVINO's compute layers that ran an int8 kernel "
        "(the kernel's name says which instructions: VNNI, AMX); ONNX Runtime's convolutions and matrix products "
        "quantized. A pair is picked only where its drop is within "
        f"{DROP_BOUND:g} point of top-1; a model trained only briefly (low fp32 top-1) says less about its "
        "architecture's int8 cost.")


@dataclass
class Int8View:
    pairs: pd.DataFrame  # one row per model, setting and runtime with an int8 run
    picks: pd.DataFrame  # one row per model and setting


def _speedup(fp32: pd.Series | None, int8: pd.Series) -> tuple[float | None, float | None, float | None]:
    """int8 over fp32 throughput: the point and its interval from the stored samples (None where missing)."""
    if fp32 is None or pd.isna(int8.get("throughput_clips_s")) or pd.isna(fp32.get("throughput_clips_s")):
        return None, None, None
    try:
        d = samples_difference(inference_samples(fp32), inference_samples(int8), 50.0, inverse=True)
    except ValueError:
        point = float(int8["throughput_clips_s"] / fp32["throughput_clips_s"])
        return point, None, None
    return 1 + d.change_pct / 100, 1 + min(d.lo_pct, d.change_pct) / 100, 1 + max(d.hi_pct, d.change_pct) / 100


def _int8_layers(row: pd.Series) -> str:
    """What ran in int8: OpenVINO's layers on an int8 kernel, or the quantized compute operations."""
    detail = (row.get("detail") or {}).get("int8") or {}
    kernels = detail.get("kernels")
    if kernels:
        int8 = {k: n for k, n in kernels.items() if k.lower().endswith("i8")}
        isas = sorted({_isa(k) for k in int8} - {""})
        return f"{sum(int8.values())}/{sum(kernels.values())}" + (f" ({', '.join(isas)})" if isas else "")
    ops = detail.get("float_ops")
    return f"{ops['quantized']}/{ops['quantized'] + ops['float']} quantized" if ops else ""


ISAS = (("amx", "AMX"), ("vnni", "VNNI"), ("avx512", "AVX-512"), ("avx2", "AVX2"), ("sse", "SSE"))


def _isa(kernel: str) -> str:
    """The instruction set an OpenVINO kernel name says it uses ('brgconv_avx512_amx_i8': AMX)."""
    name = kernel.lower()
    return next((label for key, label in ISAS if key in name), "")


def _pair_row(int8: pd.Series, fp32: pd.Series | None) -> dict:
    point, lo, hi = _speedup(fp32, int8)
    detail = (int8.get("detail") or {}).get("int8") or {}
    fp32_mb = detail.get("artifact_fp32_mb")
    return {**{k: int8.get(k) for k in PAIR}, "seed": int8.get("seed"), "speedup": point, "speedup_lo": lo,
            "speedup_hi": hi, "top1": int8.get("top1"), "top1_fp32": int8.get("top1_fp32"),
            "top1_delta": int8.get("top1_delta"), "calibration_s": int8.get("calibration_s"),
            "shrink": fp32_mb / int8["artifact_mb"] if fp32_mb and int8.get("artifact_mb") else None,
            "int8_layers": _int8_layers(int8), "int8_throughput": int8.get("throughput_clips_s"),
            "fp32_throughput": None if fp32 is None else fp32.get("throughput_clips_s"),
            "calibration": (detail.get("calibration") or {}).get("clips")}


def _folded(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per model, setting and runtime: seeds folded (means, with the drop's interval over seeds)."""
    rows = []
    for _, group in pairs.groupby(list(PAIR), dropna=False, sort=False):
        row = group.iloc[0].to_dict()
        deltas = group["top1_delta"].dropna().astype(float).tolist()
        row["seeds"] = len(group)
        if len(deltas) > 1:
            interval = mean_interval(deltas)
            row.update(top1_delta=interval.value, delta_text=f"{interval.value:+.1f} [{interval.lo:+.1f}, "
                                                             f"{interval.hi:+.1f}]")
        else:
            row["delta_text"] = f"{deltas[0]:+.1f}" if deltas else "not measured"
        if len(group) > 1:
            for key in ("speedup", "top1", "top1_fp32", "int8_throughput", "fp32_throughput"):
                values = group[key].dropna().astype(float)
                row[key] = values.mean() if len(values) else None
        row["speedup_text"] = _speedup_text(row)
        rows.append(row)
    return pd.DataFrame(rows)


def _speedup_text(row: dict) -> str:
    if row.get("speedup") is None or pd.isna(row["speedup"]):
        return "-"
    if row.get("seeds", 1) == 1 and row.get("speedup_lo") is not None and not pd.isna(row["speedup_lo"]):
        return f"{row['speedup']:.2f}x [{row['speedup_lo']:.2f}, {row['speedup_hi']:.2f}]"
    return f"{row['speedup']:.2f}x"


def int8_view(frame: pd.DataFrame) -> Int8View | None:
    """The int8 comparison, or None when no ok int8 run is stored."""
    if "precision" not in frame or not (frame["precision"] == QUANTIZED).any():
        return None
    runs = frame[frame["status"].isin(("ok", "mismatch")) & frame["precision"].isin(("fp32", QUANTIZED))]
    keys = [k for k in (*PAIR, "seed") if k in runs]
    fp32 = {tuple(r[k] for k in keys): r for _, r in runs[runs["precision"] == "fp32"].iterrows()}
    rows = [_pair_row(r, fp32.get(tuple(r[k] for k in keys))) for _, r in runs[runs["precision"] == QUANTIZED].iterrows()]
    if not rows:
        return None
    pairs = _folded(pd.DataFrame(rows))
    return Int8View(pairs.reset_index(drop=True), _picks(pairs))


def _picks(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per model and setting: the fastest of fp32 and int8 under each runtime whose drop is within the bound."""
    picks = []
    for _, group in pairs.groupby(["variant", *SETTING], dropna=False, sort=False):
        candidates, refused = [], []
        for _, row in group.iterrows():
            if row["fp32_throughput"] is not None and not pd.isna(row["fp32_throughput"]):
                candidates.append((row["fp32_throughput"], f"{row['runtime']} fp32", "0 (fp32)"))
            delta = row["top1_delta"]
            name = f"{row['runtime']} int8"
            if delta is None or pd.isna(delta):
                refused.append(f"{name} (top-1 not measured)")
            elif delta < -DROP_BOUND:
                refused.append(f"{name} (drop {delta:+.1f})")
            elif not pd.isna(row["int8_throughput"]):
                candidates.append((row["int8_throughput"], name, f"{delta:+.1f}"))
        best = max(candidates, key=lambda c: c[0]) if candidates else None
        picks.append({"variant": group["variant"].iloc[0], "setting": _setting(group.iloc[0]),
                      "pick": best[1] if best else "none", "throughput_clips_s": best[0] if best else None,
                      "drop": best[2] if best else "-", "refused": ", ".join(refused) or "-"})
    return pd.DataFrame(picks)


def _setting(row: pd.Series) -> str:
    return (f"{row['dataset']} · {row['device']} · {row['resolution']}px · T={row['clip_length']} · "
            f"b={row['batch_size']}")


PAIR_COLUMNS = [Column("variant", "model"), Column("runtime", "runtime"),
                Column("speedup_text", "int8 speed-up over fp32 [95% interval]"),
                Column("top1", "int8 top-1 (%)", formatted(".1f")), Column("top1_fp32", "fp32 top-1 (%)", formatted(".1f")),
                Column("delta_text", "top-1 drop (points)"), Column("shrink", "artifact smaller by", formatted(".1f")),
                Column("calibration_s", "calibration (s)", formatted(".1f")),
                Column("int8_layers", "int8 layers"), Column("calibration", "calibration clips")]
PICK_COLUMNS = [Column("variant", "model"), Column("setting", "setting"),
                Column("pick", f"fastest within {DROP_BOUND:g} point of fp32 top-1"),
                Column("throughput_clips_s", "throughput (clips/s)"), Column("drop", "its top-1 drop"),
                Column("refused", "int8 left out")]


def int8_plots(view: Int8View) -> list[Plot]:
    """Speed-up against top-1 drop, one point per model and runtime (speed-up's interval as error bars)."""
    import matplotlib.pyplot as plt

    pairs = view.pairs[view.pairs["speedup"].notna() & view.pairs["top1_delta"].notna()]
    if pairs.empty:
        return []
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    for (runtime, marker), colour in zip((("onnxruntime", "o"), ("openvino", "s")), ("#1f77b4", "#d62728")):
        mine = pairs[pairs["runtime"] == runtime]
        if mine.empty:
            continue
        lo = (mine["speedup"] - mine["speedup_lo"].fillna(mine["speedup"])).clip(lower=0)
        hi = (mine["speedup_hi"].fillna(mine["speedup"]) - mine["speedup"]).clip(lower=0)
        ax.errorbar(mine["top1_delta"], mine["speedup"], yerr=[lo, hi], fmt=marker, color=colour, label=runtime,
                    capsize=2, lw=0.8)
        for _, row in mine.iterrows():
            ax.annotate(row["variant"], (row["top1_delta"], row["speedup"]), fontsize=7, xytext=(4, 3),
                        textcoords="offset points")
    ax.axhline(1.0, color="#888888", lw=0.8, ls="--")
    ax.axvline(-DROP_BOUND, color="#888888", lw=0.8, ls=":")
    ax.set_xlabel("int8 top-1 - fp32 top-1 (points)")
    ax.set_ylabel("int8 speed-up over fp32 (same runtime)")
    ax.set_title(f"Which architectures quantize well · dotted: the {DROP_BOUND:g}-point bound", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return [Plot("int8-speedup-vs-drop", "int8 speed-up against top-1 drop", SECTION, fig)]
