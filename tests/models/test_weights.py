"""Local weights: resolving a checkpoint path or a torchvision weight-set name in the torch cache,
reading it with `weights_only=True`, unwrapping it, and refusing one that does not fit the model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from vidbench.errors import RegistryError
from vidbench.models import create_model, register_model
from vidbench.models.weights import load_weights, resolve_weights

ENUM = "R3D_18_Weights"  # a real torchvision weight enum; only its checkpoint's file name is used
CACHED_NAME = "r3d_18-b3b3357e.pth"  # the basename of R3D_18_Weights.KINETICS400_V1.url (= DEFAULT)


def tiny(num_classes: int = 5) -> nn.Module:
    """Parameters and buffers (BatchNorm's running stats): both must come from the checkpoint."""
    return nn.Sequential(nn.Conv3d(3, 4, 1), nn.BatchNorm3d(4), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                         nn.Linear(4, num_classes))


def trained(seed: int = 0, num_classes: int = 5) -> nn.Module:
    """A tiny model whose every tensor differs from a freshly built one."""
    torch.manual_seed(seed)
    model = tiny(num_classes)
    with torch.no_grad():
        for t in model.state_dict().values():
            t.copy_(torch.randn_like(t.float()).abs().to(t.dtype) + (3 if t.dtype == torch.long else 0))
    return model


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def save(obj, path: Path) -> Path:
    torch.save(obj, path)
    return path


class NotATensor:
    """A pickled object of an arbitrary class: what `torch.load(weights_only=True)` refuses."""


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache under tmp_path; returns its checkpoints folder (not created)."""
    root = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(root))
    return root / "checkpoints"


@pytest.fixture
def cached(hub) -> Path:
    """R3D_18_Weights' checkpoint file, present (as junk bytes) in the torch hub cache."""
    hub.mkdir(parents=True)
    (hub / CACHED_NAME).write_bytes(b"x")
    return hub / CACHED_NAME


# -- resolving --------------------------------------------------------------------------------------
def test_an_existing_file_resolves_to_itself_with_or_without_an_enum(tmp_path):
    path = save({}, tmp_path / "w.pt")
    assert resolve_weights(str(path), None) == path
    assert resolve_weights(str(path), ENUM) == path


def test_a_home_relative_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = save({}, tmp_path / "w.pt")
    assert resolve_weights("~/w.pt", None) == path


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    missing = str(tmp_path / "nope.pt")
    with pytest.raises(RegistryError, match=f"weights file {re.escape(repr(missing))} does not exist"):
        resolve_weights(missing, None)


@pytest.mark.parametrize("name", ["KINETICS400_V1", "DEFAULT"])
def test_without_an_enum_a_weight_set_name_is_only_a_missing_file(name, cached):
    with pytest.raises(RegistryError, match="does not exist"):
        resolve_weights(name, None)


@pytest.mark.parametrize("name", ["sub/KINETICS400_V1", "KINETICS400_V1.pt"])
def test_a_name_with_a_folder_or_suffix_is_a_path_even_with_an_enum(name, cached):
    with pytest.raises(RegistryError, match="does not exist"):
        resolve_weights(name, ENUM)


@pytest.mark.parametrize("name", ["KINETICS400_V1", "DEFAULT"])
def test_a_weight_set_name_resolves_to_its_file_in_the_torch_cache(name, cached):
    assert resolve_weights(name, ENUM) == cached


def test_a_weight_set_not_in_the_cache_is_an_error_and_nothing_is_downloaded(hub):
    with pytest.raises(RegistryError) as info:
        resolve_weights("KINETICS400_V1", ENUM)
    message = str(info.value)
    assert "not in the torch cache" in message and str(hub / CACHED_NAME) in message
    assert "downloads nothing" in message
    assert not hub.exists()  # nothing was fetched into it


@pytest.mark.parametrize("name, enum", [("NO_SUCH_SET", ENUM), ("kinetics400_v1", ENUM), ("DEFAULT", "No_Weights")])
def test_an_unknown_weight_set_is_an_error_naming_the_enum(name, enum, hub):
    with pytest.raises(RegistryError, match=f"not a file, and not one of {enum}'s weight sets"):
        resolve_weights(name, enum)


# -- loading ----------------------------------------------------------------------------------------
def test_a_saved_state_dict_loads_every_tensor(tmp_path):
    source = trained()
    path = save(source.state_dict(), tmp_path / "w.pt")
    model = tiny()
    with pytest.raises(AssertionError):
        assert_same_state(model, source)  # the test means something: a fresh model differs
    load_weights(model, str(path), "tiny")
    assert_same_state(model, source)
    x = torch.randn(2, 3, 2, 4, 4)
    assert torch.equal(model.eval()(x), source.eval()(x))


@pytest.mark.parametrize("key", ["state_dict", "model", "module"])
def test_a_wrapped_checkpoint_is_unwrapped(key, tmp_path):
    source = trained()
    path = save({key: source.state_dict(), "epoch": 7, "note": "kept alongside"}, tmp_path / "w.pt")
    model = tiny()
    load_weights(model, str(path), "tiny")
    assert_same_state(model, source)


def test_a_data_parallel_prefix_is_stripped(tmp_path):
    source = trained()
    path = save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, tmp_path / "w.pt")
    model = tiny()
    load_weights(model, str(path), "tiny")
    assert_same_state(model, source)


def test_a_weight_set_name_loads_the_cached_checkpoint(hub):
    source = trained()
    hub.mkdir(parents=True)
    save(source.state_dict(), hub / CACHED_NAME)
    model = tiny()
    load_weights(model, "KINETICS400_V1", "tiny", ENUM)
    assert_same_state(model, source)


def test_create_model_loads_weights_by_path_and_by_weight_set(tmp_path, hub, isolated_registries):
    @register_model(family="cnn", torchvision_weights=ENUM)
    def weights_tiny(num_classes: int = 400):
        return tiny(num_classes)

    source = trained(num_classes=3)
    path = save(source.state_dict(), tmp_path / "w.pt")
    assert_same_state(create_model("weights_tiny", num_classes=3, weights=str(path)), source)
    hub.mkdir(parents=True)
    save(source.state_dict(), hub / CACHED_NAME)
    assert_same_state(create_model("weights_tiny", num_classes=3, weights="DEFAULT"), source)
    with pytest.raises(RegistryError, match="do not fit model 'weights_tiny'"):
        create_model("weights_tiny", num_classes=4, weights=str(path))


def test_a_file_that_is_no_checkpoint_cannot_be_read(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"definitely not a torch checkpoint")
    with pytest.raises(RegistryError, match=f"weights {re.escape(repr(str(path)))} cannot be read: "):
        load_weights(tiny(), str(path), "tiny")


def test_a_checkpoint_holding_arbitrary_objects_is_refused_unread(tmp_path):
    source = trained()
    path = save({"state_dict": source.state_dict(), "extra": NotATensor()}, tmp_path / "w.pt")
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RegistryError, match="cannot be read: UnpicklingError"):
        load_weights(model, str(path), "tiny")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("checkpoint", [
    {"epoch": 3, "lr": 0.1},
    {"state_dict": {"0.weight": torch.zeros(1), "step": 3}},
    [torch.zeros(1)],
    torch.zeros(1),
])
def test_a_checkpoint_without_a_tensor_dict_is_an_error(checkpoint, tmp_path):
    path = save(checkpoint, tmp_path / "w.pt")
    with pytest.raises(RegistryError, match=f"weights {re.escape(repr(str(path)))}: checkpoint holds no state dict "
                                            "of tensors"):
        load_weights(tiny(), str(path), "tiny")


# -- refusing a checkpoint that does not fit ---------------------------------------------------------
def fit_error(state: dict, tmp_path: Path, model: nn.Module | None = None) -> str:
    path = save(state, tmp_path / "w.pt")
    model = model if model is not None else tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RegistryError) as info:
        load_weights(model, str(path), "tiny")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing half-loaded
    message = str(info.value)
    assert message.startswith(f"weights {str(path)!r} do not fit model 'tiny': ")
    return message.split(": ", 1)[1]


def test_missing_keys_are_counted_and_named(tmp_path):
    state = trained().state_dict()
    del state["4.bias"]
    assert fit_error(state, tmp_path) == "1 missing key(s) (4.bias)"


def test_more_than_three_missing_keys_are_cut_short(tmp_path):
    state = {k: v for k, v in trained().state_dict().items() if not k.startswith("1.")}  # BatchNorm's 5 tensors
    problem = fit_error(state, tmp_path)
    assert problem == "5 missing key(s) (1.bias, 1.num_batches_tracked, 1.running_mean, …)"


def test_unexpected_keys_are_counted_and_named(tmp_path):
    state = {**trained().state_dict(), "head.weight": torch.zeros(2), "aux.bias": torch.zeros(1)}
    assert fit_error(state, tmp_path) == "2 unexpected key(s) (aux.bias, head.weight)"


def test_a_shape_mismatch_names_both_shapes(tmp_path):
    state = trained(num_classes=7).state_dict()  # the head has 7 classes, the model 5
    problem = fit_error(state, tmp_path)
    assert problem == "2 shape mismatch(es) (4.weight: checkpoint (7, 4) vs model (5, 4); …)"


def test_every_kind_of_mismatch_is_reported_at_once(tmp_path):
    state = trained(num_classes=7).state_dict()
    del state["0.bias"]
    state["extra"] = torch.zeros(1)
    assert fit_error(state, tmp_path).split("; ")[:3] == [
        "1 missing key(s) (0.bias)", "1 unexpected key(s) (extra)",
        "2 shape mismatch(es) (4.weight: checkpoint (7, 4) vs model (5, 4)"]
