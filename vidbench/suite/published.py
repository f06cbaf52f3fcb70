"""A model entry at its published test protocol, read from the published table as data.

`protocol: published` (or its older alias `test_views: published`) runs the whole protocol of the model's first
Kinetics-400 result: frames per view, frame stride, crop size, clips × crops and TSN-style single-frame
segments, so the cost measured is the cost of the accuracy beside it. Like `input: default`, it replaces the
suite's clip axes for that entry; a field the source does not state (`Published.unstated`) keeps the suite's
value.
"""

from __future__ import annotations

from typing import Any

from vidbench.errors import RegistryError

VIEW_KEYS = ("test_clips", "test_crops")  # the dataset args the published views set
OPTIONAL_KEYS = ("sampling",)  # set only where the dataset takes them (a noise dataset samples no frames)


def primary(name: str, key: str):
    """The model's first Kinetics-400 result; RegistryError naming `key` where it has none."""
    from vidbench.models.published import no_published_reason, primary_result

    result = primary_result(name)
    if result is None:
        raise RegistryError(f"{key}: published: model {name!r} has no published result "
                            f"({no_published_reason(name) or 'none recorded'})")
    return result


def protocol_axes(result) -> dict[str, Any]:
    """The clip axes the protocol sets: frames, square crop, and the frame stride where stated."""
    axes: dict[str, Any] = {"clip_length": result.frames, "resolution": (result.size, result.size)}
    if result.frame_stride is not None:
        axes["frame_stride"] = result.frame_stride
    return axes


def protocol_dataset_args(result) -> dict[str, Any]:
    """The dataset args the protocol sets: the views, and single-frame segments for TSN-style sampling."""
    args: dict[str, Any] = dict(zip(VIEW_KEYS, (result.clips, result.crops)))
    if result.sampling == "segments":
        args["sampling"] = "segments"
    return args


def entry_clip(name: str, entry, default_input: tuple[int, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(axes, dataset args) an entry sets for model `name`: its published protocol or its default input;
    ({}, {}) when it sets none. An `input:` that differs from the protocol is a
    RegistryError (expansion names the entry and model)."""
    if entry.protocol == "published":
        result = primary(name, "protocol")
        if entry.input == "default" and default_input != (result.frames, result.size):
            raise RegistryError(f"`input: default` ({default_input[0]}x{default_input[1]}²) differs from "
                                f"`protocol: published` ({result.frames}x{result.size}²): drop one of them")
        return protocol_axes(result), protocol_dataset_args(result)
    if entry.input == "default":
        return {"clip_length": default_input[0], "resolution": (default_input[1],) * 2}, {}
    return {}, {}
