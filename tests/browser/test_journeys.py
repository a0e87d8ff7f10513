"""The quarter's work in a real browser, checked for accessibility on every page it shows.

A lead enters a return (one figure wrong, then fixed, notes where the page asks for them)
and submits it; a reviewer sends it back with a reason; the lead corrects a figure and
resubmits; the reviewer approves; an admin publishes the report; an anonymous reader opens
it and downloads the PDF. axe-core checks each page against WCAG 2.2 AA. A second test
completes the return form with the keyboard alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from playwright.sync_api import Locator, Page, expect

from measures.models import Return
from tests.browser.harness import (
    AXE_JS,
    AXE_RUN,
    KNOWN_GAPS,
    PASSWORD,
    WCAG_TAGS,
    Audit,
    Row,
    focus_problems,
    focused,
    return_rows,
    verdict,
)

QUARTER = "Jan–Mar 2023"  # 2022/23-Q4: open for entry in the demo
RETURN_LINK = f"Open the return of Corporate Analysis, {QUARTER}"
RETURN_HEADING = f"Corporate Analysis: return for {QUARTER}"
NOTE = "Checked against the force crime system: the change is genuine."
HEADLINE = "Recorded crime was broadly stable this quarter; outcomes held steady."
# Temporary gaps would be KNOWN_GAPS entries (see harness.verdict); there are none now.
JOURNEY_GAPS = set(KNOWN_GAPS)
KEYBOARD_GAPS = set(KNOWN_GAPS)


# --- helpers ----------------------------------------------------------------------------------


def by_id(page: Page, element_id: str | None) -> Locator:
    assert element_id, "no such element"
    return page.locator(f'[id="{element_id}"]')


def sign_in(page: Page, base: str, username: str, audit: Audit) -> None:
    page.goto(f"{base}/login/")
    audit.check(page, f"{username}: sign-in page")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    audit.check(page, f"{username}: home page")


def follow_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def message(page: Page) -> Locator:
    return page.locator("main .messages")


def state(page: Page) -> Locator:
    return page.locator("dl.facts .status").first


def open_the_return(page: Page) -> None:
    page.get_by_role("link", name=RETURN_LINK).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(RETURN_HEADING)


def the_return() -> Return:
    return Return.objects.get(
        department__code="analysis", reporting_period__start=date(2023, 1, 1)
    )


# --- the journey ------------------------------------------------------------------------------


def lead_enters_the_return(page: Page, base: str, audit: Audit) -> dict[str, Row]:
    sign_in(page, base, "lead", audit)
    follow_nav(page, "Returns")
    expect(page.get_by_role("heading", level=1)).to_have_text("My returns")
    audit.check(page, "lead: returns list")
    open_the_return(page)
    expect(state(page)).to_have_text("Draft")
    audit.check(page, "lead: the empty return")

    rows = [row for row in return_rows(page) if row.required]
    assert len(rows) > 10, rows
    wrong = next(row for row in rows if row.unit == "count")
    for row in rows:
        for part, text in row.figures().items():
            by_id(page, row.ids[part]).fill(text)
    box = by_id(page, wrong.ids["value"])
    box.fill("-5")
    page.locator('textarea[name^="headline-"]').first.fill(HEADLINE)
    page.get_by_role("button", name="Save draft").click()

    # Refused: the summary (focused) links to the box, which shows its own error.
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Nothing was saved")
    link = summary.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", f"#{wrong.ids['value']}")
    expect(link).to_contain_text(wrong.label)
    expect(link).to_contain_text("negative")
    expect(box).to_have_value("-5")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(re.compile("cannot be below 0"))
    audit.check(page, "lead: the return with an invalid figure")
    assert the_return().version == 1, "a refused save wrote something"
    link.click()
    expect(box).to_be_focused()

    # Fixed and submitted: figures far from their usual range ask for a note first.
    box.fill(wrong.figures()["value"])
    page.get_by_role("button", name="Save and submit").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("saved as a draft, but the return was not submitted")
    needing_notes = [row for row in return_rows(page) if row.needs_note]
    assert needing_notes, "the demo's small counts always ask for at least one note"
    expect(summary.get_by_role("link")).to_have_count(len(needing_notes))
    for row in needing_notes:
        expect(summary.get_by_role("link", name=re.compile(re.escape(row.label)))).to_contain_text(
            "add a note"
        )
    audit.check(page, "lead: the return asking for notes")
    for row in needing_notes:
        by_id(page, row.ids["note"]).fill(NOTE)
    page.get_by_role("button", name="Save and submit").click()
    expect(message(page)).to_have_text("Submitted for review.")
    expect(state(page)).to_have_text("Submitted")
    expect(page.get_by_role("button", name="Save and submit")).to_have_count(0)
    audit.check(page, "lead: the submitted return")
    return {row.label: row for row in rows}


def reviewer_sends_it_back(page: Page, base: str, audit: Audit, reason: str) -> None:
    sign_in(page, base, "reviewer", audit)
    follow_nav(page, "Review")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    audit.check(page, "reviewer: review queue")
    open_the_return(page)
    expect(state(page)).to_have_text("Submitted")
    audit.check(page, "reviewer: the submitted return")

    send_back = page.get_by_role("button", name="Return for changes")
    send_back.click()  # No reason: refused, and the summary says where to give one.
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_send_back_reason")
    reason_box = page.get_by_role("textbox", name="Reason")
    expect(reason_box).to_have_attribute("aria-invalid", "true")
    audit.check(page, "reviewer: sending back without a reason")
    summary.get_by_role("link").click()
    expect(reason_box).to_be_focused()

    reason_box.fill(reason)
    send_back.click()
    expect(state(page)).to_have_text("Returned for changes")
    audit.check(page, "reviewer: the returned return")


def lead_corrects_and_resubmits(page: Page, audit: Audit, reason: str, new_value: str) -> None:
    follow_nav(page, "Returns")
    audit.check(page, "lead: returns list, return sent back")
    open_the_return(page)
    expect(state(page)).to_have_text("Returned for changes")
    notice = page.locator(".notice")
    expect(notice).to_contain_text("Returned for changes by reviewer")
    expect(notice).to_contain_text(reason)
    audit.check(page, "lead: the return sent back with a reason")
    page.get_by_label("All crime, Jan 2023: value (count)").fill(new_value)
    page.get_by_role("button", name="Save and submit").click()
    expect(message(page)).to_have_text("Submitted for review.")
    expect(state(page)).to_have_text("Submitted")
    history = page.locator("table.history")
    expect(history).to_contain_text(re.compile(rf"All crime, Jan 2023.*→ {new_value}\b"))
    audit.check(page, "lead: the resubmitted return")


def reviewer_approves(page: Page, audit: Audit) -> None:
    follow_nav(page, "Review")
    audit.check(page, "reviewer: review queue, resubmitted")
    open_the_return(page)
    expect(state(page)).to_have_text("Submitted")
    audit.check(page, "reviewer: the resubmitted return")
    page.get_by_role("button", name="Approve").click()
    expect(message(page)).to_contain_text("Approved")
    expect(state(page)).to_have_text("Approved")
    audit.check(page, "reviewer: the approved return")


def admin_finds_the_report_blocked(page: Page, base: str, audit: Audit) -> None:
    """While the return waits for review, its figures are provisional: publishing is blocked."""
    sign_in(page, base, "admin", audit)
    follow_nav(page, "Report")
    audit.check(page, "admin: report preview")
    page.get_by_role("link", name="Check and publish this report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the quarterly report")
    # The page starts on the reporting quarter (Q3: the last with every return approved);
    # the admin asks for Q4, still in progress.
    period = page.get_by_role("textbox", name="Reporting period")
    expect(period).to_have_value("2022-12")
    audit.check(page, "admin: publish page, the reporting quarter")
    period.fill("2022/23-Q4")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text(QUARTER)
    problems = page.locator(".error-summary")
    expect(problems).to_contain_text("before this report can be published")
    expect(problems).to_contain_text("is provisional — approve its return first")
    expect(problems).to_contain_text("Key Headlines from Corporate Analysis are not approved")
    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    audit.check(page, "admin: publish page, report blocked")


def admin_publishes(page: Page, audit: Audit) -> None:
    page.reload()
    # Only Corporate Analysis has sent its Q4 return in the demo: the other departments'
    # returns are listed, and the admin publishes anyway, giving a reason for each.
    problems = page.locator(".error-summary")
    expect(problems).to_contain_text("its figures are not in this report")
    expect(problems).not_to_contain_text("is provisional")
    audit.check(page, "admin: publish page, other returns missing")
    overrides = page.locator("input[name^='override-return-']")
    assert overrides.count() == 6, overrides.count()
    for index in range(overrides.count()):
        overrides.nth(index).fill("Publishing the figures received; the rest follow in v2.")
    page.get_by_role("button", name="Publish with the overrides given").click()
    expect(message(page)).to_contain_text("Published version 1 of")
    expect(page.locator(".intro")).to_contain_text(f"{QUARTER} · version 1")
    audit.check(page, "admin: the published report")


def reader_downloads_the_pdf(page: Page, base: str, audit: Audit) -> None:
    page.goto(f"{base}/reports/published/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Published reports")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    audit.check(page, "reader: published reports")
    page.get_by_role("heading", level=2).get_by_role("link", name=re.compile(QUARTER)).click()
    expect(page.locator(".intro")).to_contain_text(f"{QUARTER} · version 1")
    expect(page.get_by_text(HEADLINE)).to_be_visible()
    audit.check(page, "reader: the published report")
    # Chromium shows the PDF in its viewer (it is sent inline): check what the server sent,
    # then fetch the bytes as the reader's browser would when saving it.
    link = page.get_by_role("link", name="PDF", exact=True)
    href = link.get_attribute("href")
    with page.expect_response(re.compile(r"/v1/report\.pdf$")) as opened:
        link.click()
    assert opened.value.status == 200
    assert opened.value.headers["content-type"] == "application/pdf"
    assert opened.value.headers["content-disposition"].endswith('-v1.pdf"')
    pdf = page.request.get(f"{base}{href}")
    assert pdf.ok, pdf.status
    assert pdf.body().startswith(b"%PDF-"), pdf.body()[:40]


def test_a_return_goes_from_the_leads_figures_to_a_published_pdf(demo_site, actor, audit, journey):
    lead, reviewer, admin, reader = (
        actor(name) for name in ("lead", "reviewer", "admin", "reader")
    )
    with journey.step("1-lead-enters-the-return", lead):
        rows = lead_enters_the_return(lead, demo_site, audit)
    entered = Decimal(rows["All crime, Jan 2023"].figures()["value"])
    corrected = str(entered + 103)
    reason = f"All crime for Jan 2023 does not match the crime system, which shows {corrected}."
    with journey.step("2-reviewer-sends-it-back", reviewer):
        reviewer_sends_it_back(reviewer, demo_site, audit, reason)
    with journey.step("3-lead-corrects-and-resubmits", lead):
        lead_corrects_and_resubmits(lead, audit, reason, corrected)
    with journey.step("4-admin-finds-the-report-blocked", admin):
        admin_finds_the_report_blocked(admin, demo_site, audit)
    with journey.step("5-reviewer-approves", reviewer):
        reviewer_approves(reviewer, audit)
    with journey.step("6-admin-publishes", admin):
        admin_publishes(admin, audit)
    with journey.step("7-reader-downloads-the-pdf", reader):
        reader_downloads_the_pdf(reader, demo_site, audit)

    assert not audit.unaudited(), f"pages the audit did not check: {audit.unaudited()}"
    verdict(audit, expected_gaps=JOURNEY_GAPS)


# --- the keyboard alone -----------------------------------------------------------------------


def tab_until(
    page: Page,
    done: Callable[[dict], bool],
    *,
    seen: list[dict],
    on_focus: Callable[[dict], None] | None = None,
    limit: int = 300,
) -> dict:
    """Press Tab until `done(focused element)`; `on_focus` may type into each stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element is None:
            continue
        seen.append(element)
        if on_focus is not None:
            on_focus(element)
        if done(element):
            return element
    raise AssertionError(f"not reached after {limit} Tabs; last stops: {seen[-3:]}")


def button(text: str) -> Callable[[dict], bool]:
    return lambda element: element["tag"] == "button" and element["text"] == text


FORM_CONTROLS = """() => [...document.querySelectorAll(
  "form.return-form input:not([type=hidden]), form.return-form textarea, "
  + "form.return-form button, form.return-form summary"
)].filter((el) => el.tagName === "SUMMARY" || !el.closest("details:not([open])"))
  .map((el) => el.id || el.textContent.trim())"""


def test_a_lead_completes_the_return_with_the_keyboard_alone(demo_site, actor, audit, journey):
    page = actor("lead")
    seen: list[dict] = []  # every element that had focus, with its focus style
    return_url = the_return().get_absolute_url()

    with journey.step("1-sign-in", page):
        page.goto(f"{demo_site}/login/")
        audit.check(page, "lead: sign-in page")
        expect(page.get_by_role("textbox", name="Username")).to_be_focused()  # autofocus
        page.keyboard.type("lead")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_text("Signed in as lead")).to_be_visible()
        audit.check(page, "lead: home page")

    with journey.step("2-find-the-return", page):
        tab_until(page, lambda e: e["tag"] == "a" and e["text"] == "Returns", seen=seen)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("My returns")
        audit.check(page, "lead: returns list")
        skip = tab_until(page, lambda e: True, seen=seen)
        assert skip["text"] == "Skip to main content", skip
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        tab_until(page, lambda e: e["href"] == return_url, seen=seen)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(RETURN_HEADING)
        audit.check(page, "lead: the empty return")

    with journey.step("3-fill-in-every-box", page):
        rows = [row for row in return_rows(page) if row.required]
        wrong = next(row for row in rows if row.unit == "count")
        typed = {row.ids[part]: text for row in rows for part, text in row.figures().items()}
        typed[wrong.ids["value"]] = "-5"
        typed[page.locator('textarea[name^="headline-"]').first.get_attribute("id")] = HEADLINE
        stops: list[dict] = []

        def type_planned(element: dict) -> None:
            stops.append(element)
            if element["id"] in typed:
                page.keyboard.type(typed[element["id"]])

        tab_until(page, button("Save draft"), on_focus=type_planned, seen=seen)
        # Every box of the form was reached, in the order it is read, from the top.
        controls = page.evaluate(FORM_CONTROLS)
        reached = [e["id"] or e["text"] for e in stops if e["in_form"]]
        assert reached == controls[: controls.index("Save draft") + 1]
        assert stops[0]["text"] == "Skip to main content", stops[0]
        for element_id, text in typed.items():
            expect(by_id(page, element_id)).to_have_value(text)
        page.keyboard.press("Enter")

    with journey.step("4-follow-the-error-summary", page):
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Nothing was saved")
        audit.check(page, "lead: the return with an invalid figure")
        link = tab_until(page, lambda e: True, seen=seen)
        assert link["href"] == f"#{wrong.ids['value']}", link
        page.keyboard.press("Enter")
        box = by_id(page, wrong.ids["value"])
        expect(box).to_be_focused()
        expect(box).to_have_attribute("aria-invalid", "true")
        page.keyboard.press("Control+A")
        page.keyboard.type(wrong.figures()["value"])
        tab_until(page, button("Save and submit"), seen=seen)
        page.keyboard.press("Space")

    with journey.step("5-add-the-notes-asked-for", page):
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("saved as a draft, but the return was not submitted")
        audit.check(page, "lead: the return asking for notes")
        notes = {row.ids["note"] for row in return_rows(page) if row.needs_note}
        assert notes

        def type_note(element: dict) -> None:
            if element["id"] in notes:
                page.keyboard.type(NOTE)
                notes.discard(element["id"])

        tab_until(page, button("Save and submit"), on_focus=type_note, seen=seen)
        assert not notes, f"note boxes never reached: {notes}"
        page.keyboard.press("Space")
        expect(message(page)).to_have_text("Submitted for review.")
        expect(state(page)).to_have_text("Submitted")
        audit.check(page, "lead: the submitted return")

    assert not audit.unaudited(), f"pages the audit did not check: {audit.unaudited()}"
    verdict(audit, expected_gaps=KEYBOARD_GAPS, focus=tuple(focus_problems(seen)))


# --- the audit itself -------------------------------------------------------------------------


def test_axe_runs_under_a_content_security_policy_without_unsafe_inline(chromium):
    """The audit's own check: axe still runs where CSP blocks inline scripts, and finds a
    violation planted in the page."""
    context = chromium.new_context()
    try:
        context.add_init_script(path=str(AXE_JS))
        page = context.new_page()
        page.route(
            "http://csp.invalid/",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"},
                body='<!DOCTYPE html><html lang="en"><head><title>CSP</title></head><body>'
                '<main><h1>CSP</h1><img src="x.png"></main>'
                "<script>window.inlineRan = true</script></body></html>",
            ),
        )
        page.goto("http://csp.invalid/")
        assert page.evaluate("window.inlineRan === undefined"), "CSP did not block inline script"
        violations = page.evaluate(AXE_RUN, WCAG_TAGS)
        assert violations is not None, "axe-core was not loaded under CSP"
        assert [v["id"] for v in violations] == ["image-alt"]
    finally:
        context.close()
