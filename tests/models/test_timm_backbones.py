"""timm as a model source: TSN, TSM and LRCN over any timm 2D backbone, built from timm's own config (nothing
downloaded), their parameters timm's plus the video head, stages from timm's feature_info, and the refusals."""

from __future__ import annotations

import pytest
import torch

timm = pytest.importorskip("timm")

from vidbench.models import create_model  # noqa: E402
from vidbench.models.stages import model_stages  # noqa: E402

CLIPS = torch.randn(2, 3, 4, 32, 32)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("name", "head"), [("tsn_timm", 512 * 5 + 5), ("tsm_timm", 512 * 5 + 5)])
def test_the_backbone_is_timms_own_and_the_head_is_the_families(name, head):
    model = create_model(name, num_classes=5, backbone="resnet18")
    assert count(model) == count(timm.create_model("resnet18", pretrained=False, num_classes=0)) + head
    assert model.eval()(CLIPS).shape == (2, 5)


def test_lrcn_timm_reads_the_backbones_features_with_its_rnn():
    model = create_model("lrcn_timm", num_classes=5, backbone="resnet18", hidden=32)
    lstm = 4 * (32 * 512 + 32 * 32 + 2 * 32)  # an LSTM layer: 4 gates × (input, recurrent weights, two biases)
    assert count(model) == count(timm.create_model("resnet18", pretrained=False, num_classes=0)) + lstm + 32 * 5 + 5
    assert model.eval()(CLIPS).shape == (2, 5)


def test_tsm_over_timm_sees_frame_order_and_tsn_does_not():
    torch.manual_seed(0)
    with torch.no_grad():
        for name, temporal in (("tsm_timm", True), ("tsn_timm", False)):
            model = create_model(name, num_classes=5, backbone="resnet18").eval()
            for bn in model.modules():  # timm zero-initialises each block's last norm: its branch adds nothing yet
                if isinstance(bn, torch.nn.BatchNorm2d):
                    torch.nn.init.ones_(bn.weight)
            changed = not torch.allclose(model(CLIPS), model(CLIPS.flip(2)), atol=1e-5, rtol=1e-4)
            assert changed == temporal, name


def test_stages_are_timms_feature_maps():
    model = create_model("tsn_timm", num_classes=5, backbone="resnet18")
    assert model_stages("tsn_timm", model) == [("backbone.conv1", "backbone.bn1"), ("backbone.layer1",),
                                               ("backbone.layer2",), ("backbone.layer3",), ("backbone.layer4",)]
    vit = create_model("tsn_timm", num_classes=5, backbone="vit_tiny_patch16_224")
    assert len(model_stages("tsn_timm", vit)) == 12  # one per block (the patch embedding with the first)
    assert vit.eval()(CLIPS).shape == (2, 5)  # a ViT backbone takes 32 px: its position embedding resampled
    lrcn = create_model("lrcn_timm", num_classes=5, backbone="resnet18")
    assert model_stages("lrcn_timm", lrcn)[-1] == ("rnn",)


def test_a_backbone_timm_lacks_or_tsm_cannot_shift_is_one_line():
    from vidbench.errors import RegistryError

    with pytest.raises(RegistryError, match="timm has no architecture 'resnet1000'"):  # the builder's arg check
        create_model("tsn_timm", num_classes=5, backbone="resnet1000")
    with pytest.raises(ValueError, match="tsm_timm shifts channels inside ResNet blocks; timm's 'efficientnet_b0'"):
        create_model("tsm_timm", num_classes=5, backbone="efficientnet_b0")


def test_an_unknown_backbone_is_refused_before_any_run(tmp_path):
    from typer.testing import CliRunner

    from vidbench.cli import app

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nmodels: [{name: tsn_timm, args: {backbone: resnet1000}}]\nmetrics: [params]\n")
    result = CliRunner().invoke(app, ["run", str(suite), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert "models[0] 'tsn_timm': timm has no architecture 'resnet1000'" in result.output
    assert "Traceback" not in result.output


def test_timms_resnet50_is_torchvisions_so_tsn_timm_counts_as_tsn_resnet50():
    from vidbench.measure.flops import model_cost

    for timm_name, torchvision_name in (("tsn_timm", "tsn_resnet50"), ("tsm_timm", "tsm_resnet50")):
        ours, theirs = (model_cost(n, 400, {}, 8, 224, 224) for n in (timm_name, torchvision_name))
        assert (ours.params, round(ours.gmacs, 6)) == (theirs.params, round(theirs.gmacs, 6)) == (24_327_632, 32.703644)
