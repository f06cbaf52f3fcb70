"""Model facts live with their registration: the registry, the families and the published table are pure
declarations (no torch, so the CLI and the reports read them cheaply), building is the builder's, the
built-in registrations take their published entries from the table, and no import circle runs through
`vidbench.models` (imports inside functions included)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import vidbench
from vidbench.models import FAMILIES, list_models, model_info
from vidbench.models.published import NO_PUBLISHED, PUBLISHED, published_results

PACKAGE = Path(vidbench.__file__).parent


@pytest.mark.parametrize("name", list_models())
def test_every_builtin_registration_takes_its_entry_from_the_table(name):
    info = model_info(name)
    assert info.published == PUBLISHED.get(name, ())
    assert info.no_published == NO_PUBLISHED.get(name)
    assert info.family in FAMILIES


NO_TORCH = """
import sys
import vidbench.models.families, vidbench.models.registry, vidbench.models.stages
from vidbench.models import FAMILIES, InputLimits, ModelInfo, Published
from vidbench.models.published import primary_result, published_results, no_published_reason
# A report reads a store without the models loaded: the table answers for the built-in models.
assert [r.top1 for r in published_results("swin3d_b")] == [79.427, 81.643], published_results("swin3d_b")
assert primary_result("c3d").top1 == 59.5
assert "LRCN" in no_published_reason("lrcn_resnet18_gru")
heavy = [m for m in ("torch", "torchvision") if m in sys.modules]
assert not heavy, heavy
from vidbench.models import list_models  # the face registers the built-in models
assert len(list_models()) > 40 and published_results("swin3d_b")[1].top1 == 81.643
assert published_results("c3d_tiny") == ()
"""


def test_declarations_and_the_published_table_import_no_torch():
    subprocess.run([sys.executable, "-c", NO_TORCH], check=True, timeout=120)


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every vidbench module `path` imports, at module level or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in modules:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            out |= subs or {node.module}
    return out


def test_no_import_circle_runs_through_the_models():
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: _imports(p, set(files)) for m, p in files.items()}
    for start in [m for m in graph if m.startswith("vidbench.models")]:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                assert nxt != start, " -> ".join((*path, nxt))
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*path, nxt)))
