"""The CLI's help and usage errors never import torch, and the package face resolves on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
sys.argv = ["vidbench", *sys.argv[1:]]
from vidbench.cli import main
try:
    main()
    code = 0
except SystemExit as e:
    code = e.code
print(f"exit={code} torch={'torch' in sys.modules} matplotlib={'matplotlib' in sys.modules}", file=sys.stderr)
"""


@pytest.mark.parametrize(("args", "code"), [
    (["--help"], 0), (["run", "--help"], 0), (["models", "--help"], 0), (["compare", "--help"], 0),
    (["run"], 2), (["run", "missing.yaml"], 2), (["run", "suites/quickstart.yaml", "--executor", "bogus"], 2),
    (["results"], 2), (["results", "/nonexistent"], 2), (["compare", "/x", "/y"], 2),
    (["report", "/nonexistent"], 2), (["report", "--format", "pdf", "/nonexistent"], 2),
    (["data", "check", "/nonexistent"], 2), (["results", "/nonexistent", "--format", "xml"], 2),
])
def test_help_and_usage_errors_do_not_import_torch(args, code):
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    last = out.stderr.strip().splitlines()[-1]
    assert last == f"exit={code} torch=False matplotlib=False", out.stderr


def test_a_malformed_suite_is_refused_before_torch(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: t\nmodels: [tsn_tiny]\nresolutions: [0]\n")
    out = subprocess.run([sys.executable, "-c", PROBE, "run", str(suite)], capture_output=True, text=True, timeout=60)
    assert "resolutions" in out.stderr and out.stderr.strip().endswith("exit=2 torch=False matplotlib=False")


def test_the_package_face_resolves_lazily():
    code = ("import sys, vidbench; assert 'torch' not in sys.modules; "
            "assert 'create_model' in dir(vidbench); names = vidbench.list_models('tsn_*'); "
            "assert 'tsn_tiny' in names and 'torch' in sys.modules; "
            "assert vidbench.create_model('tsn_tiny', num_classes=3) is not None; "
            "from vidbench import register_dataset, create_dataset, list_datasets; "
            "assert 'random' in list_datasets()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    import vidbench

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vidbench.nope  # noqa: B018


def test_the_clis_report_formats_are_the_renderers():
    from vidbench.cli import REPORT_FORMATS
    from vidbench.report.render import FORMATS

    assert REPORT_FORMATS == FORMATS


def test_the_clis_model_families_are_the_registrys():
    from vidbench.cli import MODEL_FAMILIES
    from vidbench.models import FAMILIES

    assert MODEL_FAMILIES == FAMILIES


HEAVY = ("torchvision", "torch._dynamo", "matplotlib", "pandas")
WHICH = """
import sys
sys.argv = ["vidbench", *sys.argv[1:]]
from vidbench.cli import main
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
print("imported:", [m for m in {heavy!r} if m in sys.modules], file=sys.stderr)
"""


def test_a_dry_run_needs_the_registries_but_not_torchvision_dynamo_or_the_report():
    """The registries' metadata and expansion import torch, never torchvision (its package import pulls
    torchvision.ops, hence torch._dynamo: about a second) nor the report's matplotlib and pandas."""
    out = subprocess.run([sys.executable, "-c", WHICH.format(heavy=HEAVY), "run", "suites/ablation.yaml", "--dry-run"],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert out.stderr.strip().splitlines()[-1] == "imported: []", out.stderr[-2000:]


def test_models_import_torchvision_when_built_and_build_as_before():
    code = ("import sys; from vidbench.models import create_model, list_models; "
            "assert list_models('r3d_18') and 'torchvision' not in sys.modules; "
            "m = create_model('r3d_18', num_classes=5); assert 'torchvision' in sys.modules; "
            "from torchvision.models.video import VideoResNet; assert isinstance(m, VideoResNet); "
            "assert m.fc.out_features == 5")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
