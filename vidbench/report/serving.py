"""The serving view: per device, each model and runtime under load (LoadGen's figures: Server's highest rate
within the latency bound and its latency there, Offline samples/s, SingleStream and MultiStream latency, the
verdict), model-only beside end to end with the share of each query spent decoding; the model serving the
most queries per second within the bound, beside its published and measured top-1; and Server's latency
against the offered load, from the rates its search tried."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from vidbench.report.plots import Plot, slug
from vidbench.report.published_join import published_for, published_text
from vidbench.report.tables import Column, formatted

SECTION = "serving"
FIGURES = ("server_max_qps", "server_latency_ms_p99", "offline_samples_s", "ss_latency_ms_p90", "ms_latency_ms_p99")
NOTE = ("Each model behind MLPerf LoadGen's system under test, on the run's runtime: SingleStream (one query at a "
        "time: p90 latency), MultiStream (queries of 8 samples: p99 latency per query), Offline (every sample at "
        "once: samples/s) and Server (Poisson arrivals: the highest rate whose latency at the bound's percentile "
        "stays within the bound, found by doubling then bisecting LoadGen tests; the highest rate within and the "
        "lowest over bracket it; LoadGen's VALID also needs its early stopping, which over a few hundred queries "
        "judges rates near the bound conservatively, so its verdicts are listed beside). Dynamic batching groups waiting queries up to max_batch, a partial batch waiting up "
        "to max_wait_ms. Figures and verdicts are LoadGen's own. Model: a query is a clip decoded before the test; "
        "end to end: each query decodes and transforms its video file (decode share: the part of the system's "
        "busy time spent decoding).")


@dataclass
class ServingView:
    table: pd.DataFrame  # one row per serving run
    best: pd.DataFrame  # per device (and pipeline): the model serving the most queries/s within the bound
    curves: dict  # device → [(label, [(qps, latency, valid)])]


def _serving(row: pd.Series) -> dict:
    detail = row.get("detail")
    return (detail if isinstance(detail, dict) else {}).get("serving") or {}


def _row(row: pd.Series, cache: dict) -> dict:
    serving = _serving(row)
    server = serving.get("server") or {}
    shares = [t.get("decode_share") for t in (serving.get(s) or {} for s in ("single_stream", "offline", "server"))
              if t.get("decode_share") is not None]
    published = published_for(row["model"], row.get("clip_length"), row.get("resolution"), None, cache)
    return {"device": row["device"], "variant": row["variant"], "runtime": row.get("runtime", "eager"),
            "pipeline": serving.get("pipeline", "model"), **{f: row.get(f) for f in FIGURES},
            "bracket": _bracket(server), "valid": _verdicts(serving),
            "decode_share": f"{100 * shares[0]:.0f}%" if shares and serving.get("pipeline") == "end_to_end" else "-",
            "slo": f"p{server.get('percentile', 99):g} ≤ {server.get('slo_ms', 0):g} ms" if server else "-",
            "top1": row.get("top1"), "published": published_text(published) if published else "-"}


def _bracket(server: dict) -> str:
    low, high = server.get("highest_within_qps"), server.get("lowest_over_qps")
    if low is None and high is None:
        return "-"
    return f"{'-' if low is None else f'{low:.1f}'} / {'-' if high is None else f'{high:.1f}'}"


def _verdicts(serving: dict) -> str:
    names = {"single_stream": "SS", "multi_stream": "MS", "offline": "Off", "server": "Srv"}
    return " ".join(f"{names[s]} {serving[s].get('validity') or '?'}" for s in names if s in serving)


def serving_view(frame: pd.DataFrame) -> ServingView | None:
    """The serving comparison, or None when no ok run measured serving."""
    if "server_max_qps" not in frame and "offline_samples_s" not in frame:
        return None
    present = [c for c in FIGURES if c in frame]
    runs = frame[(frame["status"] == "ok") & frame[present].notna().any(axis=1)]
    if runs.empty:
        return None
    cache: dict = {}
    table = pd.DataFrame([_row(r, cache) for _, r in runs.iterrows()])
    table = table.sort_values(["device", "pipeline", "server_max_qps"], ascending=[True, True, False],
                              na_position="last", kind="stable").reset_index(drop=True)
    best = (table[table["server_max_qps"].notna()].groupby(["device", "pipeline"], sort=False).head(1)
            .reset_index(drop=True))
    curves: dict = {}
    for _, row in runs.iterrows():
        search = (_serving(row).get("server") or {}).get("search") or []
        label = f"{row['variant']} · {row.get('runtime', 'eager')} · {_serving(row).get('pipeline', 'model')}"
        points = sorted((p["target_qps"], p["latency_ms"], p.get("within", p.get("valid")))
                        for p in search if p.get("latency_ms") is not None)
        if points:
            curves.setdefault(row["device"], []).append((label, points))
    return ServingView(table, best, curves)


COLUMNS = [Column("variant", "model"), Column("runtime", "runtime"), Column("pipeline", "pipeline"),
           Column("server_max_qps", "max QPS within the bound", formatted(".1f")), Column("slo", "bound"),
           Column("server_latency_ms_p99", "Server latency at the bound's percentile (ms)", formatted(".1f")),
           Column("bracket", "highest within / lowest over (qps)"),
           Column("offline_samples_s", "Offline (samples/s)", formatted(".1f")),
           Column("ss_latency_ms_p90", "SingleStream p90 (ms)", formatted(".2f")),
           Column("ms_latency_ms_p99", "MultiStream p99 (ms)", formatted(".2f")),
           Column("decode_share", "decode share"), Column("valid", "LoadGen's verdicts")]
BEST_COLUMNS = [Column("device", "device"), Column("pipeline", "pipeline"), Column("variant", "serves the most"),
                Column("runtime", "runtime"), Column("server_max_qps", "max QPS within the bound", formatted(".1f")),
                Column("slo", "bound"), Column("top1", "measured top-1 (%)", formatted(".1f")),
                Column("published", "published top-1 (Kinetics-400)")]


def serving_plots(view: ServingView) -> list[Plot]:
    """Per device: Server's latency at the bound's percentile against the offered rate, one line per model,
    runtime and pipeline (hollow: a test over the bound)."""
    import matplotlib.pyplot as plt

    out = []
    for device, curves in view.curves.items():
        fig, ax = plt.subplots(figsize=(6.8, 4.0))
        for label, points in curves:
            qps, latency, valid = zip(*points)
            line, = ax.plot(qps, latency, lw=1.0, label=label)
            ax.scatter(qps, latency, s=18, facecolors=[line.get_color() if v else "none" for v in valid],
                       edgecolors=line.get_color(), zorder=3)
        slos = sorted(set(view.table.loc[view.table["device"] == device, "slo"]) - {"-"})
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (Poisson queries/s, log)")
        ax.set_ylabel("latency at the bound's percentile (ms, log)")
        ax.set_title(f"Server latency against offered load · {device} · bound {', '.join(slos)}\n"
                     "filled: within the bound, hollow: over it", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        out.append(Plot(f"serving-{slug(device)}", f"Server latency against offered load · {device}", SECTION, fig))
    return out
