"""Plugins: files named in a suite are imported first, so their models register; failures name file and line."""

from __future__ import annotations

import textwrap

import pytest

from vidbench.errors import SuiteError
from vidbench.models import list_models, model_info
from vidbench.suite.plugins import import_plugins, resolve_plugins

PLUGIN = textwrap.dedent("""\
    import torch.nn as nn
    from vidbench import register_model

    @register_model(family="cnn", arch="plug3d", default_input=(4, 16))
    def {name}(num_classes: int = 400, width: int = 4):
        return nn.Sequential(nn.Conv3d(3, width, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                             nn.Linear(width, num_classes))
    """)


def test_relative_plugin_files_are_read_from_the_suite_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.py").write_text("")
    assert resolve_plugins(["sub/mine.py", "some.module"], tmp_path) == [
        str((tmp_path / "sub" / "mine.py").resolve()), "some.module"]


def test_a_missing_plugin_file_is_a_suite_error(tmp_path):
    with pytest.raises(SuiteError, match="nope.py"):
        resolve_plugins(["nope.py"], tmp_path)


def test_a_plugin_file_registers_its_models(tmp_path, isolated_registries):
    (tmp_path / "plug.py").write_text(PLUGIN.format(name="plugin_registers_tiny"))
    import_plugins(resolve_plugins(["plug.py"], tmp_path))
    assert list_models("plugin_registers_*") == ["plugin_registers_tiny"]
    assert model_info("plugin_registers_tiny").arch == "plug3d"
    import_plugins(resolve_plugins(["plug.py"], tmp_path))  # once per process: no duplicate-name error


def test_a_plugin_that_fails_to_import_names_file_and_line(tmp_path):
    (tmp_path / "bad_plugin.py").write_text("x = 1\n\nraise RuntimeError('nope in plugin')\n")
    with pytest.raises(SuiteError) as info:
        import_plugins(resolve_plugins(["bad_plugin.py"], tmp_path))
    message = str(info.value)
    assert "bad_plugin.py" in message and "line 3" in message and "nope in plugin" in message


def test_a_plugin_with_a_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "syntax_plugin.py").write_text("x = 1\ny = (\n")
    with pytest.raises(SuiteError, match=r"syntax_plugin\.py, line 2"):
        import_plugins(resolve_plugins(["syntax_plugin.py"], tmp_path))


def test_an_unknown_plugin_module_is_a_suite_error():
    with pytest.raises(SuiteError, match="no_such_vidbench_plugin_module"):
        import_plugins(["no_such_vidbench_plugin_module"])
