"""Local weights: resolving a checkpoint path (file or Hugging Face folder) or a torchvision weight-set name
in the torch cache, reading it with `weights_only=True` (or as safetensors), unwrapping it, re-initialising
the declared head for another class count, `weights_map` rules, checking before any run, and refusing a
checkpoint that does not fit the model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from vidbench.errors import RegistryError
from vidbench.models import create_model, register_model
from vidbench.models.weights import LoadReport, check_weights, load_report, load_weights, resolve_weights

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
    assert problem == "4 missing key(s) (1.bias, 1.running_mean, 1.running_var, …)"  # the counter may be absent


def test_a_checkpoint_without_batchnorm_counters_loads(tmp_path):
    """Older checkpoints (torchvision's first ImageNet ResNets) predate num_batches_tracked."""
    source = trained()
    state = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    model = tiny()
    report = load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny")
    assert report.loaded == len(state)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


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


# -- the head: re-initialised for another class count -------------------------------------------------
HEAD = ("4",)  # tiny()'s classifier
HEAD_KEYS = ("4.weight", "4.bias")


def load_with_head(state: dict, tmp_path: Path, num_classes: int = 5) -> tuple[nn.Module, dict, LoadReport]:
    model = tiny(num_classes)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    report = load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny", head=HEAD)
    return model, fresh, report


@pytest.mark.parametrize("drop_head", [False, True], ids=["another-class-count", "no-head-in-checkpoint"])
def test_the_head_keeps_its_fresh_init_and_every_other_tensor_loads(drop_head, tmp_path):
    source = trained(num_classes=7)
    state = {k: v for k, v in source.state_dict().items() if not (drop_head and k in HEAD_KEYS)}
    model, fresh, report = load_with_head(state, tmp_path)
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh[key] if key in HEAD_KEYS else source.state_dict()[key]), key
    assert report == LoadReport(source=str(tmp_path / "w.pt"), layout="native", loaded=len(fresh) - 2,
                                reinitialised=HEAD_KEYS)
    assert report.as_detail()["reinitialised"] == list(HEAD_KEYS)


def test_a_head_of_the_same_shape_is_loaded(tmp_path):
    source = trained()
    model, _, report = load_with_head(source.state_dict(), tmp_path)
    assert_same_state(model, source)
    assert report.reinitialised == () and report.loaded == len(source.state_dict())


def test_a_head_half_fitting_is_re_initialised_whole(tmp_path):
    state = trained().state_dict()
    state["4.weight"] = torch.zeros(5, 9)  # the bias fits, the weight does not
    model, fresh, report = load_with_head(state, tmp_path)
    assert report.reinitialised == HEAD_KEYS
    assert torch.equal(model.state_dict()["4.bias"], fresh["4.bias"])


def test_with_a_head_declared_the_backbone_must_still_fit(tmp_path):
    state = trained(num_classes=7).state_dict()
    state["0.weight"] = torch.zeros(4, 3, 2, 1, 1)
    model = tiny()
    with pytest.raises(RegistryError, match=r"1 shape mismatch\(es\) \(0\.weight: checkpoint \(4, 3, 2, 1, 1\) "
                                            r"vs model \(4, 3, 1, 1, 1\)\)$"):
        load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny", head=HEAD)


def test_create_model_re_initialises_the_declared_head_and_keeps_the_report(tmp_path, isolated_registries):
    @register_model(family="cnn", head="4")
    def weights_headed(num_classes: int = 400):
        return tiny(num_classes)

    path = save(trained(num_classes=400).state_dict(), tmp_path / "k400.pt")
    model = create_model("weights_headed", num_classes=3, weights=str(path))
    assert model[4].out_features == 3
    assert load_report(model).reinitialised == HEAD_KEYS
    assert load_report(create_model("weights_headed", num_classes=3)) is None


# -- weights_map: the user's own key rules --------------------------------------------------------------
def renamed(prefix: str, seed: int = 0) -> tuple[nn.Module, dict]:
    source = trained(seed)
    return source, {prefix + k: v for k, v in source.state_dict().items()}


def test_weights_map_rules_rename_every_key(tmp_path):
    source, state = renamed("encoder.net.")
    model = tiny()
    rules = [[r"^encoder\.", ""], [r"^net\.", ""]]  # applied in order, each to what the last one wrote
    report = load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny", weights_map=rules)
    assert_same_state(model, source)
    assert report.layout == "weights_map"


def test_weights_map_drops_keys_rewritten_to_nothing_and_reports_them(tmp_path):
    source, state = renamed("")
    state["decoder.weight"] = torch.zeros(3)
    model = tiny()
    report = load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny", weights_map=[[r"^decoder\..*", ""]])
    assert_same_state(model, source)
    assert report.ignored == ("decoder.weight",)


def test_weights_map_parts_are_concatenated_in_order(tmp_path):
    source = trained()
    state = source.state_dict()
    weight = state.pop("4.weight")
    state.update({"4.weight_a": weight[:2], "4.weight_b": weight[2:]})
    model = tiny()
    rules = [[r"\.weight_a$", ".weight|0"], [r"\.weight_b$", ".weight|1"]]
    load_weights(model, str(save(state, tmp_path / "w.pt")), "tiny", weights_map=rules)
    assert_same_state(model, source)


def test_keys_a_weights_map_leaves_unmatched_are_an_error_naming_them(tmp_path):
    _, state = renamed("net.")
    path = save(state, tmp_path / "w.pt")
    with pytest.raises(RegistryError, match=r"\(read as weights_map\): 8 missing key\(s\).*9 unexpected key\(s\) "
                                            r"\(net\.0\.bias, net\.0\.weight, net\.1\.bias, …\)"):
        load_weights(tiny(), str(path), "tiny", weights_map=[[r"^nothing\.", ""]])


@pytest.mark.parametrize("weights_map, needle", [
    ("no-such-layout", "neither a layout"),
    ([], "non-empty list"),
    ([["a"]], "rule 0: ['a'] is not a [REGEX, REPLACEMENT] pair"),
    ([["(", ""]], "rule 0 ['(', '']: missing ), unterminated subpattern"),
    ([["a", r"\2"]], "invalid group reference 2"),
])
def test_a_malformed_weights_map_is_refused_before_anything_is_built(weights_map, needle):
    with pytest.raises(RegistryError, match=re.escape(needle)):
        create_model("tsn_tiny", num_classes=3, weights_map=weights_map)


def test_a_layout_without_a_map_for_the_model_is_an_error(tmp_path):
    path = save(trained().state_dict(), tmp_path / "w.pt")
    with pytest.raises(RegistryError, match="weights_map 'hf-videomae' has no key map for tsn models"):
        create_model("tsn_tiny", num_classes=3, weights=str(path), weights_map="hf-videomae")


def test_every_model_takes_weights_map_and_ignores_it_without_weights():
    assert isinstance(create_model("tsn_tiny", num_classes=3, weights_map="mmaction2"), nn.Module)


# -- other files: safetensors, Hugging Face folders, legacy pickles ---------------------------------------
def test_a_safetensors_file_and_a_hugging_face_folder_load(tmp_path):
    from safetensors.torch import save_file

    source = trained()
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    folder = tmp_path / "hf-model"
    folder.mkdir()
    save_file(state, str(folder / "model.safetensors"))
    for weights in (folder / "model.safetensors", folder):
        model = tiny()
        assert load_weights(model, str(weights), "tiny").source == str(folder / "model.safetensors")
        assert_same_state(model, source)
    assert resolve_weights(str(folder), None) == folder / "model.safetensors"


def test_a_folder_without_weights_is_an_error(tmp_path):
    with pytest.raises(RegistryError, match="holds none of model.safetensors, pytorch_model.bin"):
        resolve_weights(str(tmp_path), None)


def test_a_legacy_non_zip_checkpoint_still_loads(tmp_path):
    source = trained()
    path = tmp_path / "w.pt"
    torch.save(source.state_dict(), path, _use_new_zipfile_serialization=False)
    model = tiny()
    load_weights(model, str(path), "tiny")
    assert_same_state(model, source)


def test_a_refused_checkpoint_is_one_line(tmp_path):
    path = save({"state_dict": trained().state_dict(), "extra": NotATensor()}, tmp_path / "w.pt")
    with pytest.raises(RegistryError) as info:
        load_weights(tiny(), str(path), "tiny")
    assert "\n" not in str(info.value)


# -- checking before any run ----------------------------------------------------------------------------
def test_check_weights_validates_on_the_meta_device_without_loading(tmp_path, isolated_registries):
    built = []

    @register_model(family="cnn", head="4")
    def weights_checked(num_classes: int = 400, width: int = 4):
        model = tiny(num_classes)
        built.append(next(model.parameters()).device.type)
        return model

    path = str(save(trained(num_classes=400).state_dict(), tmp_path / "w.pt"))
    report = check_weights("weights_checked", {"weights": path}, num_classes=5)
    assert built == ["meta"]
    assert report.reinitialised == HEAD_KEYS and report.loaded == len(tiny().state_dict()) - 2
    assert check_weights("weights_checked", {"width": 4}) is None
    with pytest.raises(RegistryError, match="do not fit model 'weights_checked'"):
        check_weights("weights_checked", {"weights": path, "weights_map": [[r"^0\.", "x."]]})
    with pytest.raises(RegistryError, match="takes no argument 'widht'"):
        check_weights("weights_checked", {"weights": path, "widht": 3})


def test_check_weights_says_when_the_model_cannot_be_built(tmp_path):
    path = str(save({}, tmp_path / "w.pt"))
    with pytest.raises(RegistryError, match=r"model 'slowfast_r50' cannot be built with \{'beta_inv': 3\}: beta_inv"):
        check_weights("slowfast_r50", {"weights": path, "beta_inv": 3})
