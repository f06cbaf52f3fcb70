"""Reports computed from a run folder's store alone."""

from vidbench.report.frame import RunFolder, load_run_folder
from vidbench.report.render import FORMATS, render_reports

__all__ = ["FORMATS", "RunFolder", "load_run_folder", "render_reports"]
