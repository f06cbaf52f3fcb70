"""OpenVINO's int8 through NNCF: `nncf.quantize` calibrated on the training clips, or, with `max_drop`,
`nncf.quantize_with_accuracy_control` judging top-1 (in percent, an absolute drop in points) on the held-out
training clips. NNCF's progress bars and log go to the run's detail, not to the worker's terminal."""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

# NNCF's range estimators by the suite's method name (`entropy` is ONNX Runtime's alone, refused at admission)
RANGES = {"minmax": "MINMAX", "percentile": "MEAN_QUANTILE"}
LOG_LINES = 20  # the last lines of NNCF's log kept in the run's detail


def quantize_ir(ir: Any, calibration) -> tuple[Any, list[str]]:
    """`ir` quantized to int8 on `calibration` (a CalibrationSet); NNCF's log lines beside it."""
    import nncf
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    ranges = getattr(RangeEstimatorParametersSet, RANGES[calibration.method])
    advanced = AdvancedQuantizationParameters(activations_range_estimator_params=ranges)
    clips = nncf.Dataset(calibration.clips(), lambda clip: clip.numpy())
    options = {"subset_size": len(calibration.indices), "advanced_parameters": advanced}
    with _captured() as log:
        if calibration.max_drop is None:
            quantized = nncf.quantize(ir, clips, **options)
        else:
            held_out = nncf.Dataset(calibration.labelled(), lambda item: item[0].numpy())
            options["advanced_quantization_parameters"] = options.pop("advanced_parameters")
            quantized = nncf.quantize_with_accuracy_control(
                ir, clips, held_out, validate_top1, max_drop=calibration.max_drop, drop_type=nncf.DropType.ABSOLUTE,
                **options)
    return quantized, log.lines()[-LOG_LINES:]


def validate_top1(compiled, items) -> tuple[float, list[float]]:
    """Top-1 (%) of a compiled model on (clip, label) items, with each item's 0/100 (NNCF ranks operations by
    how they change the per-item values)."""
    output = compiled.output(0)
    correct = [100.0 * float(compiled(clip.numpy())[output].argmax(axis=1)[0] == label) for clip, label in items]
    return sum(correct) / max(len(correct), 1), correct


class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    def lines(self) -> list[str]:
        return [line.strip() for text in self.records for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def _captured():
    """NNCF's logger into a list (not propagated), its progress bars (printed to stdout) discarded."""
    from nncf.common.logging import nncf_logger

    handler = _Log()
    handlers, propagate = list(nncf_logger.handlers), nncf_logger.propagate
    for old in handlers:
        nncf_logger.removeHandler(old)
    nncf_logger.addHandler(handler)
    nncf_logger.propagate = False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield handler
    finally:
        nncf_logger.removeHandler(handler)
        for old in handlers:
            nncf_logger.addHandler(old)
        nncf_logger.propagate = propagate
