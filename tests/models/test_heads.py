"""Every registered model declares its classifier head, and pretrained weights of any class count start it:
the declared head makes the logits, and a checkpoint with another head loads everything else."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.models.test_zoo import ALL_MODELS, FULL_SIZE_PARAMS, is_full_size, is_heavy, param_count, small_input
from vidbench.models import create_model, model_info
from vidbench.models.weights import load_report, plan_weights

NUM_CLASSES = 7
# Above this many parameters (C3D, Swin3D-S/B, the ViT-B video transformers and up) initialising a model takes
# a second or more: the default run checks their head on the meta device (the declared head is the last layer
# run, with one output per class); `-m slow` builds them for real (test_the_head_alone_sets_the_logits_full_size).
REAL_BUILD_PARAMS = 40_000_000


def meta_model(name: str, num_classes: int = NUM_CLASSES) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, num_classes=num_classes).eval()


def head_keys(model: nn.Module, head: tuple[str, ...]) -> list[str]:
    return [k for k in model.state_dict() if k.startswith(tuple(f"{h}." for h in head))]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_the_declared_head_is_the_last_layer_and_has_one_output_per_class(name):
    """On the meta device: the head's weight has num_classes rows, and of the modules holding parameters
    it is the last one a forward pass runs."""
    head = model_info(name).head
    assert head, f"{name} declares no head"
    model = meta_model(name)
    for path in head:
        assert model.get_submodule(path).weight.shape[0] == NUM_CLASSES, path
    ran = []
    for path, module in model.named_modules():
        if path and any(True for _ in module.parameters(recurse=False)):
            module.register_forward_hook(lambda m, i, o, path=path: ran.append(path))
    with torch.device("meta"):
        clip = torch.empty(1, 3, *small_input(model_info(name).input_limits()))
    assert model(clip).shape == (1, NUM_CLASSES)
    assert ran[-1] in head, f"the last layer run is {ran[-1]!r}, not the declared head {head}"


def head_alone_check(name: str) -> None:
    """With the head's weight zeroed, the logits are its bias whatever the clip: nothing after it changes them."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=NUM_CLASSES).eval()
    bias = torch.randn(NUM_CLASSES)
    for path in model_info(name).head:
        layer = model.get_submodule(path)
        with torch.no_grad():
            layer.weight.zero_()
            layer.bias.copy_(bias)
    with torch.no_grad():
        logits = model(torch.randn(2, 3, *small_input(model_info(name).input_limits())))
    assert torch.allclose(logits, bias.expand(2, -1), atol=1e-6)


def _light(name: str) -> str | None:
    """Why the default run does not build `name` for real (None: it does)."""
    params = param_count(name)  # cached: asked first, it spares the large models a FLOP count
    if params > REAL_BUILD_PARAMS:
        return f"{params / 1e6:.0f} M parameters: initialising them takes seconds; the meta-device test covers it"
    heavy, cost = is_heavy(name, [small_input(model_info(name).input_limits())])
    if heavy:
        return f"{cost}: the meta-device test covers it"
    return None


@pytest.mark.parametrize("name", ALL_MODELS)
def test_the_head_alone_sets_the_logits(name):
    reason = _light(name)
    if reason:
        pytest.skip(reason)
    head_alone_check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_the_head_alone_sets_the_logits_full_size(name):
    if _light(name) is None:
        pytest.skip("built for real by the default run")
    head_alone_check(name)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_a_checkpoint_with_another_class_count_loads_all_but_the_head(name):
    """Kinetics-400 weights for a 7-class dataset: keys and shapes only, on the meta device."""
    info = model_info(name)
    model = meta_model(name)
    own = model.state_dict()
    load, report = plan_weights(own, meta_model(name, 400).state_dict(), "k400.pt", name, info.arch, info.head)
    assert report.reinitialised == tuple(head_keys(model, info.head))
    assert report.layout == "native" and report.loaded == len(own) - len(report.reinitialised) == len(load)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_create_model_fine_tunes_from_another_class_count(name, tmp_path):
    """End to end on the small models: every backbone tensor equals the checkpoint's, the head is fresh."""
    if is_full_size(name):
        pytest.skip(f"above {FULL_SIZE_PARAMS / 1e6:.0f} M parameters: the meta-device test of its keys covers it")
    torch.manual_seed(0)
    source = create_model(name, num_classes=400).state_dict()
    path = tmp_path / "k400.pt"
    torch.save(source, path)
    torch.manual_seed(1)
    fresh = create_model(name, num_classes=NUM_CLASSES).state_dict()
    torch.manual_seed(1)
    model = create_model(name, num_classes=NUM_CLASSES, weights=str(path))
    head = set(load_report(model).reinitialised)
    assert head == set(head_keys(model, model_info(name).head))
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh[key] if key in head else source[key]), key


@pytest.mark.parametrize("head, declared", [("fc", ("fc",)), (["blocks.6.proj", "aux"], ("blocks.6.proj", "aux")),
                                            (None, ())])
def test_register_model_keeps_the_head_as_module_paths(head, declared, isolated_registries):
    from vidbench.models import register_model

    @register_model(family="cnn", head=head)
    def heads_declared(num_classes: int = 400):
        return nn.Linear(2, num_classes)

    assert model_info("heads_declared").head == declared
