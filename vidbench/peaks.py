"""Peak dense tensor-core throughput of known GPUs, for model FLOPs utilisation (MFU).

Figures are the vendors' dense (no sparsity) peaks in TFLOP/s. In fp32, PyTorch runs convolutions in TF32
when `torch.backends.cudnn.allow_tf32` is set (its default) and matmuls only when
`torch.backends.cuda.matmul.allow_tf32` is (default off), so a model's fp32 peak depends on where its FLOPs
are: `blended_peak_tflops` weighs each op class by its share of the FLOPs (the peak at which the model's
work would take the least time). A GPU not listed gets no MFU rather than a guess.
"""

from __future__ import annotations

# name fragment (matched against torch.cuda.get_device_name, lower case) → precision → TFLOP/s
GPU_PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "h200": {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "h100 sxm": {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "h100 pcie": {"bf16": 756.0, "fp16": 756.0, "tf32": 378.0, "fp32": 51.2},
    "h100": {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "a100": {"bf16": 312.0, "fp16": 312.0, "tf32": 156.0, "fp32": 19.5},
    "l40s": {"bf16": 362.1, "fp16": 362.1, "tf32": 183.0, "fp32": 91.6},
    "l4": {"bf16": 121.0, "fp16": 121.0, "tf32": 60.0, "fp32": 30.3},
    "a10g": {"bf16": 70.0, "fp16": 70.0, "tf32": 35.0, "fp32": 31.2},
    "v100": {"fp16": 125.0, "fp32": 15.7},
    "t4": {"fp16": 65.0, "fp32": 8.1},
}


def peak_tflops(device_name: str | None, precision: str, tf32: bool = False) -> float | None:
    """The device's peak for the precision, or None when the device or the precision is not known."""
    if not device_name:
        return None
    name = device_name.lower()
    for fragment, peaks in GPU_PEAK_TFLOPS.items():  # most specific fragments come first
        if fragment in name:
            key = "tf32" if precision == "fp32" and tf32 and "tf32" in peaks else precision
            return peaks.get(key)
    return None


def blended_peak_tflops(device_name: str | None, precision: str, conv_share: float, tf32_conv: bool,
                        tf32_matmul: bool) -> float | None:
    """The peak that bounds a model whose FLOPs are `conv_share` convolutions (cuDNN) and the rest matmuls
    (cuBLAS), each at its own peak: total FLOPs over the least time the two parts could take. Using the
    plain FP32 peak for a convolution network running in TF32 would give MFU above 100%."""
    conv = peak_tflops(device_name, precision, tf32_conv)
    matmul = peak_tflops(device_name, precision, tf32_matmul)
    if conv is None or matmul is None:
        return None
    share = min(max(conv_share, 0.0), 1.0)
    return 1.0 / (share / conv + (1.0 - share) / matmul)
