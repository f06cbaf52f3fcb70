"""Published accuracy of every full-size model: the figure a source reports, with its test protocol.

Each `Published` entry is one row of one source: the dataset, top-1 / top-5 (percent), the test protocol
(frames T × crop size S², views = temporal clips × spatial crops), the pretraining and the source, named
precisely enough to find the row again. Nothing here is vidbench's own measurement.

- torchvision's models (r3d_18, mc3_18, r2plus1d_18, s3d, mvit_v1_b, mvit_v2_s, swin3d_t/s/b) take theirs
  from torchvision's weights metadata (`meta["_metrics"]`; the protocol from `meta["_docs"]`,
  which states `clip_len`, `clips_per_video` and `frame_rate`, and from the weights' transforms: one
  resize, then one centre crop of `crop_size`). torchvision's reference evaluation
  (references/video_classification/train.py, `evaluate`) averages the softmax of `clips_per_video`
  uniformly spaced clips per video ("video-level"), each one centre crop. They are written out here
  (`TORCHVISION_RESULTS`), so reading them needs no torchvision; a test holds them equal to the metadata
  (`torchvision_published` reads it).
- vidbench's own implementations take theirs from the official model zoo or release of the network they
  implement (`OWN_RESULTS`), which names the file and row each figure comes from.
- A full-size model that no source reports on Kinetics-400 has an explicit reason (`NO_PUBLISHED`).
- Tiny presets (names ending in `_tiny`) have none.

This is a pure data table, read by the models and by the reports alike: each family file's
`register_model(published=PUBLISHED[name])` (or `no_published=NO_PUBLISHED[name]`) takes its entry from here,
and the queries below answer from what a model registered, or from this table for a name not registered in
this process (a report read from a store without the models loaded). It imports no torch and nothing of
vidbench at import time; torchvision only inside `torchvision_published`, the registry (no torch either)
only inside the queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

K400 = "Kinetics-400"
SSV2 = "Something-Something v2"
DATASETS = (K400, SSV2)
SCRATCH = "none (from scratch)"
TINY_SUFFIX = "_tiny"

__all__ = [
    "DATASETS", "FULL_SIZE", "K400", "NO_PUBLISHED", "OWN_RESULTS", "PUBLISHED", "SSV2", "TINY_REASON",
    "TORCHVISION_PRETRAINING", "TORCHVISION_RESULTS", "TORCHVISION_WEIGHTS",
    "Published", "full_size_models", "no_published_reason", "primary_result", "published_results",
    "torchvision_published",
]


SAMPLINGS = ("dense", "segments")  # frames `frame_stride` apart, or one frame per segment (TSN)
PROTOCOL_FIELDS = ("frame_stride", "resize", "sampling")  # the protocol fields a source may leave unstated


@dataclass(frozen=True)
class Published:
    """One published result: `top1`/`top5` in percent (`top5` None where the source gives none), measured
    with `clips` temporal clips × `crops` spatial crops of `frames` frames at `size`×`size` px each.

    The rest of the test protocol, as the source states it: `frame_stride` (the sampling rate, in frames
    of the video), `resize` (`(256,)`: the short side; `(128, 171)`: frames resized to h × w) before
    cropping, and `sampling` (`segments`: one frame per segment, TSN). A field the source does not state
    is None, with its reason in `unstated` (field, why): never a guess."""

    dataset: str
    top1: float
    top5: float | None
    frames: int
    size: int
    clips: int
    crops: int
    pretraining: str
    source: str
    note: str = ""  # protocol details the fields do not carry
    frame_stride: int | None = None
    resize: tuple[int, ...] | None = None
    sampling: str | None = "dense"
    unstated: tuple[tuple[str, str], ...] = ()  # (field, why the source does not state it)

    def __post_init__(self):
        if self.sampling is not None and self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling {self.sampling!r}: use one of {', '.join(SAMPLINGS)}")

    def unknown(self, field: str) -> str | None:
        """Why `field` is None (None: it is stated); a row without its reason says it is not recorded
        (tests/models/test_published.py holds every built-in row to a reason)."""
        if getattr(self, field) is not None:
            return None
        return dict(self.unstated).get(field, "not recorded in vidbench.models.published")

    @property
    def views(self) -> int:
        """Views averaged per video: temporal clips × spatial crops."""
        return self.clips * self.crops

    @property
    def input(self) -> str:
        """One view's clip, as `vidbench models` writes inputs: frames x height x width."""
        return f"{self.frames}x{self.size}x{self.size}"

    @property
    def protocol(self) -> str:
        """E.g. "16x224x224, 10x3 views"."""
        return f"{self.input}, {self.clips}x{self.crops} views"

    @property
    def resize_text(self) -> str | None:
        """'short side 256' or '128x171'; None where unstated."""
        if self.resize is None:
            return None
        return f"short side {self.resize[0]}" if len(self.resize) == 1 else "x".join(map(str, self.resize))


# --- torchvision's models: its weights metadata is the source --------------------------------------------

# model → torchvision weight sets (fully qualified, for torchvision.models.get_weight), DEFAULT first.
TORCHVISION_WEIGHTS: dict[str, tuple[str, ...]] = {
    "r3d_18": ("R3D_18_Weights.KINETICS400_V1",),
    "mc3_18": ("MC3_18_Weights.KINETICS400_V1",),
    "r2plus1d_18": ("R2Plus1D_18_Weights.KINETICS400_V1",),
    "s3d": ("S3D_Weights.KINETICS400_V1",),
    "mvit_v1_b": ("MViT_V1_B_Weights.KINETICS400_V1",),
    "mvit_v2_s": ("MViT_V2_S_Weights.KINETICS400_V1",),
    "swin3d_t": ("Swin3D_T_Weights.KINETICS400_V1",),
    "swin3d_s": ("Swin3D_S_Weights.KINETICS400_V1",),
    "swin3d_b": ("Swin3D_B_Weights.KINETICS400_V1", "Swin3D_B_Weights.KINETICS400_IMAGENET22K_V1"),
}

# torchvision's metadata does not state the pretraining; each weight's "recipe" page does.
_TV_SCRATCH = ("none (from scratch on Kinetics-400; torchvision references/video_classification recipe, "
               "no --weights)")
TORCHVISION_PRETRAINING: dict[str, str] = {
    "R3D_18_Weights.KINETICS400_V1": _TV_SCRATCH,
    "MC3_18_Weights.KINETICS400_V1": _TV_SCRATCH,
    "R2Plus1D_18_Weights.KINETICS400_V1": _TV_SCRATCH,
    "S3D_Weights.KINETICS400_V1": _TV_SCRATCH,
    "MViT_V1_B_Weights.KINETICS400_V1": ("none (from scratch; ported from the MViT-B 16x4 release, PySlowFast "
                                         "configs/Kinetics/MVIT_B_16x4_CONV.yaml loads no checkpoint)"),
    "MViT_V2_S_Weights.KINETICS400_V1": ("none (from scratch; ported from PySlowFast MViTv2-S 16x4, "
                                         "configs/Kinetics/MVITv2_S_16x4.yaml loads no checkpoint)"),
    "Swin3D_T_Weights.KINETICS400_V1": "ImageNet-1k (Video Swin Transformer README, Kinetics 400 table)",
    "Swin3D_S_Weights.KINETICS400_V1": "ImageNet-1k (Video Swin Transformer README, Kinetics 400 table)",
    "Swin3D_B_Weights.KINETICS400_V1": "ImageNet-1k (Video Swin Transformer README, Kinetics 400 table)",
    "Swin3D_B_Weights.KINETICS400_IMAGENET22K_V1": ("ImageNet-22k (Video Swin Transformer README, Kinetics 400 "
                                                    "table)"),
}

_DOCS_PARAM = re.compile(r"`(\w+)=([0-9.]+)`")
_DOCS_LEVEL = re.compile(r"estimated on (\w+)-level")


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _tv_stride(frame_rate: float | None) -> tuple[str, str]:
    return ("frame_stride", f"torchvision resamples each video to frame_rate={frame_rate} fps and takes consecutive "
                            "frames: a stride in the video's own frames depends on its frame rate")


def _torchvision_row(weights: str, dataset: str, top1: float, top5: float | None, frames: int, crop: tuple[int, int],
                     clips: int, level: str, frame_rate: float | None, resize: object, recipe: str) -> Published:
    """One torchvision weight set's result, worded the same whether written out or read from its metadata."""
    sized = isinstance(resize, (list, tuple))
    return Published(
        frame_stride=None, resize=tuple(resize) if sized else None,
        unstated=(_tv_stride(frame_rate),) + (() if sized else (("resize", "no resize_size in the weights' transforms"),)),
        dataset=dataset, top1=top1, top5=top5, frames=frames, size=crop[0], clips=clips,
        crops=1,  # the weights' transforms (and so the reference evaluation) take one centre crop
        pretraining=TORCHVISION_PRETRAINING.get(weights, "not stated in torchvision's metadata"),
        source=f"torchvision weights metadata {weights} (meta['_metrics'], protocol from meta['_docs']; "
               f"recipe {recipe})",
        note=f"{level}-level accuracy; frame_rate={frame_rate}; frames resized to {resize}, then one centre crop "
             f"{crop[0]}x{crop[1]}",
    )


def torchvision_published(weights: str) -> Published:
    """The result torchvision's metadata gives for a weight set, e.g. "R3D_18_Weights.KINETICS400_V1"."""
    from torchvision.models import get_weight

    entry = get_weight(weights)
    meta = entry.meta
    (dataset, metrics), = meta["_metrics"].items()
    params = {k: _number(v) for k, v in _DOCS_PARAM.findall(meta["_docs"])}
    keywords = getattr(entry.transforms, "keywords", None) or {}
    crop_size = keywords.get("crop_size") or tuple(entry.transforms().crop_size)
    resize_size = keywords.get("resize_size")
    level = _DOCS_LEVEL.search(meta["_docs"])
    return _torchvision_row(weights, dataset, metrics["acc@1"], metrics.get("acc@5"), params["clip_len"], crop_size,
                            params["clips_per_video"], level.group(1) if level else "video",
                            params.get("frame_rate"), list(resize_size) if resize_size else "?",
                            meta.get("recipe", "?"))


_TV_RECIPE = "https://github.com/pytorch/vision/tree/main/references/video_classification"
_SWIN_RECIPE = "https://github.com/SwinTransformer/Video-Swin-Transformer#kinetics-400"


def _tv(weights: str, top1: float, top5: float, frames: int, crop: int, clips: int, frame_rate: float,
        resize: list[int], recipe: str, level: str = "video") -> Published:
    return _torchvision_row(weights, K400, top1, top5, frames, (crop, crop), clips, level, frame_rate, resize, recipe)


# What torchvision's metadata states for each weight set (torchvision 0.29), written out: reading it needs no
# torchvision, and a report renders the same later (tests/models/test_published.py holds it to the metadata).
TORCHVISION_RESULTS: dict[str, tuple[Published, ...]] = {
    "r3d_18": (_tv("R3D_18_Weights.KINETICS400_V1", 63.2, 83.479, 16, 112, 5, 15, [128, 171], _TV_RECIPE),),
    "mc3_18": (_tv("MC3_18_Weights.KINETICS400_V1", 63.96, 84.13, 16, 112, 5, 15, [128, 171], _TV_RECIPE),),
    "r2plus1d_18": (_tv("R2Plus1D_18_Weights.KINETICS400_V1", 67.463, 86.175, 16, 112, 5, 15, [128, 171],
                        _TV_RECIPE),),
    "s3d": (_tv("S3D_Weights.KINETICS400_V1", 68.368, 88.05, 128, 224, 1, 15, [256, 256], f"{_TV_RECIPE}#s3d",
                level="clip"),),
    "mvit_v1_b": (_tv("MViT_V1_B_Weights.KINETICS400_V1", 78.477, 93.582, 16, 224, 5, 7.5, [256],
                      "https://github.com/facebookresearch/pytorchvideo/blob/main/docs/source/model_zoo.md"),),
    "mvit_v2_s": (_tv("MViT_V2_S_Weights.KINETICS400_V1", 80.757, 94.665, 16, 224, 5, 7.5, [256],
                      "https://github.com/facebookresearch/SlowFast/blob/main/MODEL_ZOO.md"),),
    "swin3d_t": (_tv("Swin3D_T_Weights.KINETICS400_V1", 77.715, 93.519, 32, 224, 12, 15, [256], _SWIN_RECIPE),),
    "swin3d_s": (_tv("Swin3D_S_Weights.KINETICS400_V1", 79.521, 94.158, 32, 224, 12, 15, [256], _SWIN_RECIPE),),
    "swin3d_b": (_tv("Swin3D_B_Weights.KINETICS400_V1", 79.427, 94.386, 32, 224, 12, 15, [256], _SWIN_RECIPE),
                 _tv("Swin3D_B_Weights.KINETICS400_IMAGENET22K_V1", 81.643, 95.574, 32, 224, 12, 15, [256],
                     _SWIN_RECIPE)),
}


# --- own implementations: the official zoo of the network vidbench implements ----------------------------

_PYSLOWFAST_ZOO = "PySlowFast MODEL_ZOO.md (facebookresearch/SlowFast)"
_PTV_ZOO = ("PyTorchVideo model zoo, Kinetics-400 (pytorchvideo docs/source/model_zoo.md = PySlowFast "
            "projects/pytorchvideo/README.md)")
_PTV_ZOO_PYSLOWFAST = ("PyTorchVideo model zoo in PySlowFast (facebookresearch/SlowFast "
                       "projects/pytorchvideo/README.md)")
_VMZ = ("facebookresearch/VMZ tutorials/models.md (Caffe2 release; the authors' table 'equivalent to Table 2' of "
        "Tran et al., A Closer Look at Spatiotemporal Convolutions, CVPR 2018), Video@1/Video@5")
_VMZ_NOTE = ("trained from scratch on Kinetics at this clip length; video accuracy averages 10 clips per video, "
             "one centre 112 crop of 128x171 frames (VMZ tools/test_net.py: clip_per_video=10, crop_per_clip=1)")
_MMACTION2 = "mmaction2 configs/recognition"
_IMAGENET_1K = "ImageNet-1k"
# Why a protocol field is None (Published.unstated):
_SEGMENT_STRIDE = ("frame_stride", "one frame per segment: a frame stride does not apply")
_SSV2 = "not recorded for Something-Something v2 rows (`protocol: published` runs the Kinetics-400 row)"
_SSV2_UNSTATED = (("frame_stride", _SSV2), ("resize", _SSV2))
# PySlowFast (and its forks: TimeSformer) scale the short side to TEST_CROP_SIZE when testing 3 spatial crops
# (slowfast/datasets/kinetics.py: min_scale = max_scale = crop_size = TEST_CROP_SIZE).
_PYSLOWFAST_3CROP = "short side = TEST_CROP_SIZE under 3 spatial crops (PySlowFast datasets/kinetics.py)"


def _unstated(field: str, what: str) -> tuple[str, str]:
    return (field, f"{what} does not state it")


def _videomaev2_k400(top1: float, top5: float, post: str, row: str) -> Published:
    """A VideoMAE V2 ViT-giant Kinetics-400 fine-tune row: 16 frames, 5 clips x 3 crops at 224."""
    return Published(K400, top1, top5, 16, 224, 5, 3,
                     f"UnlabeledHybrid self-supervised (VideoMAE V2 dual masking, 1200 ep), {post}",
                     f"VideoMAE V2 docs/MODEL_ZOO.md (OpenGVLab/VideoMAEv2), Fine-tune table, ViT-giant {row} row",
                     "dense sampling; #Frame 16x5x3; 'all the input resolution is 224^2'", frame_stride=None,
                     unstated=(_unstated("frame_stride", "the MODEL_ZOO row"), _unstated("resize", "the MODEL_ZOO row")))


def _videomaev2_distilled(size: str, top1: float, checkpoint: str) -> Published:
    """A VideoMAE V2 distilled student (the same ViT-S/B as VideoMAE's: modeling_finetune.py vit_small/base_
    patch16_224) on Kinetics-400: a different checkpoint of this architecture, 16 frames, 5 clips x 3 crops."""
    return Published(K400, top1, None, 16, 224, 5, 3,
                     "UnlabeledHybrid self-supervised ViT-g teacher (VideoMAE V2), student initialised from its "
                     "post-pre-trained model and distilled on K710 from vit_g_hybrid_pt_1200e_k710_ft",
                     f"VideoMAE V2 docs/MODEL_ZOO.md (OpenGVLab/VideoMAEv2), Distillation table, {size} row "
                     f"({checkpoint}), K400 Top-1 column",
                     "#Frame 16x5x3; top-5 not given; the table's next row ('fine-tuning accuracy', 16x7x3) is after "
                     "further fine-tuning on the dataset", frame_stride=None,
                     unstated=(_unstated("frame_stride", "the Distillation table"),
                               _unstated("resize", "the Distillation table")))


def _vmz(row: str, clip16: tuple[float, float], clip8: tuple[float, float]) -> tuple[Published, ...]:
    """A "Closer Look" 18-layer network: VMZ's 16- and 8-frame rows (16 frames first: vidbench's input)."""
    return tuple(
        Published(K400, top1, top5, frames, 112, 10, 1, SCRATCH, f"{_VMZ}, row {row} {frames}x112x112", _VMZ_NOTE,
                  frame_stride=None, resize=(128, 171),
                  unstated=(_unstated("frame_stride", "VMZ's table (or the test_net.py args quoted)"),))
        for frames, (top1, top5) in ((16, clip16), (8, clip8))
    )


def _x3d(name: str, frames: int, rate: int, train_crop: int, test_crop: int, top1_10view: float,
         top1_30view: float, ptv: tuple[float, float], ptv_source: str) -> tuple[Published, ...]:
    config = f"configs/Kinetics/X3D_{name}.yaml"
    sampling = f"{frames}x{rate} (frames x sampling rate)"
    return (
        Published(K400, top1_30view, None, frames, test_crop, 10, 3, SCRATCH,
                  f"{_PYSLOWFAST_ZOO}, 'X3D models' table, X3D {name}, 'top1 30-view' column; protocol: {config} "
                  f"(TEST.NUM_SPATIAL_CROPS 3, TEST_CROP_SIZE {test_crop}; 10 ensemble views by default)",
                  f"{sampling}; the original X3D release (Feichtenhofer, X3D, CVPR 2020); top-5 not given; "
                  f"{_PYSLOWFAST_3CROP}", frame_stride=rate, resize=(test_crop,)),
        Published(K400, top1_10view, None, frames, train_crop, 10, 1, SCRATCH,
                  f"{_PYSLOWFAST_ZOO}, 'X3D models' table, X3D {name}, 'top1 10-view' column; protocol: {config} "
                  f"('TEST_CROP_SIZE: {train_crop} # use if TEST.NUM_SPATIAL_CROPS: 1')",
                  f"{sampling}; 10 clips x 1 centre crop at the training crop; top-5 not given",
                  frame_stride=rate, resize=None,
                  unstated=(("resize", "with 1 spatial crop PySlowFast scales the short side to the config's "
                                       "TRAIN_JITTER_SCALES[0], which this row does not record"),)),
        Published(K400, ptv[0], ptv[1], frames, test_crop, 10, 3, SCRATCH,
                  f"{ptv_source}, X3D {name} row; protocol: PySlowFast configs/Kinetics/pytorchvideo/X3D_{name}.yaml "
                  f"(TEST_CROP_SIZE {test_crop}, 3 spatial crops x 10 clips)",
                  f"{sampling}; PyTorchVideo's re-trained X3D; {_PYSLOWFAST_3CROP}", frame_stride=rate,
                  resize=(test_crop,)),
    )


OWN_RESULTS: dict[str, tuple[Published, ...]] = {
    # C3D: GluonCV's c3d_kinetics400 is vidbench's c3d exactly (8 convolutions, no BatchNorm, pool5 → 8192 → fc6
    # 4096 → fc7 4096). VMZ's Kinetics C3D is a different network (BatchNorm, 4608-wide fc6, 64.9M params).
    "c3d": (
        Published(K400, 59.5, None, 16, 112, 10, 3, SCRATCH,
                  "GluonCV model zoo (MXNet), action recognition, Kinetics400 table: c3d_kinetics400 "
                  "(dmlc/gluon-cv docs/model_zoo/csv_tables/Action_Recognitions/Kinetics400.csv)",
                  "clip length '16 (32/2)': 16 frames at stride 2; 112x112; '30 views for 3D networks (10 clips "
                  "and 3-crop)' (docs/model_zoo/action_recognition_mxnet.rst); top-5 not given",
                  frame_stride=2, resize=None, unstated=(_unstated("resize", "GluonCV's table or its notes"),)),
    ),
    "i3d_r50": (
        Published(K400, 73.5, 90.8, 8, 256, 10, 3, SCRATCH,
                  f"{_PYSLOWFAST_ZOO}, 'Kinetics 400 and 600' table, I3D R50 8 x 8 (Kinetics/c2/I3D_8x8_R50)",
                  "8x8 (frames x sampling rate); crops x clips 3 x 10; TEST_CROP_SIZE 256 "
                  f"(configs/Kinetics/c2/I3D_8x8_R50.yaml); {_PYSLOWFAST_3CROP}", frame_stride=8, resize=(256,)),
        Published(K400, 73.27, 90.70, 8, 256, 10, 3, SCRATCH, f"{_PTV_ZOO}, I3D R50 8x8 row",
                  "8x8; 'Flops (G) x views' 37.53 x 3 x 10; TEST_CROP_SIZE 256 "
                  f"(PySlowFast configs/Kinetics/pytorchvideo/I3D_8x8_R50.yaml); {_PYSLOWFAST_3CROP}",
                  frame_stride=8, resize=(256,)),
    ),
    "slowfast_r50": (
        Published(K400, 77.0, 92.6, 32, 256, 10, 3, SCRATCH,
                  f"{_PYSLOWFAST_ZOO}, 'Kinetics 400 and 600' table, SlowFast R50 8 x 8 "
                  "(Kinetics/c2/SLOWFAST_8x8_R50)",
                  "8x8: the slow pathway sees 8 of the clip's 32 frames (NUM_FRAMES 32, SAMPLING_RATE 2); crops x "
                  f"clips 3 x 10; TEST_CROP_SIZE 256 (configs/Kinetics/c2/SLOWFAST_8x8_R50.yaml); {_PYSLOWFAST_3CROP}",
                  frame_stride=2, resize=(256,)),
        Published(K400, 76.94, 92.69, 32, 256, 10, 3, SCRATCH, f"{_PTV_ZOO}, SlowFast R50 8x8 row",
                  "'Flops (G) x views' 65.71 x 3 x 10; NUM_FRAMES 32, TEST_CROP_SIZE 256 "
                  f"(PySlowFast configs/Kinetics/pytorchvideo/SLOWFAST_8x8_R50.yaml); {_PYSLOWFAST_3CROP}",
                  frame_stride=2, resize=(256,)),
        Published(SSV2, 61.68, 86.92, 32, 256, 1, 3,
                  "Kinetics-400 (supervised SlowFast R50 8x8)",
                  "PyTorchVideo model zoo, Something-Something V2 table (pytorchvideo docs/source/model_zoo.md), "
                  "SlowFast R50 8x8 row",
                  "'Flops (G) x views' 66.60 x 3 x 1; NUM_FRAMES 32, TEST_CROP_SIZE 256, NUM_ENSEMBLE_VIEWS 1, "
                  "NUM_SPATIAL_CROPS 3 (PySlowFast configs/SSv2/pytorchvideo/SLOWFAST_8x8_R50.yaml)",
                  sampling=None, unstated=(*_SSV2_UNSTATED, ("sampling", _SSV2))),
    ),
    "x3d_xs": _x3d("XS", 4, 12, 160, 182, 68.7, 69.5, (69.12, 88.63), _PTV_ZOO),
    "x3d_s": _x3d("S", 13, 6, 160, 182, 73.1, 73.5, (73.33, 91.27), _PTV_ZOO),
    "x3d_m": _x3d("M", 16, 5, 224, 256, 75.1, 76.2, (75.94, 92.72), _PTV_ZOO),
    "x3d_l": _x3d("L", 16, 5, 312, 356, 76.9, 77.5, (77.44, 93.31), _PTV_ZOO_PYSLOWFAST),
    # "A Closer Look" (Tran et al. 2018), 18 layers. vidbench's r2d_18 is, at its default stem_frames=1, the
    # paper's f-R2D (frame-wise 2D convolutions): VMZ's fR2D-18 row (27.6 GFLOPs, 11.4M at 16x112², as here).
    # r3d_18, mc3_18 and r2plus1d_18 are torchvision's and take torchvision's figures (above).
    "r2d_18": _vmz("fR2D-18", (60.9, 81.9), (60.0, 81.8)),
    "mc2_18": _vmz("MC2-18", (64.8, 85.1), (63.0, 83.8)),
    "mc4_18": _vmz("MC4-18", (65.6, 85.6), (63.0, 84.2)),
    "mc5_18": _vmz("MC5-18", (65.6, 85.5), (62.9, 84.2)),
    "rmc2_18": _vmz("rMC2-18", (65.4, 85.5), (62.7, 83.9)),
    "rmc3_18": _vmz("rMC3-18", (65.5, 85.7), (62.8, 83.7)),
    "rmc4_18": _vmz("rMC4-18", (65.6, 85.3), (62.8, 83.3)),
    "rmc5_18": _vmz("rMC5-18", (63.5, 84.2), (61.6, 83.1)),
    # TSN scores single frames (one per segment) and averages them: 25 frames x 10 crops = 250 views.
    "tsn_resnet18": (
        Published(K400, 65.5, None, 1, 224, 25, 10, _IMAGENET_1K,
                  "GluonCV model zoo (MXNet), action recognition, Kinetics400 table: resnet18_v1b_kinetics400 "
                  "(TSN; dmlc/gluon-cv docs/model_zoo/csv_tables/Action_Recognitions/Kinetics400.csv)",
                  "trained with 7 segments; tested with '250 views for 2D networks (25 frames and 10-crop)' "
                  "(docs/model_zoo/action_recognition_mxnet.rst); ResNet-18 v1b = torchvision's ResNet-18; "
                  "top-5 not given", sampling="segments", frame_stride=None, resize=None,
                  unstated=(_SEGMENT_STRIDE, _unstated("resize", "GluonCV's table or its notes"))),
    ),
    "tsn_resnet50": (
        Published(K400, 74.12, 91.34, 1, 224, 25, 10, _IMAGENET_1K,
                  f"{_MMACTION2}/tsn/README.md, Kinetics-400, 1x1x8 ResNet50 row "
                  "(tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb)",
                  "trained with 8 segments; testing protocol '25 clips x 10 crop': SampleFrames clip_len=1, "
                  "num_clips=25, Resize short side 256, TenCrop 224", sampling="segments", frame_stride=None,
                  resize=(256,), unstated=(_SEGMENT_STRIDE,)),
        Published(SSV2, 35.51, 67.09, 1, 224, 25, 10, _IMAGENET_1K,
                  f"{_MMACTION2}/tsn/README.md, Something-Something V2, 1x1x8 ResNet50 row "
                  "(tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb)",
                  "trained with 8 segments; testing protocol '25 clips x 10 crop' (TenCrop 224)",
                  sampling="segments", unstated=_SSV2_UNSTATED),
    ),
    "tsm_resnet50": (
        Published(K400, 74.1, None, 8, 256, 10, 3, _IMAGENET_1K,
                  "TSM authors' model zoo (mit-han-lab/temporal-shift-module README), Kinetics-400 'Dense Sample' "
                  "table, TSM ResNet50 8 * 10clips (Lin et al., TSM, ICCV 2019, Table 1)",
                  "I3D dense sampling, 10 clips; test_models.py --test_crops=3 --dense_sample --full_res: 3 crops "
                  "of 256 (scale_size); ImageNet-pretrained torchvision ResNet-50; top-5 not given",
                  frame_stride=None, resize=(256,),
                  unstated=(_unstated("frame_stride", "the README row (I3D dense sampling, no stride quoted)"),)),
        Published(K400, 73.18, 90.56, 8, 224, 1, 10, _IMAGENET_1K,
                  f"{_MMACTION2}/tsm/README.md, Kinetics-400, 1x1x8 ResNet50 row "
                  "(tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb)",
                  "uniform sampling of 8 segments (the 8-frame clip, one clip); '8 clips x 10 crop': TenCrop 224",
                  sampling="segments", unstated=(_SEGMENT_STRIDE, _unstated("resize", "the README row quoted"))),
        Published(SSV2, 62.72, 87.70, 8, 256, 2, 3, _IMAGENET_1K,
                  f"{_MMACTION2}/tsm/README.md, Something-something V2, 1x1x8 ResNet50 row "
                  "(tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb)",
                  "8 segments, twice_sample=True (2 clips), ThreeCrop 256", sampling="segments",
                  unstated=_SSV2_UNSTATED),
    ),
    **{name: (Published(K400, top1, top5, frames, size, 1, 3,
                        "ImageNet-21k pre-trained, ImageNet-1k fine-tuned ViT-B/16 (timm jx_vit_base_p16_224, loaded "
                        "by TimeSformer's vit.py)",
                        f"TimeSformer README model zoo (facebookresearch/TimeSformer), {row} K400 {frames} frames "
                        f"{size} row",
                        f"divided space-time attention; configs/Kinetics/{config}: {frames} frames at sampling rate "
                        f"{stride}, TEST_CROP_SIZE {size}, NUM_ENSEMBLE_VIEWS 1, NUM_SPATIAL_CROPS 3; the README notes "
                        f"the released models were re-trained; {_PYSLOWFAST_3CROP}", frame_stride=stride,
                        resize=(size,)),)
       for name, row, top1, top5, frames, size, stride, config in (
           ("timesformer_hr", "TimeSformer-HR", 79.6, 94.0, 16, 448, 16, "TimeSformer_divST_16x16_448.yaml"),
           ("timesformer_l", "TimeSformer-L", 80.6, 94.7, 96, 224, 4, "TimeSformer_divST_96x4_224.yaml"))},
    "timesformer_b": (
        Published(K400, 77.9, 93.2, 8, 224, 1, 3,
                  "ImageNet-21k pre-trained, ImageNet-1k fine-tuned ViT-B/16 (timm jx_vit_base_p16_224, loaded by "
                  "TimeSformer's vit.py)",
                  "TimeSformer README model zoo (facebookresearch/TimeSformer), TimeSformer K400 8 frames 224 row",
                  "divided space-time attention; configs/Kinetics/TimeSformer_divST_8x32_224.yaml: 8 frames at "
                  "sampling rate 32, TEST_CROP_SIZE 224, NUM_ENSEMBLE_VIEWS 1, NUM_SPATIAL_CROPS 3; the README "
                  "notes the released models were re-trained, so they may differ slightly from the paper's; "
                  f"{_PYSLOWFAST_3CROP} (TimeSformer is built on PySlowFast)", frame_stride=32, resize=(224,)),
        Published(SSV2, 59.1, 85.6, 8, 224, 1, 3,
                  "ImageNet-21k pre-trained, ImageNet-1k fine-tuned ViT-B/16 (timm jx_vit_base_p16_224, loaded by "
                  "TimeSformer's vit.py)",
                  "TimeSformer README model zoo (facebookresearch/TimeSformer), TimeSformer SSv2 8 frames 224 row",
                  "configs/SSv2/TimeSformer_divST_8_224.yaml: TEST_CROP_SIZE 224, NUM_ENSEMBLE_VIEWS 1, "
                  "NUM_SPATIAL_CROPS 3", sampling=None, unstated=(*_SSV2_UNSTATED, ("sampling", _SSV2))),
    ),
    "videomae_vit_s": (
        Published(K400, 79.0, 93.8, 16, 224, 5, 3, "Kinetics-400 self-supervised (VideoMAE, 1600 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Kinetics-400, ViT-S 1600 epochs, #Frame 16x5x3",
                  "I3D dense sampling (sampling_rate 4); finetune.sh: --test_num_segment 5 --test_num_crop 3, "
                  "input 224", frame_stride=4,
                  unstated=(_unstated("resize", "the MODEL_ZOO row (or the finetune.sh args quoted)"),)),
        Published(SSV2, 66.8, 90.3, 16, 224, 2, 3, "Something-Something v2 self-supervised (VideoMAE, 2400 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Something-Something V2, ViT-S 2400 epochs, "
                  "#Frame 16x2x3",
                  "TSN uniform sampling; finetune.sh: --test_num_segment 2 --test_num_crop 3, input 224",
                  sampling="segments", unstated=_SSV2_UNSTATED),
        _videomaev2_distilled("ViT-small", 83.7, "vit_s_k710_dl_from_giant.pth"),
    ),
    "videomae_vit_b": (
        Published(K400, 81.5, 95.1, 16, 224, 5, 3, "Kinetics-400 self-supervised (VideoMAE, 1600 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Kinetics-400, ViT-B 1600 epochs, #Frame 16x5x3",
                  "I3D dense sampling (sampling_rate 4); finetune.sh: --test_num_segment 5 --test_num_crop 3, "
                  "input 224", frame_stride=4,
                  unstated=(_unstated("resize", "the MODEL_ZOO row (or the finetune.sh args quoted)"),)),
        Published(SSV2, 70.8, 92.4, 16, 224, 2, 3, "Something-Something v2 self-supervised (VideoMAE, 2400 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Something-Something V2, ViT-B 2400 epochs, "
                  "#Frame 16x2x3",
                  "TSN uniform sampling; finetune.sh: --test_num_segment 2 --test_num_crop 3, input 224",
                  sampling="segments", unstated=_SSV2_UNSTATED),
        _videomaev2_distilled("ViT-base", 86.6, "vit_b_k710_dl_from_giant.pth"),
    ),
    # vidbench's vivit_b is the factorised encoder (Model 2), so the FE row; the unfactorised ViViT-B/16x2
    # (79.9) is a different network.
    "vivit_b": (
        Published(K400, 78.4, None, 32, 224, 4, 3, "ImageNet-21k (ViT-B/16 initialisation)",
                  "Scenic ViViT model zoo (google-research/scenic scenic/projects/vivit/README.md), "
                  "ViViT-B/16x2 FE, Kinetics 400, views 4x3",
                  "32 frames at stride 2, crop 224 (configs/kinetics400/vivit_base_factorised_encoder.py: "
                  "num_test_clips 4, do_three_spatial_crops); top-5 not given", frame_stride=2,
                  unstated=(_unstated("resize", "the Scenic README row (or the config keys quoted)"),)),
    ),
    # issue 26: the Hugging Face model source (vidbench/models/hf_video.py)
    "videomae_vit_l": (
        Published(K400, 85.2, 96.8, 16, 224, 5, 3, "Kinetics-400 self-supervised (VideoMAE, 1600 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Kinetics-400, ViT-L 1600 epochs, #Frame 16x5x3 "
                  "(also mmaction2 configs/recognition/videomae/README.md, ViT large, reference top1 85.2 / top5 96.8)",
                  "I3D dense sampling (sampling_rate 4); finetune.sh: --test_num_segment 5 --test_num_crop 3, "
                  "input 224", frame_stride=4,
                  unstated=(_unstated("resize", "the MODEL_ZOO row (or the finetune.sh args quoted)"),)),
    ),
    "videomae_vit_h": (
        Published(K400, 86.6, 97.1, 16, 224, 5, 3, "Kinetics-400 self-supervised (VideoMAE, 1600 ep)",
                  "VideoMAE MODEL_ZOO.md (MCG-NJU/VideoMAE), Kinetics-400, ViT-H 1600 epochs, #Frame 16x5x3",
                  "I3D dense sampling (sampling_rate 4); 5 temporal clips x 3 crops, input 224", frame_stride=4,
                  unstated=(_unstated("resize", "the MODEL_ZOO row"),)),
    ),
    "videomaev2_vit_g": (
        _videomaev2_k400(87.2, 97.4, "no post-pre-training", "vit_g_hybrid_pt_1200e_k400_ft"),
        _videomaev2_k400(88.4, 98.0, "then K710 supervised post-pre-training", "vit_g_hybrid_pt_1200e_k710_it_k400_ft"),
        Published(SSV2, 77.0, 95.9, 16, 224, 2, 3, "UnlabeledHybrid self-supervised (VideoMAE V2, 1200 ep)",
                  "VideoMAE V2 docs/MODEL_ZOO.md (OpenGVLab/VideoMAEv2), Fine-tune table, ViT-giant "
                  "vit_g_hybrid_pt_1200e_ssv2_ft row",
                  "sparse (TSN) sampling on SSv2; #Frame 16x2x3; input 224^2", sampling="segments",
                  unstated=_SSV2_UNSTATED),
    ),
    "vjepa2_vit_l": (
        Published(SSV2, 73.7, None, 16, 256, 2, 3,
                  "V-JEPA 2 self-supervised pre-training; encoder frozen, attentive probe trained on SSv2",
                  "V-JEPA 2 README (facebookresearch/vjepa2), Evaluation Attentive Probes table, ViT-L/16 row, "
                  "SSv2 result (checkpoint ssv2-vitl-16x2x3.pt)",
                  "attentive probe on the frozen encoder, not a fine-tune (configs/inference/vitl/ssv2.yaml: "
                  "num_probe_blocks 4, frames_per_clip 16, frame_step 4, num_segments 2, num_views_per_segment 3, "
                  "resolution 256); the same row gives Diving48 89.0%; no Kinetics-400 result in the README; "
                  "top-5 not given", frame_stride=4,
                  unstated=(_unstated("resize", "configs/inference/vitl/ssv2.yaml (resolution 256 only)"),)),
    ),
    "vjepa2_vit_g_384": (
        Published(SSV2, 77.3, None, 64, 384, 2, 3,
                  "V-JEPA 2 self-supervised pre-training (384 px); encoder frozen, attentive probe trained on SSv2",
                  "V-JEPA 2 README (facebookresearch/vjepa2), Evaluation Attentive Probes table, ViT-g/16 384 row, "
                  "SSv2 result (checkpoint ssv2-vitg-384-64x2x3.pt)",
                  "attentive probe on the frozen encoder, not a fine-tune (configs/inference/vitg-384/ssv2.yaml: "
                  "num_probe_blocks 4, frames_per_clip 64, frame_step 2, num_segments 2, num_views_per_segment 3, "
                  "resolution 384); the same row gives Diving48 90.2%; no Kinetics-400 result in the README; "
                  "top-5 not given", frame_stride=2,
                  unstated=(_unstated("resize", "configs/inference/vitg-384/ssv2.yaml (resolution 384 only)"),)),
    ),
}

_LRCN_REASON = (
    "No published Kinetics-400 result: LRCN (Donahue et al., CVPR 2015) predates Kinetics (its activity recognition "
    "results are on UCF101), "
    "and no model zoo searched (torchvision, PySlowFast/PyTorchVideo, mmaction2, GluonCV) releases a "
    "{backbone} + {rnn} recognizer; vidbench's LRCN-style composition (torchvision ImageNet backbone, pooled "
    "per-frame features, a 256-unit {rnn}) matches no published model."
)

NO_PUBLISHED: dict[str, str] = {
    **{name: (f"No published Kinetics-400 result: {name} is a template whose 2D backbone is any timm architecture "
              "named by its `backbone` arg; a published result belongs to a named checkpoint of a named backbone, "
              "not to the template.") for name in ("tsn_timm", "tsm_timm", "lrcn_timm")},
    "vjepa2_vit_h": (
        "No published result recorded: V-JEPA 2's README (facebookresearch/vjepa2) releases attentive-probe "
        "results only for ViT-L/16 and ViT-g/16 384 (SSv2, Diving48); the paper's (arXiv 2506.09985) probe table "
        "for ViT-H/16 256, Kinetics-400 included, was not checked against its source by vidbench, so no figure is "
        "recorded rather than one guessed."
    ),
    "vjepa2_vit_g": (
        "No published result recorded: V-JEPA 2's README (facebookresearch/vjepa2) releases attentive-probe "
        "results only for ViT-L/16 and ViT-g/16 384 (SSv2, Diving48); the paper's (arXiv 2506.09985) probe table "
        "for ViT-g/16 256, Kinetics-400 included, was not checked against its source by vidbench, so no figure is "
        "recorded rather than one guessed."
    ),
    "lrcn_resnet18_lstm": _LRCN_REASON.format(backbone="ResNet-18", rnn="LSTM"),
    "lrcn_resnet18_gru": _LRCN_REASON.format(backbone="ResNet-18", rnn="GRU"),
    "lrcn_resnet50_lstm": _LRCN_REASON.format(backbone="ResNet-50", rnn="LSTM"),
    "lrcn_mobilenet_v3_gru": _LRCN_REASON.format(backbone="MobileNetV3-Large", rnn="GRU"),
    "convlstm": (
        "No published Kinetics-400 result: ConvLSTM (Shi et al., NeurIPS 2015) is a precipitation-nowcasting model "
        "(Moving MNIST, radar echo), not an action recognizer; vidbench's convlstm is a small CPU-sized network "
        "(two conv stages and one ConvLSTM layer at 8x32x32) that no source reports on Kinetics."
    ),
    "tsm_resnet18": (
        "No published Kinetics-400 result: the TSM authors' model zoo (mit-han-lab/temporal-shift-module README) "
        "releases Kinetics-400 TSM models over ResNet-50 (also ResNet-50 NL, ResNeXt-101, MobileNetV2) and "
        "mmaction2's TSM zoo over ResNet-50, MobileNetV2 and MobileOne-S4, none over ResNet-18; vidbench composes "
        "it from TSM's residual shift and torchvision's ResNet-18."
    ),
}


PUBLISHED: dict[str, tuple[Published, ...]] = {**TORCHVISION_RESULTS, **OWN_RESULTS}  # model → its results
TINY_REASON = "a tiny preset (CPU-sized variant): no source reports on it"


# --- queries: what a model registered, else this table ----------------------------------------------------------

def _declared(model_name: str) -> tuple[tuple[Published, ...], str | None]:
    """The results and the reason the model registered; the table's for a name not registered in this
    process (a store read without the models); RegistryError for a name neither knows."""
    from vidbench.models.registry import model_info, registered

    info = registered(model_name)
    if info is not None:
        return info.published, info.no_published
    if model_name not in PUBLISHED and model_name not in NO_PUBLISHED:
        model_info(model_name)  # the registry's RegistryError, naming the closest model
    return PUBLISHED.get(model_name, ()), NO_PUBLISHED.get(model_name)


def full_size_models() -> list[str]:
    """Every registered model whose name does not end with `_tiny`, sorted (read from the registry now)."""
    from vidbench.models.registry import list_models

    return [name for name in list_models() if not name.endswith(TINY_SUFFIX)]


def __getattr__(name: str):
    if name == "FULL_SIZE":  # computed on access: the registry can grow after this module is imported
        return tuple(full_size_models())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def published_results(model_name: str) -> tuple[Published, ...]:
    """The published results of a model, the primary one first; () for tiny presets and for models no
    source reports on (see `no_published_reason`). RegistryError for an unknown name."""
    results, _ = _declared(model_name)
    return () if model_name.endswith(TINY_SUFFIX) else results


def primary_result(model_name: str, dataset: str = K400) -> Published | None:
    """The first published result of the model on `dataset`, or None."""
    return next((r for r in published_results(model_name) if r.dataset == dataset), None)


def no_published_reason(model_name: str) -> str | None:
    """Why the model has no published result; None exactly when `published_results` has some."""
    results, reason = _declared(model_name)
    if model_name.endswith(TINY_SUFFIX):
        return TINY_REASON
    if results:
        return None
    return reason or f"no published result is recorded for {model_name!r} in vidbench.models.published"
