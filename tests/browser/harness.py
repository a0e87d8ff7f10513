"""What the browser tests share: where Chromium and axe-core are, the accessibility audit,
screenshots of a failed step, and reading the return form as a person sees it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# WCAG 2.2 AA as axe-core tags its rules (2.0, 2.1 and 2.2, levels A and AA).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = ("serious", "critical")
PASSWORD = "a-long-browser-test-password-1"


def missing_prerequisites() -> list[str]:
    """Say what the browser tests need and this machine lacks (empty when all is there)."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (install Debian's chromium: apt-get install chromium)")
    if not AXE_JS.is_file():
        missing.append(f"{AXE_JS.relative_to(ROOT)} (run `npm ci` at the repository root)")
    return missing


# --- accessibility ----------------------------------------------------------------------------

AXE_RUN = """async (tags) => {
  if (typeof window.axe === "undefined") {
    return null;
  }
  const results = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "), html: n.html, summary: n.failureSummary,
    })),
  }));
}"""

# Data tables without a caption (or other accessible name) or without header cells.
TABLE_PROBLEMS = """() => [...document.querySelectorAll("main table")].flatMap((table) => {
  const name = (table.caption && table.caption.textContent.trim())
    || table.getAttribute("aria-label")
    || (table.getAttribute("aria-labelledby") || "").split(/\\s+/)
        .map((id) => document.getElementById(id)).filter(Boolean)
        .map((el) => el.textContent.trim()).join(" ");
  const problems = [];
  const where = table.className ? `table.${table.className.trim().split(/\\s+/).join(".")}`
    : "table";
  if (!name) problems.push(`${where} has no <caption> (nor aria-label/aria-labelledby)`);
  if (!table.querySelector("th")) problems.push(`${where} has no header cells (<th>)`);
  return problems;
})"""


@dataclass
class AuditResult:
    label: str
    url: str
    violations: list[dict]
    table_problems: list[str]


@dataclass
class Audit:
    """axe-core (WCAG 2.2 AA rules) on every page a journey shows, and which pages it saw.

    axe is added to every page of a browser context as an init script, which the
    Content-Security-Policy cannot block (it is not an inline <script>), and run through
    Playwright's evaluate, which CSP does not govern either.
    """

    results: list[AuditResult] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Record every document the page loads, so no page escapes the audit."""

        def navigated(frame) -> None:
            if frame == page.main_frame:
                self.visited.append(frame.url)

        page.on("framenavigated", navigated)

    def check(self, page: Page, label: str) -> AuditResult:
        import time

        print(f"{time.monotonic():.1f} audit {label}")
        page.wait_for_load_state("load")
        violations = page.evaluate(AXE_RUN, WCAG_TAGS)
        if violations is None:
            raise AssertionError(f"axe-core was not loaded into {page.url} ({label})")
        result = AuditResult(label, page.url, violations, page.evaluate(TABLE_PROBLEMS))
        self.results.append(result)
        return result

    def blocking(self) -> list[AuditResult]:
        """Pages with serious or critical violations, with only those violations."""
        found = []
        for result in self.results:
            serious = [v for v in result.violations if v["impact"] in BLOCKING_IMPACTS]
            if serious:
                found.append(AuditResult(result.label, result.url, serious, []))
        return found

    def unaudited(self) -> list[str]:
        audited = {result.url for result in self.results}
        return sorted({url for url in self.visited if url not in audited and url != "about:blank"})

    def table_problems(self) -> dict[str, list[str]]:
        """Table problems by page path (the same page seen twice counts once)."""
        found: dict[str, list[str]] = {}
        for result in self.results:
            if result.table_problems:
                path = re.sub(r"^https?://[^/]+", "", result.url)
                found.setdefault(path, result.table_problems)
        return found


def describe(results: list[AuditResult]) -> str:
    """axe's findings as a person reads them: page, rule, impact, elements, how to fix."""
    lines = []
    for result in results:
        lines.append(f"{result.label} — {result.url}")
        for v in result.violations:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"][:10]:
                lines.append(f"    at {node['target']}: {node['html'][:160]}")
                for line in (node["summary"] or "").splitlines():
                    lines.append(f"      {line.strip()}")
            if len(v["nodes"]) > 10:
                lines.append(f"    … and {len(v['nodes']) - 10} more elements")
    return "\n".join(lines)


# --- screenshots of failed steps --------------------------------------------------------------


@dataclass
class Journey:
    """Names a test's steps; a step that fails leaves a full-page screenshot and its HTML."""

    test_name: str
    captured: list[Path] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, *pages: Page) -> Iterator[None]:
        try:
            yield
        except BaseException:
            for index, page in enumerate(pages):
                self.capture(f"{name}-{index}" if len(pages) > 1 else name, page)
            raise

    def capture(self, name: str, page: Page) -> Path | None:
        if page.is_closed():
            return None
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}--{name}")
        path = ARTIFACTS / f"{stem}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=10_000)
            (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
        except Exception as exc:  # A screenshot must never hide the real failure.
            print(f"could not capture {name}: {exc}")
            return None
        print(f"screenshot of the failed step: {path}")
        self.captured.append(path)
        return path


# --- the return form --------------------------------------------------------------------------

READ_ROWS = """() => {
  const table = document.querySelector("table.return-rows");
  const headers = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
  const cell = (tr, name) => tr.cells[headers.indexOf(name)];
  return [...table.tBodies[0].rows].filter((tr) => tr.querySelector('input[name^="value-"]'))
    .map((tr) => {
      const value = tr.querySelector('input[name^="value-"]');
      const part = (p) => tr.querySelector(`input[name^="${p}-"]`);
      return {
        key: value.name.slice("value-".length),
        measure: cell(tr, "Measure").firstChild.textContent.trim(),
        period: cell(tr, "Period").textContent.trim(),
        previous: cell(tr, "Previous period").textContent.trim(),
        last_year: cell(tr, "Same period last year").textContent.trim(),
        unit: tr.dataset.unit,
        required: !/Not yet due/.test(cell(tr, "Measure").textContent),
        ratio: Boolean(part("numerator")),
        needs_note: /Needs a note/.test(cell(tr, "Warnings").textContent),
        warnings: cell(tr, "Warnings").textContent.trim(),
        ids: {value: value.id, numerator: part("numerator")?.id, denominator: part("denominator")?.id,
              note: tr.querySelector('textarea[name^="note-"]').id},
      };
    });
}"""


@dataclass
class Row:
    key: str
    measure: str
    period: str
    previous: str
    last_year: str
    unit: str
    required: bool
    ratio: bool
    needs_note: bool
    warnings: str
    ids: dict[str, str | None]

    @property
    def label(self) -> str:
        return f"{self.measure}, {self.period}"

    def figures(self) -> dict[str, str]:
        """Plausible figures for the row: the same period last year's, as a lead types them.

        A rate gets its numerator and denominator too, in hundredths of a percent, so that
        the three agree exactly.
        """
        base = number(self.last_year) or number(self.previous)
        if self.ratio:
            rate = base if base is not None else Decimal("75")
            return {
                "value": f"{rate.normalize():f}",
                "numerator": str(int(rate * 100)),
                "denominator": "10000",
            }
        if base is None:
            base = Decimal(10)
        return {"value": f"{base.normalize():f}"}


def number(text: str) -> Decimal | None:
    cleaned = re.sub(r"[\s,£%]|days|years|kg", "", text)
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def return_rows(page: Page) -> list[Row]:
    return [Row(**row) for row in page.evaluate(READ_ROWS)]


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
    type: el.getAttribute("type") || "", text: (el.innerText || el.value || "").trim().slice(0, 80),
    href: el.getAttribute("href") || "", summary: el.hasAttribute("data-error-summary"),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    outline_color: style.outlineColor, box_shadow: style.boxShadow,
    background: style.backgroundColor,
  };
}"""


def focused(page: Page) -> dict | None:
    """What has keyboard focus now, and whether it shows a focus indicator."""
    return page.evaluate(FOCUSED)
