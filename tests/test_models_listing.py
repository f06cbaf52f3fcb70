"""`vidbench models`: published results beside the cost per clip and per video, from a cache that is
rebuilt when anything its figures depend on changes, and read without importing torch."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import vidbench.models_listing as listing
from vidbench.cli import app
from vidbench.measure.flops import model_cost
from vidbench.models.published import primary_result

runner = CliRunner()


@pytest.fixture
def cache(models_cache):
    """This test's copy of the session's counted cache (tests/conftest.py): counted once, not per test."""
    return models_cache


def test_published_top1_views_and_gmacs_per_video_beside_the_cost_per_clip(cache):
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(runner.invoke(app, ["models", "x3d_*", "--format",
                                                                                  "csv"]).stdout))}
    x3d_m, published = rows["x3d_m"], primary_result("x3d_m")
    assert float(x3d_m["published_top1"]) == published.top1 == 76.2
    assert x3d_m["published_views"] == "10x3" and x3d_m["published_input"] == "16x256x256"
    per_clip = model_cost("x3d_m", 400, {}, 16, 256, 256).gmacs
    assert float(x3d_m["gmacs_per_video"]) == pytest.approx(per_clip * 30, abs=0.1)
    assert 180 < float(x3d_m["gmacs_per_video"]) < 190  # X3D-M: 6.2 GFLOPs (MACs) x 30 views in the paper
    tiny = runner.invoke(app, ["models", "c3d_tiny", "--format", "csv"]).stdout
    assert list(csv.DictReader(io.StringIO(tiny)))[0]["published_top1"] == ""  # none, never 0
    records = json.loads(runner.invoke(app, ["models", "r3d_18", "--json"]).stdout)
    assert records[0]["published"][0]["source"].startswith("torchvision")


def test_the_cache_is_used_then_rebuilt_when_its_key_changes(cache, monkeypatch):
    first = listing.model_records()
    (path,) = cache.glob("models-*.json")
    counted = []
    monkeypatch.setattr(listing, "count_records", lambda: counted.append(1) or first)
    assert listing.model_records() == first and counted == []  # a hit
    assert listing.model_records(use_cache=False) == first and counted == [1]  # --no-cache counts
    key = listing.cache_key()
    monkeypatch.setattr(listing, "cache_key", lambda: {**key, "torch": "9.9"})
    listing.model_records()
    assert counted == [1, 1] and len(list(cache.glob("models-*.json"))) == 2  # a new key, a new count


def test_a_cache_hit_imports_no_torch(cache):
    listing.model_records()
    code = ("import sys; from vidbench.cli import main; sys.argv = ['vidbench', 'models', 'tsn_*', '--format', 'csv']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "VIDBENCH_CACHE_DIR": str(cache)})
    assert out.stderr.strip().splitlines()[-1] == "False" and "tsn_tiny" in out.stdout
