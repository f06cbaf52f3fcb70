"""The frozen-backbone feature cache: a cached probe trains as the uncached one and as the whole frozen model
did, each key invalidates, a damaged file is rebuilt, a cache that does not fit is one line."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.conftest import make_spec
from vidbench.measure import feature_cache
from vidbench.measure.feature_cache import FeatureBank
from vidbench.run.runner import execute
from vidbench.scenarios import accuracy
from vidbench.scenarios.context import RunContext
from vidbench.scenarios.probing import frozen_encoder

DATA = {"num_classes": 4, "train_size": 16, "val_size": 8}
TRAIN = {"epochs": 2, "optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.01, "momentum": 0.9, "batch_size": 8,
         "protocol": "linear_probe"}


def spec(model="c3d_tiny", metrics=("accuracy",), **train):
    return make_spec(model, dataset="synthetic-motion", dataset_args=DATA, resolution=(16, 16), clip_length=4,
                     metrics=metrics, train={**TRAIN, **train}, seed=1)


def figures(result):
    assert result.status == "ok", result.error
    return result.metrics["top1"], result.detail["train_losses"]


@pytest.mark.parametrize("model", ["c3d_tiny", "tsn_tiny"])
def test_cached_probe_trains_as_the_uncached_one_and_as_the_frozen_model(model, tmp_path, monkeypatch):
    cached = execute(spec(model), tmp_path)
    again = execute(spec(model), tmp_path)
    uncached = execute(spec(model, feature_cache=False), tmp_path)
    assert cached.detail["feature_cache"]["val"]["status"] == "built"
    assert again.detail["feature_cache"]["val"]["status"] == "hit" and again.detail["feature_cache"]["encoded_clips"] == 0
    assert figures(cached) == figures(again) == figures(uncached)  # exactly: the same features, batches, steps
    monkeypatch.setattr(accuracy, "probe", lambda ctx: False)  # the whole frozen model trained, as before
    top1, losses = figures(execute(spec(model), tmp_path))
    assert top1 == figures(cached)[0] and losses == pytest.approx(figures(cached)[1], rel=1e-5)


def fields_of(s, **kw):
    ctx = RunContext(s)
    return frozen_encoder(ctx, kw.get("kind", "pooled")).fields(kw.get("split", "val"), kw.get("draw"))


KEYS = {  # each setting that changes a cached feature, and a spec that differs in it alone
    "model_args": lambda s: dataclasses.replace(s, model_args={"width": 8}),
    "model": lambda s: dataclasses.replace(s, model="tsn_tiny"),
    "encoder_state": lambda s: dataclasses.replace(s, seed=2),  # a random initialisation's seed (and the data's)
    "dataset_args": lambda s: dataclasses.replace(s, dataset_args={**DATA, "noise": 0.2}),
    "dataset": lambda s: dataclasses.replace(s, dataset="synthetic-appearance"),
    "clip_length": lambda s: dataclasses.replace(s, clip_length=8),
    "resolution": lambda s: dataclasses.replace(s, resolution=(24, 24)),
    "frame_stride": lambda s: dataclasses.replace(s, frame_stride=2),
    "precision": lambda s: dataclasses.replace(s, precision="bf16"),
    "channels_last": lambda s: dataclasses.replace(s, channels_last=True),
}


@pytest.mark.parametrize("key", sorted(KEYS))
def test_each_setting_a_feature_depends_on_invalidates_the_cache(key):
    base, changed = fields_of(spec()), fields_of(KEYS[key](spec()))
    assert base[key] != changed[key]
    assert feature_cache.fields_digest(base) != feature_cache.fields_digest(changed)


@pytest.mark.parametrize("kw", [{"kind": "tokens"}, {"split": "train", "draw": 0}])
def test_feature_kind_split_and_draw_invalidate_the_cache(kw):
    assert feature_cache.fields_digest(fields_of(spec())) != feature_cache.fields_digest(fields_of(spec(), **kw))
    assert fields_of(spec(), split="train", draw=0) != fields_of(spec(), split="train", draw=1)


def test_versions_are_keys(monkeypatch):
    import vidbench

    base = fields_of(spec())
    monkeypatch.setattr(vidbench, "__version__", "99.0")
    assert fields_of(spec())["vidbench"] == "99.0" != base["vidbench"]


def test_probe_settings_that_leave_features_alone_share_them():
    base = fields_of(spec())
    for train in ({"lr": 0.1}, {"epochs": 9}, {"batch_size": 4}, {"optimizer": "sgd"}, {"probe_depth": 1}):
        assert fields_of(spec(**train)) == base, train


def test_the_weights_files_content_is_a_key_not_its_path(tmp_path):
    built = RunContext(spec()).built_model()
    a, b, c = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"
    torch.save(built.state_dict(), a)
    torch.save(built.state_dict(), b)
    torch.save({k: v + 1 if v.is_floating_point() else v for k, v in built.state_dict().items()}, c)
    with_weights = {p.name: fields_of(dataclasses.replace(spec(), model_args={"weights": str(p)})) for p in (a, b, c)}
    assert with_weights["a.pt"] == with_weights["b.pt"] != with_weights["c.pt"]


def test_a_damaged_or_partial_file_is_rebuilt_not_trusted(tmp_path):
    fields = {"k": 1}
    built = []

    def build():
        built.append(1)
        return FeatureBank(torch.arange(12.0).view(6, 2), torch.arange(6))

    bank, record = feature_cache.cached(tmp_path, fields, build)
    path = tmp_path / record["file"]
    assert record["status"] == "built" and feature_cache.cached(tmp_path, fields, build)[1]["status"] == "hit"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a killed write of another process
    assert feature_cache.cached(tmp_path, fields, build)[1]["status"].startswith("rebuilt (unreadable")
    data = torch.load(path, weights_only=True)
    data["features"][0, 0] = 99.0  # bytes changed under the file's checksum
    torch.save(data, path)
    assert feature_cache.cached(tmp_path, fields, build)[1]["status"] == "rebuilt (checksum mismatch)"
    data = torch.load(path, weights_only=True)
    data["labels"] = data["labels"][:3]  # rows lost
    torch.save(data, path)
    again, record = feature_cache.cached(tmp_path, fields, build)
    assert record["status"] == "rebuilt (partial)" and torch.equal(again.features, bank.features)
    assert len(built) == 4 and not list(tmp_path.glob(".*.tmp"))


def test_a_cache_that_does_not_fit_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(feature_cache.shutil, "disk_usage", lambda p: type("U", (), {"free": 10})())
    result = execute(spec(), tmp_path)
    assert result.status == "failed" and "feature cache:" in result.error and "do not fit" in result.error
