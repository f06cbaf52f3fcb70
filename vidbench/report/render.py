"""Render report.html (self-contained: inline SVG, CSS and JS) and report.md (+ plots/*.png).

Everything is computed once from the store (`analysed.analyse`); then both renderers loop over the
registered sections (`vidbench.report.sections`), so the two reports say the same things in the same order.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.pyplot as plt

from vidbench.report.analysed import Report, analyse
from vidbench.report.frame import load_run_folder
from vidbench.report.hover import with_titles
from vidbench.report.sections import shown
from vidbench.report.tables import flag_notes
from vidbench.report.templating import templates

FORMATS = ("html", "md")


def _figure_bytes(fig, fmt: str) -> bytes:
    """The figure as SVG or PNG, trimmed to what it draws. The trim box is measured once per figure
    (bbox_inches="tight" would lay the figure out again for every format)."""
    bbox = getattr(fig, "_vidbench_bbox", None)
    if bbox is None:
        bbox = fig._vidbench_bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.08)
    buf = io.BytesIO()
    kwargs = {"metadata": {"Date": None, "Creator": None}} if fmt == "svg" else {}
    fig.savefig(buf, format=fmt, bbox_inches=bbox, dpi=110 if fmt == "png" else 72, **kwargs)
    return buf.getvalue()


def _inline_svg(svg: str, prefix: str) -> str:
    """The <svg> element alone, its ids prefixed so that several inline plots never share one."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return svg


def _intro(report: Report) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts.items()))
    return f"{len(report.frame)} runs: {counts}." if counts else "No runs stored yet."


class MarkdownOut:
    """Writes a plot section's figures as PNGs under the run folder's plots/ and links them."""

    def __init__(self, report: Report):
        self.report = report
        self.dir = report.run.folder / "plots"
        self.dir.mkdir(exist_ok=True)
        for old in self.dir.glob("*.png"):  # plots of an earlier render that this one may not draw
            old.unlink()

    def plots(self, section: str) -> list[str]:
        out = []
        for p in self.report.plots_in(section):
            (self.dir / f"{p.name}.png").write_bytes(_figure_bytes(p.fig, "png"))
            out += [f"![{p.title}](plots/{p.name}.png)", ""]
        return out


class HtmlOut:
    """Inlines a plot section's figures as SVG."""

    def __init__(self, report: Report):
        self.report = report

    def plots(self, section: str) -> list[dict]:
        return [{"name": p.name, "title": p.title,
                 "svg": _inline_svg(with_titles(_figure_bytes(p.fig, "svg").decode(), p.fig), p.name)}
                for p in self.report.plots_in(section)]


def _note(report: Report) -> str:
    """What an "(unstable)", "(emulated)" or "(few samples)" mark means, where a run carries one ('' elsewhere:
    the units are in the Suite section, at the end)."""
    return " ".join(f"{note}." for note in flag_notes(report.run.frame))


def summary(description: str) -> str:
    """The description's first sentence: the suite's question, above the answer (the whole description is in
    the Suite section)."""
    text = " ".join(description.split())
    end = re.search(r"[.!?](\s|$)", text)
    return text[:end.end()].strip() if end else text


def render_markdown(report: Report) -> str:
    out = MarkdownOut(report)
    parts = [f"# vidbench report: {report.run.suite_name}", ""]
    if report.description:
        parts += [summary(report.description), ""]
    parts += [_intro(report), ""]
    note = _note(report)
    if note:
        parts += [note, ""]
    for section, blocks in shown(report):
        parts += [f"## {section.title}", ""]
        for block in blocks:
            parts += block.markdown(out)
    return "\n".join(parts)


def render_html(report: Report) -> str:
    out = HtmlOut(report)
    sections = [{"anchor": s.anchor, "title": s.title, "toc": s.toc or s.title,
                 "blocks": [{"kind": b.kind, **b.html(out)} for b in blocks]} for s, blocks in shown(report)]
    return templates().get_template("report.html.j2").render(
        title=report.run.suite_name, description=summary(report.description), intro=_intro(report), note=_note(report),
        sections=sections)


def render_reports(folder: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the requested reports into the run folder; returns their paths."""
    run = load_run_folder(folder)
    report = analyse(run)
    written = []
    try:
        if "md" in formats:
            path = run.folder / "report.md"
            path.write_text(render_markdown(report))
            written.append(path)
        if "html" in formats:
            path = run.folder / "report.html"
            path.write_text(render_html(report))
            written.append(path)
    finally:
        for p in report.plots:
            plt.close(p.fig)
    return written
