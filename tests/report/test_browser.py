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

    def __init__(self, browser, path: Path, viewport: dict | None = None):
        self.page = browser.new_page(**({"viewport": viewport} if viewport else {}))
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


SCREEN = {"width": 1366, "height": 768}  # a typical laptop screen


def _header_box(page: Page, table: str, header: str) -> dict:
    """The bounding box (viewport coordinates) of the header cell whose text is exactly `header`."""
    return page.page.evaluate(
        """([table, header]) => {
            const th = Array.from(document.getElementById(table).tHead.rows[0].cells)
                            .find(c => c.textContent.trim() === header);
            if (!th) throw new Error("no column " + header);
            const r = th.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        }""", [table, header])


def _on_top(page: Page, box: dict) -> str:
    """The tag of what the page shows at the middle of `box` (a header cell that is covered reads 'TD')."""
    return page.page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); return e ? e.tagName : ''; }",
                              [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])


@pytest.fixture
def screen(browser, report):
    p = Page(browser, report, SCREEN)
    yield p
    p.page.close()


def test_top1_and_throughput_are_in_the_first_screen_of_the_runs_table(screen):
    screen.page.locator("#runs-section").scroll_into_view_if_needed()
    screen.page.evaluate("document.getElementById('runs-section').scrollIntoView()")
    for header in ("top-1 (%)", "throughput (clips/s)"):
        box = _header_box(screen, "runs", header)
        assert 0 <= box["x"] and box["x"] + box["width"] <= SCREEN["width"], (header, box)
        assert 0 <= box["y"] and box["y"] + box["height"] <= SCREEN["height"], (header, box)
        assert _on_top(screen, box) == "TH"
    assert screen.page.evaluate("[window.scrollX, document.getElementById('runs-wrap').scrollLeft]") == [0, 0]
    assert screen.errors == []


def test_the_runs_header_stays_visible_while_the_table_scrolls(screen):
    def header_and_box_top() -> tuple[dict, float]:
        top = screen.page.evaluate("document.getElementById('runs-wrap').getBoundingClientRect().y")
        return _header_box(screen, "runs", "top-1 (%)"), top

    screen.page.evaluate("document.getElementById('runs-section').scrollIntoView()")
    screen.page.locator("#runs-wrap").hover()  # (may scroll the page to bring the table's middle into view)
    before, top = header_and_box_top()
    assert abs(before["y"] - top) < 1
    screen.page.mouse.wheel(0, 600)
    for _ in range(50):  # the wheel scrolls asynchronously (wait_for_function would evaluate a string: CSP)
        if screen.page.evaluate("document.getElementById('runs-wrap').scrollTop") > 200:
            break
        screen.page.wait_for_timeout(20)
    assert screen.page.evaluate("document.getElementById('runs-wrap').scrollTop") > 200  # the table scrolled…
    after, top = header_and_box_top()
    assert abs(after["y"] - top) < 1  # …and its header stayed at the top of the table's box…
    assert 0 <= after["y"] and after["y"] + after["height"] <= SCREEN["height"]  # …on screen…
    assert _on_top(screen, after) == "TH"  # …drawn over the rows that scrolled beneath it
    first_row = screen.page.evaluate("document.querySelector('#runs tbody tr').getBoundingClientRect().y")
    assert first_row < after["y"]


def test_the_held_fixed_line_is_shown_above_the_runs_table(screen):
    line = screen.page.locator("#held-fixed")
    assert line.is_visible()
    text = line.inner_text()
    assert text.startswith("Held fixed:") and "fp32" in text and "eager" in text
    assert screen.page.evaluate("""document.getElementById('held-fixed').getBoundingClientRect().bottom
                                   <= document.getElementById('runs').getBoundingClientRect().top""")
    headers = screen.page.evaluate("Array.from(document.querySelectorAll('#runs thead th')).map(t => t.textContent)")
    assert "precision" not in headers and "compile" not in headers  # held fixed: no column


def test_the_published_section_opens_the_page_when_full_size_models_ran(browser, tmp_path):
    from tests.report.full_size import write_full_size

    write_full_size(tmp_path, devices=("cuda",))
    render_reports(tmp_path, ("html",))
    p = Page(browser, tmp_path / "report.html", SCREEN)
    try:
        assert p.errors == [] and p.outside == []
        assert p.page.locator("h2").first.inner_text() == "Published accuracy × measured cost"
        plot = p.page.locator("#plot-published-cuda svg")
        assert plot.is_visible() and plot.evaluate("s => s.getBBox().width") > 100
        assert "NOT measured at the published protocol" in p.page.inner_text("#published-budgets-1")
    finally:
        p.page.close()


REPORTS = Path(__file__).resolve().parents[2] / "reports"
# Each committed report's question, answered by its first section: picks by measured top-1 where accuracy was
# measured, the runtime pick where runtimes were compared, published accuracy × cost where full-size models
# ran at their published protocol.
ANSWERS = {"ablation-cpu": "Recommendations", "ablation-seeds-cpu": "Recommendations",
           "transfer-cpu": "Recommendations", "deploy-cpu": "Runtimes",
           "choose-cpu": "Published accuracy × measured cost", "frozen-cpu": "Frozen encoders: probes and k-NN",
           "int8-cpu": "int8: speed against accuracy", "serving-cpu": "Serving under load"}


def test_every_committed_report_is_listed_with_its_answer():
    assert sorted(ANSWERS) == sorted(p.parent.name for p in REPORTS.glob("*/report.html"))


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_a_committed_reports_first_screen_holds_its_answer(browser, name):
    """At 1366×768, the first section is the answer and its first table or chart starts on the first screen,
    and nothing is wider than the page."""
    p = Page(browser, REPORTS / name / "report.html", SCREEN)
    try:
        assert p.errors == [] and p.outside == []
        first = p.page.locator("h2").first
        assert first.inner_text() == ANSWERS[name]
        top = p.page.evaluate("""() => {
            const shown = document.querySelector('h2').closest('section').querySelector('table, svg, img');
            return shown ? shown.getBoundingClientRect().top : Infinity;
        }""")
        assert top < SCREEN["height"], f"{name}: its answer starts {top:.0f} px down, below the first screen"
        assert p.page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    finally:
        p.page.close()


def test_each_plotted_point_names_itself_on_hover(browser, report):
    """The point under the pointer is an invisible marker whose SVG <title> (the browser's hover label) names the
    run and its figures; no script is involved."""
    p = Page(browser, report, SCREEN)
    try:
        found = p.page.evaluate("""() => {
            const g = document.querySelector('svg g[id*="hover-"]');
            if (!g) return null;
            g.scrollIntoView({block: 'center'});
            const r = g.querySelector('use').getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            const group = hit && hit.closest('g[id*="hover-"]');
            return {title: g.querySelector('title').textContent, hit: group ? group.id : null, id: g.id,
                    count: document.querySelectorAll('svg g[id*="hover-"] > title').length};
        }""")
        assert found is not None, "no hoverable point in the report"
        assert found["hit"] is not None, found  # the pointer at a point reaches a labelled marker
        assert "top-1 (%)" in found["title"] and found["count"] > 4, found
        assert p.errors == []
    finally:
        p.page.close()
