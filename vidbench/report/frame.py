"""The tidy table of a run folder, read from the store alone (so any old folder can be re-rendered)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from vidbench.axes import ALWAYS, AXES, AXIS_NAMES, NEUTRAL_TRAIN, resolution_side
from vidbench.errors import UsageError
from vidbench.metrics import COLUMNS_BY_NAME, header, short_header
from vidbench.store.record import result_columns
from vidbench.store.sqlite import STORE_NAME, ResultStore
from vidbench.suite.spec import with_runtime_alias



class Headers(Mapping):
    """Headers of the declared quantities, looked up in the tables at each read (so a metric registered after
    import has its header too): `names()` lists the quantities, `of(name)` heads one."""

    def __init__(self, names: Callable[[], Iterable[str]], of: Callable[[str], str]):
        self._names, self._of = names, of

    def __getitem__(self, name: str) -> str:
        if name not in set(self._names()):
            raise KeyError(name)
        return self._of(name)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._names()))

    def __len__(self) -> int:
        return len(tuple(self._names()))


# Headers of every stored figure and axis (vidbench.metrics, vidbench.axes), and of the run's duration.
UNITS = Headers(lambda: (*COLUMNS_BY_NAME, *AXIS_NAMES, "duration_s"), header)
# Short names of the same quantities, for plot axes and table headers where space is tight.
SHORT_UNITS = Headers(lambda: COLUMNS_BY_NAME, short_header)
# Axes added after stores were written, at the value runs stored before them ran with.
LATE_AXES = {a.name: a.left_out_at for a in AXES if a.left_out_at is not ALWAYS}
# Spec fields that name what was run rather than a setting of it (they are columns of their own).
_NOT_SETTINGS = {"model", "model_args", "dataset", "device", "family", "arch", "metrics"}


@dataclass
class RunFolder:
    folder: Path
    frame: pd.DataFrame  # one row per run, the contract's columns first
    suite_name: str
    suite_yaml: str
    environments: dict[str, dict]  # placement (device, and Ray node) → environment of its latest run there


def require_run_folder(folder: str | Path) -> Path:
    """`folder` when it holds a store; a UsageError otherwise."""
    folder = Path(folder)
    if not (folder / STORE_NAME).is_file():
        raise UsageError(f"{folder} is not a vidbench run folder (no {STORE_NAME})")
    return folder


def load_run_folder(folder: str | Path, details: bool = True) -> RunFolder:
    """The folder's runs. details=False leaves each run's detail and environment unread (empty), which
    is most of the JSON a store holds: for readers of the figures alone (results, compare)."""
    folder = require_run_folder(folder)
    with ResultStore.open_existing(folder) as store:
        rows = store.rows() if details else store.rows(parse=("spec",))
        suite_name = store.get_meta("suite_name") or folder.name
        suite_yaml = store.get_meta("suite_yaml") or ""
    envs = {placement(row["device"], row["env"]): row["env"] for row in rows if row.get("env")}
    frame = pd.DataFrame(rows, columns=[*result_columns(), "suite", "finished_at", "spec", "detail", "env"])
    frame["params"] = frame["params"].astype("Int64")
    frame["node"] = [ray_node(e) for e in frame["env"]]  # None off a cluster: the runs table shows it only on one
    frame["placement"] = [placement(d, e) for d, e in zip(frame["device"], frame["env"])]
    frame["variant"] = [variant_label(m, a) for m, a in zip(frame["model"], frame["model_args"])]
    frame["side"] = frame["resolution"].map(resolution_side).astype("Int64")
    frame["setting"] = [_setting(spec, res, bs) for spec, res, bs in
                        zip(frame["spec"], frame["resolution"], frame["batch_size"])]
    # a serving run's pipeline (model or end_to_end): two runs that differ only by it are told apart by it
    frame["pipeline"] = [((spec or {}).get("serving") or {}).get("pipeline") for spec in frame["spec"]]
    return RunFolder(folder, frame, suite_name, suite_yaml, envs)


def ray_node(env: dict | None) -> str | None:
    """The Ray node a run ran on, as one label ('vm (10.0.0.2), Ray node 1a2b3c4d'); None off a cluster."""
    node = env.get("ray_node") if isinstance(env, dict) else None
    if not node:
        return None
    return f"{node.get('hostname')} ({node.get('ip')}), Ray node {str(node.get('node_id'))[:8]}"


def placement(device: str, env: dict | None) -> str:
    """Where a run ran: its device, and on a Ray cluster its node ('cpu on vm (10.0.0.2), Ray node 1a2b3c4d')."""
    node = ray_node(env)
    return str(device) if node is None else f"{device} on {node}"


def variant_label(model: str, model_args: str | dict | None) -> str:
    """A model and its constructor args, as one name: 'timesformer_tiny[attention=joint]'."""
    args = json.loads(model_args) if isinstance(model_args, str) and model_args else (model_args or {})
    if not args:
        return str(model)
    return f"{model}[{','.join(f'{k}={_arg_text(k, v)}' for k, v in sorted(args.items()))}]"


def _arg_text(key: str, value) -> str:
    """An arg as labels write it; a checkpoint by its file name (the folder is in the suite)."""
    if key == "weights" and isinstance(value, str) and "/" in value:
        return Path(value).name
    return _plain(value)


def _plain(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _setting(spec: dict | None, resolution: str, batch_size) -> dict:
    """Every setting of a run besides model, dataset and device, flattened ('train.lr'): what the
    scaling fits hold fixed, what device comparisons match on, what labels a run among its peers."""
    flat: dict = {}
    # runs stored before an axis existed ran at its neutral value (compiled ones: the inductor runtime)
    spec = with_runtime_alias({**LATE_AXES, **(spec or {})})
    for key, value in spec.items():
        if key in _NOT_SETTINGS:
            continue
        if key == "train":  # runs stored before a train key existed trained at its neutral value
            value = {**NEUTRAL_TRAIN, **value}
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": _plain(v) for k, v in value.items()})
        else:
            flat[key] = _plain(value) if isinstance(value, list) else value
    # The stored figures belong to the resolution label and the batch size that actually ran.
    flat["resolution"] = resolution
    flat["batch_size"] = None if batch_size is None or batch_size != batch_size else int(batch_size)
    return flat


# Axes every runs table shows, varying or not: they say what a run's figures are of.
SHOWN_AXES = ("resolution", "clip_length", "batch_size", "device")


def varying_axes(frame: pd.DataFrame, always: tuple[str, ...] = SHOWN_AXES) -> list[str]:
    """The axes (in table order) a table of `frame`'s rows needs so that no two rows read alike: `always`,
    every other axis taking more than one value among the rows, and `dataset_args` when they differ."""
    def varies(c: str) -> bool:
        return c in frame.columns and frame[c].astype(str).nunique() > 1

    axes = [a for a in AXIS_NAMES if a in always or varies(a)]
    return [*(["dataset_args"] if varies("dataset_args") else []), *axes, *(["pipeline"] if varies("pipeline") else [])]


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns only, for CSV/JSON/Markdown export."""
    return frame[list(result_columns())]


def records_json(table: pd.DataFrame) -> str:
    """A table as a JSON list of records, empty cells as null."""
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return json.dumps(records, indent=2, default=str)


def write_parquet_frame(frame: pd.DataFrame, path: str | Path) -> None:
    """A table as a Parquet file (needs pyarrow)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError("--format parquet needs pyarrow, which is not installed: pip install pyarrow") from None
    frame.to_parquet(path, index=False, engine="pyarrow")
