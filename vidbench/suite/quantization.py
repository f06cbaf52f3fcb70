"""An int8 run checked before any run: what its quantizer can honour. Post-training quantization of random
weights measures nothing about the architecture's accuracy, so an int8 accuracy run needs weights that were
trained: its own training (a protocol that trains the encoder) or `weights:`. Entropy calibration is ONNX
Runtime's, accuracy control (`max_drop`) OpenVINO NNCF's."""

from __future__ import annotations

from typing import Any

from vidbench.axes import PROBES, QUANTIZED

FROZEN = (*PROBES, "partial")  # protocols that leave (part of) the encoder as built


def int8_reason(spec: Any) -> str | None:
    """Why an int8 run cannot be honoured (None: it can, or the run is not int8)."""
    if spec.precision != QUANTIZED:
        return None
    calibration = spec.calibration()
    trained = spec.model_args.get("weights") is not None
    protocol = spec.train.get("protocol", "full")
    if "accuracy" in spec.metrics and protocol in FROZEN and not trained:
        return (f"int8 accuracy with train.protocol = {protocol!r} quantizes an encoder left as built (random "
                "weights), which says nothing of the architecture: give the model `weights:` or train it all "
                "(protocol: full)")
    if calibration["method"] == "entropy" and spec.runtime == "openvino":
        return ("benchmark.calibration.method = 'entropy' is ONNX Runtime's calibration; OpenVINO's NNCF calibrates "
                "by 'minmax' or 'percentile'")
    if calibration["max_drop"] is not None:
        if spec.runtime != "openvino":
            return (f"benchmark.calibration.max_drop is OpenVINO NNCF's accuracy control; the {spec.runtime} runtime "
                    "quantizes every layer it can (leave max_drop out, or use runtime openvino)")
        if "accuracy" not in spec.metrics and not trained:
            return ("benchmark.calibration.max_drop judges top-1 on held-out training clips, which random weights "
                    "do not have: add metric accuracy (the model trains first) or give the model `weights:`")
    return None
