"""Write a small folder of real video files (root/<class>/<video>.mp4, H.264 or MPEG-4 through PyAV) for
suites that decode video inside each query (`suites/serving.yaml`'s end-to-end runs): each class a colour
of moving blobs, like `synthetic-appearance`, so a trained model can tell them apart.

    python scripts/make_videos.py data/serving-videos --classes 4 --per-class 8 --frames 48 --size 128x170
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path

import av
import numpy as np


def frames_of(label: int, classes: int, seed: int, count: int, height: int, width: int):
    """Frames of one video: three blobs of the class's hue drifting over a dark background."""
    rng = np.random.default_rng(seed)
    rgb = np.array(colorsys.hsv_to_rgb(label / classes, 0.9, 0.9)) * 255
    starts = rng.uniform(0, 1, (3, 2)) * (height, width)
    velocity = rng.uniform(-1.5, 1.5, (3, 2))
    ys, xs = np.mgrid[0:height, 0:width]
    for t in range(count):
        image = np.full((height, width, 3), 20.0)
        for (y, x), (vy, vx) in zip(starts, velocity):
            cy, cx = (y + vy * t) % height, (x + vx * t) % width
            mask = (ys - cy) ** 2 + (xs - cx) ** 2 < (min(height, width) / 6) ** 2
            image[mask] = rgb
        yield (image + rng.normal(0, 6, image.shape)).clip(0, 255).astype(np.uint8)


def write(path: Path, frames, height: int, width: int, fps: int = 25) -> None:
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "23", "preset": "veryfast"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", default="128x170", help="HxW")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    for label in range(args.classes):
        for k in range(args.per_class):
            write(args.out / f"class{label}" / f"video{k:02d}.mp4",
                  frames_of(label, args.classes, 1000 * label + k, args.frames, height, width), height, width)
    print(f"{args.classes * args.per_class} videos under {args.out}")


if __name__ == "__main__":
    main()
