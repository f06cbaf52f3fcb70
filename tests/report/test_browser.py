"""report.html in a real browser: Debian's chromium, headless, driven by Playwright.

Nothing is downloaded: Playwright launches /usr/bin/chromium (never `playwright install`). Skipped with
the reason when chromium or playwright is missing; CI installs both and sets VIDBENCH_REQUIRE_BROWSER=1,
which turns the skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.report.synthetic import write_store
from vidbench.report import render_reports

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str):
    if os.environ.get("VIDBENCH_REQUIRE_BROWSER"):
        pytest.fail(f"VIDBENCH_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (Debian: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright; no browser download needed)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser") / "run"
    # 32px and 112px: a string sort would put "112" first, a numeric one last.
    write_store(folder, datasets=("synthetic-motion", "synthetic-appearance"), sides=(32, 112), devices=("cpu", "cuda"))
    render_reports(folder, ("html",))
    return folder / "report.html"


class Page:
    """A page that records console errors, uncaught exceptions and every request it makes."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def column(self, table: str, header: str, attribute: str = "data-sort") -> list[str]:
        return self.page.evaluate(
            """([table, header, attribute]) => {
                const t = document.getElementById(table);
                const i = Array.from(t.tHead.rows[0].cells).findIndex(th => th.textContent.trim() === header);
                if (i < 0) throw new Error("no column " + header);
                return Array.from(t.tBodies[0].rows).filter(r => r.style.display !== "none")
                            .map(r => r.cells[i].getAttribute(attribute));
            }""", [table, header, attribute])

    def click_header(self, table: str, header: str) -> None:
        """A real mouse click on the header whose text is exactly `header`."""
        i = self.page.evaluate(
            """([table, header]) => Array.from(document.getElementById(table).tHead.rows[0].cells)
                                      .findIndex(th => th.textContent.trim() === header)""", [table, header])
        assert i >= 0, f"no column {header!r} in #{table}"
        self.page.locator(f"#{table} thead th").nth(i).click()


@pytest.fixture
def page(browser, report):
    p = Page(browser, report)
    yield p
    p.page.close()


def test_report_opens_without_errors_and_requests_nothing_outside_the_file(page, report):
    assert page.errors == []
    assert page.outside == []
    assert page.requests == [report.as_uri()]  # the file itself, and nothing else
    n_svg = page.page.locator("figure svg").count()
    assert n_svg == report.read_text().count('<figure id="plot-') >= 5
    # Every inline plot actually drew (a broken SVG has no size).
    sizes = page.page.evaluate("Array.from(document.querySelectorAll('figure svg')).map(s => s.getBBox().width)")
    assert all(w > 100 for w in sizes)


def _numbers(values: list[str]) -> list[float]:
    return [float(v) for v in values if v != ""]


def test_clicking_a_header_sorts_the_runs_table(page):
    header = "throughput (clips/s)"
    page.click_header("runs", header)
    values = page.column("runs", header)
    numbers = _numbers(values)
    assert numbers == sorted(numbers) and len(numbers) > 10
    assert values[len(numbers):] == [""] * (len(values) - len(numbers))  # empty cells last
    page.click_header("runs", header)
    numbers = _numbers(page.column("runs", header))
    assert numbers == sorted(numbers, reverse=True)
    assert page.page.locator("#runs thead th.desc").count() == 1


def test_resolution_and_text_columns_sort_as_such(page):
    page.click_header("runs", "px (crop)")
    sides = page.column("runs", "px (crop)")
    assert sides == sorted(sides, key=float)
    assert sides[0] == "16" and sides[-1] == "112"
    page.click_header("runs", "family")
    families = page.column("runs", "family")
    assert families == sorted(families)
    assert page.errors == []


def test_dropdown_and_text_filters(page):
    total = page.page.locator("#runs tbody tr").count()
    page.page.select_option("select[data-filter=family]", "transformer")
    shown = page.column("runs", "family", "data-sort")
    assert shown and set(shown) == {"transformer"}
    page.page.select_option("select[data-filter=device]", "cuda")
    assert set(page.column("runs", "device")) == {"cuda"}
    page.page.fill("#filter", "joint")
    args = page.column("runs", "args")
    assert args and set(args) == {"attention=joint"}
    assert page.page.inner_text("#shown") == f"{len(args)} of {total} runs shown"
    page.page.fill("#filter", "")
    page.page.select_option("select[data-filter=family]", "")
    page.page.select_option("select[data-filter=device]", "")
    assert page.page.locator("#runs tbody tr:visible").count() == total


def test_other_tables_sort_too_and_details_open(page):
    page.click_header("exponents", "model")
    models = page.column("exponents", "model")
    assert models == sorted(models)
    details = page.page.locator("#problems-table details", has_text="RuntimeError")
    assert not details.locator("pre").is_visible()
    details.locator("summary").click()
    assert details.locator("pre").is_visible()
    assert "Traceback (most recent call last)" in details.locator("pre").inner_text()
    assert page.errors == []


def test_compare_page_in_the_browser(browser, tmp_path):
    from typer.testing import CliRunner

    from vidbench.cli import app

    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        write_store(folder, variants=("tsn_tiny",), problems=False)
    out = tmp_path / "compare.html"
    result = CliRunner().invoke(app, ["compare", str(a), str(b), "--format", "html", "--output", str(out)])
    assert result.exit_code == 0, result.output
    p = Page(browser, out)
    try:
        assert p.errors == [] and p.outside == []
        p.click_header("compare", "change")
        assert p.page.locator("#compare thead th.asc").count() == 1
    finally:
        p.page.close()
