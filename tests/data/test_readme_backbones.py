"""The README's "Choosing a backbone for your dataset" suite runs as written (down-sized to seconds) on a
UCF101 tree the tests write, with a torchvision Kinetics-400 checkpoint placed in a torch cache."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch
import yaml
from torchvision.models import get_weight
from typer.testing import CliRunner

from vidbench.cli import app
from vidbench.models import create_model
from vidbench.report.frame import load_run_folder

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_suite() -> dict:
    section = README.read_text().split("## Choosing a backbone for your dataset", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return yaml.safe_load(block)


@pytest.mark.slow  # ~18 s (a full-size r3d_18 probed through the CLI): the folder dataset, the torch cache's
# checkpoints and linear probes are each covered by fast tests (tests/data, tests/models, tests/measure)
def test_the_readme_backbone_suite_runs_on_written_videos(ucf_tree, tmp_path, monkeypatch):
    suite = readme_suite()
    assert suite["models"][0] == {"name": "r3d_18", "args": {"weights": "KINETICS400_V1"}}
    # The layout the README describes, next to the suite: data/UCF-101 and data/ucfTrainTestlist.
    root, ann = ucf_tree
    (tmp_path / "data").mkdir()
    os.symlink(root, tmp_path / "data" / "UCF-101")
    os.symlink(ann, tmp_path / "data" / "ucfTrainTestlist")
    # torchvision's Kinetics-400 file for r3d_18, where torch looks for it (its values made here).
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # the workers look there too
    cached = (Path(torch.hub.get_dir()) / "checkpoints" /
              os.path.basename(get_weight("R3D_18_Weights.KINETICS400_V1").url))
    cached.parent.mkdir(parents=True)
    source = create_model("r3d_18", num_classes=400)
    torch.save(source.state_dict(), cached)
    # Down-sized to seconds: one model, one seed, a small clip, one epoch, the CPU.
    suite.update(models=suite["models"][:1], seeds=[0], resolutions=[32], clip_lengths=[4], batch_sizes=[2],
                 devices=["cpu"], metrics=["params", "accuracy"])
    suite["train"].update(epochs=1, batch_size=2, protocol=["linear_probe"], warmup_epochs=0)
    path = tmp_path / "my-backbones.yaml"
    path.write_text(yaml.safe_dump(suite))
    monkeypatch.chdir(tmp_path / "data")  # relative paths resolve against the suite's folder, not here
    result = CliRunner().invoke(app, ["run", str(path), "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (row,) = load_run_folder(tmp_path / "out").frame.to_dict("records")
    assert row["status"] == "ok" and row["top1"] is not None
    loaded = row["detail"]["weights"]
    assert loaded["loaded"] == len(source.state_dict()) - 2 and sorted(loaded["reinitialised"]) == ["fc.bias", "fc.weight"]
    assert row["detail"]["transfer"]["trainable_params"] == 512 * 3 + 3  # the head, for UCF's 3 test classes
