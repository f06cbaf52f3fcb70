"""int8 runs for tests/backends/test_int8.py, in a process of their own (training in the test process would
leave autograd's threads behind the forks other tests make): c3d_tiny trained to 100% on
synthetic-appearance, then quantized under each runtime; OpenVINO's accuracy control; and one trained model
calibrated on two seeds of its training split; a head whose int8 input loses its signal, without and with
accuracy control (NNCF in the test process would leave threads behind that break later forks). Prints one
JSON line of answers."""

from __future__ import annotations

import json
import sys

import torch

from tests.conftest import TRAIN as DEFAULT_TRAIN
from tests.conftest import make_spec
from vidbench.backends import backend_for
from vidbench.measure.accuracy import evaluate
from vidbench.measure.calibration import calibration_set
from vidbench.run.runner import Measurement, execute

DATA = {"num_classes": 4, "train_size": 48, "val_size": 16}
TRAIN = {**DEFAULT_TRAIN, "epochs": 3, "batch_size": 8, "lr": 0.01}


def int8_spec(runtime: str, seed: int = 0, **calibration) -> object:
    bench = {"warmup": 1, "repeats": 3, "warmup_s": 0.0, "min_time_s": 0.0,
             "calibration": {"samples": 24, "method": "minmax", "max_drop": None, **calibration}}
    return make_spec("c3d_tiny", dataset="synthetic-appearance", dataset_args=DATA, resolution=(32, 32),
                     clip_length=8, batch_size=1, precision="int8", runtime=runtime, seed=seed,
                     metrics=("accuracy", "latency"), train=TRAIN, benchmark=bench)


def answer(result) -> dict:
    return {"status": result.status, "error": result.error, "metrics": result.metrics,
            "int8": result.detail.get("int8"), "parity_clips": result.detail.get("parity_clips")}


def calibrated_on_two_seeds() -> dict:
    """One trained model quantized by ONNX Runtime on two disjoint-seeded draws of its training split."""
    spec = int8_spec("onnxruntime")
    run = Measurement(spec)
    from vidbench.data.loader import make_loader
    from vidbench.measure.training import train_epochs

    model, plan, train_mode = run.trainable_model()
    train_epochs(model, make_loader(run.data.train, 8, shuffle=True, seed=0), spec.train, run.device, "fp32",
                 params=plan.param_groups, train_mode=train_mode)
    model.eval()
    val = make_loader(run.data.val, 8, seed=0)
    out = {"fp32": evaluate(model, val, 4, run.device, "fp32").top1}
    for seed in (1, 2):
        calibration = calibration_set(run.data.train, {"samples": 16, "method": "minmax", "max_drop": None}, seed)
        prepared = backend_for(spec).prepare(model, spec, run.shapes(), calibration=calibration)
        out[f"seed{seed}"] = {"top1": evaluate(prepared.model, val, 4, run.device, "fp32").top1,
                              "indices": list(calibration.indices)}
    return out


class SignalSplit:
    """Label i % 2 in the sign of channel 0 minus channel 1 (±0.05, with noise), channel 2 all 100."""

    def __init__(self, size: int, seed: int):
        self.size, self.seed = size, seed

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(self.seed * 1000 + index)
        label = index % 2
        clip = 0.01 * torch.randn(3, 2, 4, 4, generator=g)
        sign = 1.0 if label == 0 else -1.0
        clip[0] += 0.05 * sign
        clip[1] -= 0.05 * sign
        clip[2] = 100.0
        return clip, label


class OutlierHead(torch.nn.Module):
    """Logits from two small channel means beside a third channel of 100s."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(3, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([[10.0, -10.0, 0.0], [-10.0, 10.0, 0.0]]))
            self.head.bias.zero_()

    def forward(self, x):
        return self.head(x.mean(dim=(2, 3, 4)))


def outlier_head() -> dict:
    """OpenVINO int8 of OutlierHead without and with NNCF's accuracy control, and the top-1 of each."""
    from vidbench.backends.base import Shapes

    model, train, val = OutlierHead().eval(), SignalSplit(64, 0), SignalSplit(32, 1)

    def top1(call) -> float:
        return 100.0 * sum(int(call(val[i][0][None]).argmax(1)[0] == val[i][1]) for i in range(len(val))) / len(val)

    out = {"fp32": top1(model)}
    for name, max_drop in (("plain", None), ("controlled", 1.0)):
        spec = make_spec("c3d_tiny", precision="int8", runtime="openvino", resolution=(4, 4), clip_length=2,
                         batch_size=1, benchmark={"calibration": {"samples": 16, "max_drop": max_drop}})
        settings = {"samples": 16, "method": "minmax", "max_drop": max_drop}
        prepared = backend_for(spec).prepare(model, spec, Shapes(1, 1), calibration=calibration_set(train, settings, 0))
        out[name] = {"top1": top1(prepared.model), **prepared.detail}
    return out


def main(runtimes: list[str]) -> None:
    torch.set_num_threads(1)
    out = {rt: answer(execute(int8_spec(rt))) for rt in runtimes}
    if "openvino" in runtimes:
        out["openvino_control"] = answer(execute(int8_spec("openvino", max_drop=1.0)))
        out["outlier_head"] = outlier_head()
    if "onnxruntime" in runtimes:
        out["seeds"] = calibrated_on_two_seeds()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
