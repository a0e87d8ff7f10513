"""Two leads edit the same return in two browsers (SPEC §5: two people editing).

The second to save gets the conflict page with what they typed still in its box and the
first lead's change marked beside it; saving again after looking goes through, and the
stored figure is theirs.
"""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import expect

from measures.accounts import user_provision
from measures.arithmetic.periods import parse_period
from measures.models import Value
from tests.browser.harness import KNOWN_GAPS, PASSWORD, return_rows, verdict
from tests.browser.test_journeys import follow_nav, message, open_the_return, sign_in

FIGURE = "All crime, Jan 2023"


def stored_all_crime() -> Decimal | None:
    value = Value.objects.filter(
        measure__code="all-crime",
        area__code="lancs",
        start=parse_period("2023-01").start.first_day,
    ).first()
    return value.value if value else None


def test_a_stale_save_keeps_what_was_typed_and_saving_again_goes_through(
    demo_site, actor, audit, journey
):
    user_provision(
        username="lead2",
        role="lead",
        department_codes=["analysis"],
        password=PASSWORD,
        validate=False,
    )
    first, second = actor("lead"), actor("lead2")
    with journey.step("1-both-open-the-return", first, second):
        for page, username in ((first, "lead"), (second, "lead2")):
            sign_in(page, demo_site, username, audit)
            follow_nav(page, "Returns")
            audit.check(page, f"{username}: returns list")
            open_the_return(page)
            audit.check(page, f"{username}: the return")
        row = next(r for r in return_rows(first) if r.label == FIGURE)
        base = Decimal(row.figures()["value"])
        theirs, mine = str(base + 45), str(base + 99)

    with journey.step("2-lead2-saves-first", second):
        second.get_by_label(f"{FIGURE}: value (count)").fill(theirs)
        second.get_by_role("button", name="Save draft").click()
        expect(message(second)).to_have_text("Your draft is saved.")
        audit.check(second, "lead2: saved")

    box = first.get_by_label(f"{FIGURE}: value (count)")
    with journey.step("3-lead-saves-a-stale-form", first):
        box.fill(mine)
        first.get_by_role("button", name="Save draft").click()
        summary = first.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Someone else changed this return after you opened it")
        expect(summary).to_contain_text(f"{FIGURE} value: (blank) → {theirs}")
        expect(box).to_have_value(mine)
        expect(box).to_have_accessible_description(
            f"Changed by lead2 to {theirs} while you were editing. "
            "Yours is kept: saving replaces theirs."
        )
        audit.check(first, "lead: the conflict page")
        assert stored_all_crime() == Decimal(theirs), "the stale save wrote nothing"

    with journey.step("4-lead-saves-again", first):
        first.get_by_role("button", name="Save draft").click()
        expect(message(first)).to_have_text("Your draft is saved.")
        expect(box).to_have_value(mine)
        audit.check(first, "lead: saved after the conflict")
        assert stored_all_crime() == Decimal(mine)

    assert not audit.unaudited(), f"pages the audit did not check: {audit.unaudited()}"
    verdict(audit, expected_gaps=set(KNOWN_GAPS))
