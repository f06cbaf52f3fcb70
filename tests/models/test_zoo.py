"""Every registered model is tested by being registered: metadata, build, forward, backward, limits."""

from __future__ import annotations

import faulthandler
import functools
import math
import multiprocessing as mp
import signal
import traceback

import pytest
import torch

from vidbench.measure.flops import count_params, model_cost
from vidbench.models import FAMILIES, InputLimits, create_model, list_models, model_info

ALL_MODELS = list_models()
NUM_CLASSES = 5
# Above this, a forward and backward at batch 2 takes many seconds on one CPU core: such models (whose
# limits force a large clip, e.g. a fixed 16x224x224) train only under `pytest -m slow`.
HEAVY_GMACS = 10.0
# Above this many parameters a model is full-size: its training step runs for real only under `-m slow`
# (building and initialising it alone takes seconds), the default run checks it on the meta device.
FULL_SIZE_PARAMS = 5_000_000


def _round_up(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def small_input(limits: InputLimits, frames: int = 4, size: int = 32) -> tuple[int, int, int]:
    """A small (frames, height, width) the limits accept: near `frames` × `size` px."""
    t = limits.fixed_frames or _round_up(max(frames, limits.min_frames), limits.frame_multiple)
    if limits.fixed_size is not None:
        h, w = limits.fixed_size
    else:
        h = w = _round_up(max(size, limits.min_size), limits.size_multiple)
    return t, h, w


def smallest_input(limits: InputLimits) -> tuple[int, int, int]:
    """The smallest clip the limits claim the model takes."""
    return small_input(limits, frames=1, size=1)


def test_the_registry_holds_every_family():
    assert {model_info(n).family for n in ALL_MODELS} == set(FAMILIES)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_metadata(name):
    info = model_info(name)
    assert info.name == name
    assert info.family in FAMILIES
    assert isinstance(info.arch, str) and info.arch
    # a model source's row (register_table) binds its config into a shared builder: a partial of it
    assert getattr(info.builder, "__name__", name) == name and (callable(info.builder))
    assert info.default_frames > 0 and info.default_size > 0
    limits = info.input_limits()
    assert limits.violation(info.default_frames, info.default_size, info.default_size) is None, (
        "the default input must be one the model's own limits accept")
    assert len(info.mean) == 3 and len(info.std) == 3 and all(s > 0 for s in info.std)


def _child(fn, args, send) -> None:
    faulthandler.disable()  # a crash is reported by the parent, not dumped over the session's output
    try:
        fn(*args)
        send.send(None)
    except BaseException:  # noqa: BLE001 - everything goes back to the parent
        send.send(traceback.format_exc())


def run_in_fork(fn, *args, timeout_s: float = 600) -> None:
    """Run `fn(*args)` in a child forked from a fork server, so a model that kills the interpreter (a
    segfault or abort in a kernel) fails its own test instead of ending the whole session. Assertion
    errors come back. The fork server (started once, torch preloaded) has never run autograd, whatever
    the tests before this one ran in the session's process: autograd refuses to run in a child forked
    after its threads started."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "vidbench.models"])
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(fn, args, send), daemon=True)
    process.start()
    send.close()
    answered = receive.poll(timeout_s)
    message, died = None, False
    if answered:
        try:
            message = receive.recv()
        except EOFError:  # the child died without answering
            died = True
    receive.close()
    if not answered:
        process.kill()
    process.join(10)
    if not answered:
        pytest.fail(f"no answer within {timeout_s} s", pytrace=False)
    if died:
        code = process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        pytest.fail(f"the process running the model died ({how})", pytrace=False)
    if message is not None:
        pytest.fail(message, pytrace=False)


def train_step_check(name: str, shapes: list[tuple[int, int, int]], device: str = "cpu") -> None:
    """Build the model once; for each (T, H, W): a training forward and backward at batch 2, then an
    inference forward at batch 1. On the meta device the shapes, the dtypes and which parameters the loss
    reaches are checked (no values: nothing is computed); on the CPU the values are finite too. The meta
    device runs its ops through Python decompositions (seconds for a large transformer), so there only the
    smallest clip the limits accept trains and is inferred (the small clip's inference forward on the meta
    device is test_num_classes_sets_the_head's)."""
    torch.manual_seed(0)
    with torch.device(device):
        model = create_model(name, num_classes=NUM_CLASSES)
    assert isinstance(model, torch.nn.Module)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert params
    real = device != "meta"
    shapes = shapes if real else shapes[-1:]
    for t, h, w in shapes:
        model.train()
        model.zero_grad(set_to_none=True)
        logits = model(torch.randn(2, 3, t, h, w, device=device))
        assert logits.shape == (2, NUM_CLASSES), (t, h, w)
        assert logits.dtype == torch.float32
        assert not real or torch.isfinite(logits).all(), (t, h, w)
        torch.nn.functional.cross_entropy(logits, torch.tensor([0, NUM_CLASSES - 1], device=device)).backward()
        no_grad = [n for n, p in params if p.grad is None]
        assert not no_grad, f"{(t, h, w)}: parameters that the loss does not reach: {no_grad[:5]}"
        assert all(p.grad.shape == p.shape for _, p in params), (t, h, w)
        assert not real or all(torch.isfinite(p.grad).all() for _, p in params), (t, h, w)
    model.eval()
    with torch.no_grad():
        for t, h, w in shapes:
            assert model(torch.randn(1, 3, t, h, w, device=device)).shape == (1, NUM_CLASSES), (t, h, w)


def check_shapes(name: str) -> list[tuple[int, int, int]]:
    """A small clip near 4 frames x 32 px, and the smallest clip the model's limits accept: suites are
    checked against the limits, and a run trains, so every clip the limits accept must train."""
    limits = model_info(name).input_limits()
    shapes = list(dict.fromkeys([small_input(limits), smallest_input(limits)]))
    assert all(limits.violation(*shape) is None for shape in shapes)
    return shapes


def is_heavy(name: str, shapes) -> tuple[bool, str]:
    """Whether training at these shapes is too slow for the default run (counted on the meta device)."""
    gmacs = max(model_cost(name, NUM_CLASSES, {}, *shape).gmacs for shape in shapes)
    return gmacs > HEAVY_GMACS, f"{gmacs:.1f} GMACs per clip at {shapes[0]}"


@functools.cache
def param_count(name: str) -> int:
    """The model's parameters at NUM_CLASSES classes, counted once per test process on the meta device
    (the tests of this module and test_heads ask it of every model)."""
    with torch.device("meta"):
        return count_params(create_model(name, num_classes=NUM_CLASSES))


def is_full_size(name: str) -> bool:
    """A model above the tiny presets' size: trained for real only by the slow suite; the default run
    checks its training step on the meta device (shapes and gradients)."""
    return param_count(name) > FULL_SIZE_PARAMS


@pytest.mark.parametrize("name", ALL_MODELS)
def test_builds_and_trains_on_small_clips(name):
    shapes = check_shapes(name)
    if is_full_size(name):
        train_step_check(name, shapes, device="meta")
        return
    heavy, cost = is_heavy(name, shapes)
    if heavy:
        pytest.skip(f"{cost}, the smallest its limits allow: trained by the slow suite (-m slow)")
    run_in_fork(train_step_check, name, shapes)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_full_size_and_heavy_models_build_and_train(name):
    shapes = check_shapes(name)
    heavy, cost = is_heavy(name, shapes)
    if not heavy and not is_full_size(name):
        pytest.skip(f"{cost}: trained by the default run")
    run_in_fork(train_step_check, name, shapes)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_num_classes_sets_the_head(name):
    info = model_info(name)
    with torch.device("meta"):
        model = create_model(name, num_classes=3)
        t, h, w = small_input(info.input_limits())
        assert model.eval()(torch.empty(1, 3, t, h, w)).shape == (1, 3)


def _order_changes_output(name: str, **args) -> bool:
    torch.manual_seed(0)
    model = create_model(name, num_classes=NUM_CLASSES, **args).eval()
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        forward, backward = model(clips), model(clips.flip(2))
    return not torch.allclose(forward, backward, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(("name", "args"), [("tsn_tiny", {}), ("tsn_tiny", {"consensus": "max"}),
                                             ("timesformer_tiny", {"attention": "space_only"})])
def test_order_agnostic_models_ignore_frame_order(name, args):
    assert not _order_changes_output(name, **args)


@pytest.mark.parametrize(("name", "args"), [
    ("c3d_tiny", {}), ("tsm_tiny", {}), ("lrcn_tiny", {}),
    ("lrcn_tiny", {"rnn": "gru", "bidirectional": True, "pooling": "mean"}),
    ("timesformer_tiny", {"attention": "divided"}), ("timesformer_tiny", {"attention": "joint"}),
])
def test_temporal_models_see_frame_order(name, args):
    assert _order_changes_output(name, **args)


@pytest.mark.parametrize("attention", ["divided", "joint", "space_only"])
def test_timesformer_takes_clips_other_than_its_build_size(attention):
    # Space and time embeddings are interpolated, so resolution and clip-length sweeps work.
    model = create_model("timesformer_tiny", num_classes=4, attention=attention, img_size=32, num_frames=8).eval()
    with torch.no_grad():
        for t, h, w in [(8, 32, 32), (3, 48, 48), (16, 32, 64)]:
            assert model(torch.randn(1, 3, t, h, w)).shape == (1, 4)


def test_timesformer_patch_size_changes_its_limits():
    info = model_info("timesformer_tiny")
    assert info.input_limits({"patch_size": 4}).violation(8, 36, 36) is None
    assert info.input_limits({"patch_size": 8}).violation(8, 36, 36) is not None
    model = create_model("timesformer_tiny", num_classes=4, patch_size=4).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 4, 36, 36)).shape == (1, 4)


@pytest.mark.parametrize(("name", "args"), [("tsn_tiny", {"consensus": "median"}),
                                             ("lrcn_tiny", {"rnn": "transformer"}),
                                             ("lrcn_tiny", {"pooling": "max"}),
                                             ("timesformer_tiny", {"attention": "axial"})])
def test_bad_knob_values_are_rejected_at_build_time(name, args):
    with pytest.raises(ValueError, match=repr(next(iter(args.values())))):
        create_model(name, num_classes=4, **args)


def test_width_knob_scales_the_tiny_models():
    for name in ("tsn_tiny", "c3d_tiny", "lrcn_tiny"):
        small = sum(p.numel() for p in create_model(name, num_classes=4, width=8).parameters())
        large = sum(p.numel() for p in create_model(name, num_classes=4, width=16).parameters())
        assert large > small, name
