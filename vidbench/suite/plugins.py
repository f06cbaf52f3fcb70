"""Import the plugin files or modules a suite names, so their models and datasets register."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path

from vidbench.errors import SuiteError


def resolve_plugins(plugins: list[str], base_dir: Path) -> list[str]:
    """File plugins become absolute paths (relative ones are read from the suite's folder)."""
    out = []
    for p in plugins:
        if p.endswith(".py"):
            path = Path(p) if Path(p).is_absolute() else base_dir / p
            if not path.is_file():
                raise SuiteError(f"plugins: file {p!r} does not exist (looked at {path})")
            out.append(str(path.resolve()))
        else:
            out.append(p)
    return out


def import_plugin(plugin: str) -> None:
    """Import one plugin once per process; failure is a SuiteError with the file and line."""
    try:
        if plugin.endswith(".py"):
            name = "vidbench_plugin_" + hashlib.sha1(plugin.encode()).hexdigest()[:12]
            if name in sys.modules:
                return
            spec = importlib.util.spec_from_file_location(name, plugin)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        else:
            importlib.import_module(plugin)
    except SuiteError:
        raise
    except Exception as e:
        frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
        where = f" ({Path(frame.filename).name}, line {frame.lineno})" if frame else ""
        if isinstance(e, SyntaxError) and e.lineno:
            where = f" ({Path(e.filename or plugin).name}, line {e.lineno})"
        raise SuiteError(f"plugins: {plugin!r} failed to import{where}: {type(e).__name__}: {e}") from None


def import_plugins(plugins: list[str]) -> None:
    for p in plugins:
        import_plugin(p)
