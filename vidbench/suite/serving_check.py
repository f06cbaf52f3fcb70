"""A serving run checked before any run: LoadGen must be installed, and `pipeline: end_to_end` needs a dataset
of video files (it decodes them inside each query; a synthetic dataset has none to decode)."""

from __future__ import annotations

import importlib.util
from typing import Any

from vidbench.data import dataset_info


def serving_reason(spec: Any) -> str | None:
    """Why a serving run cannot run (None: it can, or the run does not ask for serving)."""
    if "serving" not in spec.metrics:
        return None
    if importlib.util.find_spec("mlperf_loadgen") is None:
        return ("metric serving runs MLPerf LoadGen, which is not installed (package mlcommons-loadgen): "
                "pip install -e '.[serving]'")
    pipeline = spec.serving_block()["pipeline"]
    if pipeline == "end_to_end" and not dataset_info(spec.dataset).accepts("decoder"):
        return (f"serving.pipeline = 'end_to_end' decodes video files inside each query, and dataset "
                f"{spec.dataset!r} has none (use video-folder, ucf101, hmdb51 or kinetics, or pipeline: model)")
    return None
