"""Reports computed from a run folder's store alone (resolved on first use: rendering imports matplotlib)."""

from vidbench.lazy import lazy_face

_FACE = {"RunFolder": "vidbench.report.frame", "load_run_folder": "vidbench.report.frame",
         "FORMATS": "vidbench.report.render", "render_reports": "vidbench.report.render"}
__all__ = sorted(_FACE)
__getattr__, __dir__ = lazy_face(__name__, _FACE)
