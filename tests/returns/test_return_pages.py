"""The lead's side of returns: the list, the return form, validation, conflicts and access."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from measures.accounts import user_provision
from measures.arithmetic.periods import parse_period
from measures.models import Area, Headline, Measure, Return, ReturnEvent, Value
from measures.returns import services, urls
from tests.conftest import PASSWORD
from tests.factories import monthly_values
from tests.returns import (
    alice_figures,
    assaults,
    form_data,
    key,
    open_quarter,
    return_of,
)

# Every URL that takes a return's id, with the methods it answers. A new URL that takes
# an id must be added here: test_the_matrix_covers_every_url_that_takes_a_return fails
# until it is.
RETURN_URLS = {
    "returns:detail": ("get", "post"),
    "returns:submit": ("get", "post"),
    "returns:approve": ("get", "post"),
    "returns:send-back": ("get", "post"),
    "returns:reopen": ("get", "post"),
}
ALL_URLS = ["returns:list", "returns:review-queue", "returns:periods", *RETURN_URLS]


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


def url(name: str, ret: Return | None = None) -> str:
    return reverse(name, args=[ret.pk]) if name in RETURN_URLS and ret else reverse(name)


def detail(ret: Return) -> str:
    return reverse("returns:detail", args=[ret.pk])


def table_of(response) -> str:
    return re.search(r"<table.*?</table>", response.content.decode(), re.S)[0]


def save(client, ret: Return, action: str = "save", **typed: str):
    page = client.get(detail(ret))
    return client.post(detail(ret), {**form_data(page, **typed), "action": action})


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_URLS)
def test_every_returns_page_sends_anonymous_people_to_login(client, quarter, name):
    response = client.get(url(name, return_of("dept-a")))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, method) for name, methods in RETURN_URLS.items() for method in methods],
)
def test_a_lead_gets_404_for_another_departments_return_on_every_url(
    client, alice, bob, quarter, name, method
):
    bobs = return_of("dept-b")
    client.force_login(alice)

    response = getattr(client, method)(
        url(name, bobs), {"reason": "x", "action": "save", "version": bobs.version}
    )

    assert response.status_code == 404
    bobs.refresh_from_db()
    assert (bobs.status, bobs.version) == (Return.Status.DRAFT, 1)


def test_the_matrix_covers_every_url_that_takes_a_return():
    takes_an_id = {
        f"returns:{p.name}"
        for p in urls.urlpatterns
        if isinstance(p, URLPattern) and "<int:pk>" in str(p.pattern)
    }

    assert takes_an_id == set(RETURN_URLS)


def test_a_viewer_is_refused_the_returns_list_and_the_review_queue(client, viewer, quarter):
    client.force_login(viewer)

    listing = client.get(reverse("returns:list"))
    queue = client.get(reverse("returns:review-queue"))

    assert listing.status_code == 403
    assert "has no returns" in listing.content.decode()
    assert queue.status_code == 403
    assert "Only reviewers and admins" in queue.content.decode()


def test_a_lead_cannot_approve_or_send_back_her_own_departments_return(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, "submit", **alice_figures())
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED

    approve = client.post(url("returns:approve", ret))
    send_back = client.post(url("returns:send-back", ret), {"reason": "no"})

    assert approve.status_code == 403
    assert "Your role (lead) may not approve returns." in approve.content.decode()
    assert send_back.status_code == 403
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED


def test_the_navigation_links_a_lead_to_returns_and_a_reviewer_to_the_review_queue(
    client, alice, charlie
):
    client.force_login(alice)
    page = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("returns:list")}"' in page
    assert f'href="{reverse("returns:review-queue")}"' not in page
    client.force_login(charlie)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("returns:review-queue")}"' in page


# --- the list ---------------------------------------------------------------------------------


def test_a_lead_lists_only_her_departments_returns_with_deadline_state_and_progress(
    client, alice, quarter
):
    ret = return_of("dept-a")
    Value.objects.create(
        measure=Measure.objects.get(code="t-assaults"),
        area=Area.objects.get(code="force"),
        start=date(2022, 10, 1),
        end=date(2022, 10, 1),
        value=Decimal(4),
    )
    client.force_login(alice)

    page = client.get(reverse("returns:list")).content.decode()

    assert "My returns" in page
    assert "Department A" in page
    assert "Department B" not in page
    assert "Oct–Dec 2022" in page
    assert "20 Jan 2023" in page
    assert "Draft" in page
    assert "1 / 3" in page
    assert f'href="{detail(ret)}"' in page


def test_a_reviewer_lists_every_departments_return(client, charlie, quarter):
    client.force_login(charlie)

    page = client.get(reverse("returns:list")).content.decode()

    assert "Department A" in page
    assert "Department B" in page
    # Department B owes two monthly rates (three months) and one quarterly figure.
    assert "0 / 4" in page


def test_the_list_flags_a_return_overdue_only_while_it_is_still_with_its_lead(
    client, alice, small_plan
):
    open_quarter(deadline=date.today() - timedelta(days=1))
    client.force_login(alice)

    overdue = client.get(reverse("returns:list")).content.decode()
    save(client, return_of("dept-a"), "submit", **alice_figures())
    submitted = client.get(reverse("returns:list")).content.decode()

    assert "status-overdue" in overdue
    assert "status-overdue" not in submitted


def test_the_list_filters_by_state(client, alice, quarter):
    open_quarter("2022/23-Q2", deadline=date(2022, 10, 20))
    client.force_login(alice)
    save(client, return_of("dept-a"), "submit", **alice_figures())

    submitted = table_of(client.get(reverse("returns:list"), {"status": "submitted"}))
    drafts = table_of(client.get(reverse("returns:list"), {"status": "draft"}))

    assert "Oct–Dec 2022" in submitted
    assert "Jul–Sep 2022" not in submitted
    assert "Jul–Sep 2022" in drafts
    assert "Oct–Dec 2022" not in drafts


def test_the_returns_list_takes_the_same_number_of_queries_however_many_returns(
    client, charlie, small_plan
):
    client.force_login(charlie)
    open_quarter("2022/23-Q1", deadline=date(2022, 7, 20))
    client.get(reverse("returns:list"))  # warm up: session, user, content types

    with CaptureQueriesContext(connection) as two_returns:
        assert client.get(reverse("returns:list")).status_code == 200
    for notation in ("2022/23-Q2", "2022/23-Q3", "2022/23-Q4", "2023/24-Q1"):
        open_quarter(notation, deadline=date(2024, 1, 20))
    with CaptureQueriesContext(connection) as ten_returns:
        page = client.get(reverse("returns:list"))

    assert page.content.decode().count("Open<span") == 10
    assert len(ten_returns) == len(two_returns)
    # Session, user with profile; count and page of returns; the period and department
    # choices of the filters; measures, values and not-available figures for the progress
    # column.
    assert len(ten_returns) == 9


# --- the return form --------------------------------------------------------------------------


class Labels(HTMLParser):
    """Collect the ids of visible form controls and the `for` of every label."""

    def __init__(self):
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.labelled.add(attrs.get("for", ""))
        elif tag in {"input", "textarea", "select"} and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id", ""))


def test_the_return_form_has_a_labelled_box_for_every_figure_note_and_headline(
    client, bob, quarter
):
    client.force_login(bob)

    response = client.get(detail(return_of("dept-b")))
    parser = Labels()
    parser.feed(response.content.decode())

    rate = key("t-satisfied", "2022-11")
    expected = {
        f"id_value-{rate}",
        f"id_numerator-{rate}",
        f"id_denominator-{rate}",
        f"id_note-{rate}",
        f"id_value-{key('t-cash', '2022/23-Q3')}",
        "id_headline-violence",
    }
    assert expected <= set(parser.controls)
    assert set(parser.controls) <= parser.labelled
    assert f"id_numerator-{key('t-cash', '2022/23-Q3')}" not in parser.controls
    assert 'name="action" value="save"' in response.content.decode()
    assert 'name="action" value="submit"' in response.content.decode()


def test_an_invalid_value_is_shown_beside_its_box_and_in_the_summary_and_nothing_is_saved(
    client, alice, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(client, ret, **alice_figures(oct="twelve"))
    page = response.content.decode()

    field_id = f"id_{assaults('2022-10')}"
    assert response.status_code == 200
    assert re.search(rf'<span class="field-error" id="{field_id}_error">Enter a number', page), (
        "error beside the box"
    )
    box = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)[0]
    assert 'aria-invalid="true"' in box
    assert f'aria-describedby="{field_id}_error"' in box
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', page, re.S)[0]
    assert f'href="#{field_id}"' in summary
    assert "Assaults, Oct 2022: value (count): Enter a number" in summary
    assert "Nothing was saved" in summary
    assert 'value="twelve"' in box, "what was typed is kept"
    assert not Value.objects.exists()
    ret.refresh_from_db()
    assert ret.version == 1


def test_a_negative_count_is_refused_and_shown_beside_its_box(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)

    page = save(client, ret, **alice_figures(nov="-3")).content.decode()

    field_id = f"id_{assaults('2022-11')}"
    assert re.search(rf'id="{field_id}_error">[^<]*value -3 is negative', page)
    assert f'href="#{field_id}"' in page
    assert not Value.objects.exists()


def test_a_percentage_over_100_and_a_numerator_over_its_denominator_are_refused(
    client, bob, quarter
):
    ret = return_of("dept-b")
    oct_rate, nov_rate = key("t-satisfied", "2022-10"), key("t-satisfied", "2022-11")
    client.force_login(bob)

    page = save(
        client,
        ret,
        **{
            f"value-{oct_rate}": "101",
            f"value-{nov_rate}": "100",
            f"numerator-{nov_rate}": "60",
            f"denominator-{nov_rate}": "50",
        },
    ).content.decode()

    assert re.search(rf'id="id_value-{oct_rate}_error">[^<]*not a percentage', page)
    assert re.search(rf'id="id_value-{nov_rate}_error">[^<]*greater than denominator', page)
    assert not Value.objects.exists()


def test_every_rows_problems_are_shown_at_once(client, bob, quarter):
    oct_rate, nov_rate = key("t-satisfied", "2022-10"), key("t-satisfied", "2022-11")
    client.force_login(bob)

    page = save(
        client,
        return_of("dept-b"),
        **{
            f"value-{oct_rate}": "abc",
            f"numerator-{nov_rate}": "70",
            f"denominator-{nov_rate}": "50",
        },
    ).content.decode()

    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)[0]
    assert f'href="#id_value-{oct_rate}"' in summary
    assert f'href="#id_value-{nov_rate}"' in summary
    assert "numerator 70 is greater than denominator 50" in summary


def test_a_rates_value_is_worked_out_from_its_parts_when_left_blank(client, bob, quarter):
    rate = key("t-satisfied", "2022-10")
    client.force_login(bob)

    response = save(
        client, return_of("dept-b"), **{f"numerator-{rate}": "45", f"denominator-{rate}": "60"}
    )

    assert response.status_code == 302
    stored = Value.objects.get(measure__code="t-satisfied", start=date(2022, 10, 1))
    assert (stored.value, stored.numerator, stored.denominator) == (75, 45, 60)


def test_a_saved_draft_redirects_with_a_message_and_keeps_figures_headline_and_note(
    client, alice, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(
        client,
        ret,
        **alice_figures(),
        **{
            f"note-{key('t-assaults', '2022-12')}": "A quiet month",
            "headline-violence": "- Assaults are down",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail(ret)
    page = client.get(detail(ret)).content.decode()
    assert "Your draft is saved." in page
    assert 'value="12"' in page
    assert "A quiet month" in page
    assert "- Assaults are down" in page
    ret.refresh_from_db()
    assert (ret.status, ret.version) == (Return.Status.DRAFT, 2)
    assert Headline.objects.get().text == "- Assaults are down"
    assert sorted(Value.objects.values_list("value", flat=True)) == [10, 11, 12]


def test_saving_an_unchanged_form_records_nothing(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, **alice_figures())

    response = save(client, ret)

    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.version == 2
    assert ret.events.filter(kind=ReturnEvent.Kind.SAVED).count() == 1
    assert "Nothing had changed" in client.get(detail(ret)).content.decode()


def test_submitting_with_a_missing_figure_saves_the_draft_and_shows_what_is_missing(
    client, alice, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)

    response = save(client, ret, "submit", **alice_figures(dec=""))
    page = response.content.decode()

    assert response.status_code == 200
    assert "saved as a draft, but the return was not submitted" in page
    field_id = f"id_{assaults('2022-12')}"
    assert re.search(rf'id="{field_id}_error">[^<]*Dec 2022: enter a figure', page)
    assert f'<a href="#{field_id}">Assaults, Dec 2022: enter a figure</a>' in page
    ret.refresh_from_db()
    assert ret.status == Return.Status.DRAFT
    assert Value.objects.count() == 2
    # The re-shown form carries the new version, so finishing it off does not conflict.
    finished = client.post(
        detail(ret), {**form_data(response, **{assaults("2022-12"): "9"}), "action": "submit"}
    )
    assert finished.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED


def test_a_large_jump_needs_a_note_before_submission(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)

    refused = save(client, ret, "submit", **alice_figures(nov="40", dec="35")).content.decode()

    field_id = f"id_{assaults('2022-11')}"
    assert re.search(rf'id="{field_id}_error">[^<]*add a note explaining it', refused)
    assert "Needs a note before submission." in refused
    ret.refresh_from_db()
    assert ret.status == Return.Status.DRAFT

    explained = save(
        client, ret, "submit", **{f"note-{key('t-assaults', '2022-11')}": "A festival"}
    )
    assert explained.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED


def test_a_stale_form_shows_what_the_other_person_changed_and_overwrites_nothing(
    client, alice, quarter
):
    ret = return_of("dept-a")
    amir, _ = user_provision(
        username="amir",
        role="lead",
        department_codes=["dept-a"],
        password=PASSWORD,
        validate=False,
    )
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            services.ValueEntry("t-assaults", parse_period("2022-12"), Decimal(13)),
        ],
        actor=amir,
    )

    response = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(dec="99")), "action": "save"}
    )
    page = response.content.decode()

    assert response.status_code == 409
    assert "Someone else changed this return" in page
    assert re.search(r"amir \(\d+ \w+ 2\d{3} \d\d:\d\d\): Assaults, Dec 2022 value", page)
    assert "(blank) → 13" in page
    assert list(Value.objects.values_list("value", flat=True)) == [13]
    assert 'value="99"' in page, "what alice typed is kept (tests/returns/test_stale_save.py)"
    assert "Changed by amir to 13 while you were editing." in page
    ret.refresh_from_db()
    assert ret.version == 2


def test_the_form_offers_the_implied_rolling_twelve_months_where_history_allows(
    client, alice, quarter
):
    force = Area.objects.get(code="force")
    assault = Measure.objects.get(code="t-assaults")
    # Nov 2021 – Sep 2022: the 11 months before October
    monthly_values(assault, [force], start="2021-11", months=11, value=lambda i, a: Decimal(10))
    client.force_login(alice)
    save(client, return_of("dept-a"), **alice_figures(oct="5", nov="", dec=""))

    page = client.get(detail(return_of("dept-a"))).content.decode()

    rows = re.findall(r"<tr[ >].*?</tr>", page.split("<tbody>")[1], re.S)
    october, november, december = rows[:3]
    assert 'data-rolling-before="110"' in october
    assert f'name="{assaults("2022-10")}"' in october
    assert "data-rolling-twelve>115<" in october
    assert 'data-rolling-before="105"' in november
    assert "data-rolling-twelve>–<" in november, "no figure typed yet"
    assert "data-rolling-before" not in december, "November is missing"
    assert "data-rolling-twelve>–<" in december
    assert 'src="/static/js/return-form.js"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "no inline scripts"


def test_the_return_page_of_a_submitted_return_is_read_only_for_its_lead(client, alice, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, "submit", **alice_figures())

    page = client.get(detail(ret))
    refused = client.post(detail(ret), {**alice_figures(oct="1"), "version": 3})

    assert page.context["form"] is None
    assert 'name="action"' not in page.content.decode()
    assert "Submitted" in page.content.decode()
    assert refused.status_code == 403
    assert "This return is submitted and cannot be changed." in refused.content.decode()
    assert Value.objects.get(start=date(2022, 10, 1)).value == 10


def test_the_submit_url_submits_a_complete_return_and_lists_problems_of_an_incomplete_one(
    client, alice, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    save(client, ret, **alice_figures(dec=""))

    incomplete = client.post(url("returns:submit", ret))
    save(client, ret, **{assaults("2022-12"): "8"})
    complete = client.post(url("returns:submit", ret))

    assert incomplete.status_code == 200
    assert "The return was not submitted" in incomplete.content.decode()
    assert f'href="#id_{assaults("2022-12")}"' in incomplete.content.decode()
    assert complete.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED
    assert set(Value.objects.values_list("status", flat=True)) == {Value.Status.SUBMITTED}


def test_a_month_within_the_data_lag_is_asked_for_next_quarter_as_a_late_figure(
    client, alice, quarter
):
    Measure.objects.filter(code="t-assaults").update(data_lag_months=1)
    ret = return_of("dept-a")
    client.force_login(alice)

    page = client.get(detail(ret)).content.decode()
    # December falls due at the end of January: this return asks for September instead.
    assert assaults("2022-12") not in page and assaults("2022-09") in page
    response = save(client, ret, "submit", **{assaults("2022-09"): "9", **alice_figures()})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED

    open_quarter("2022/23-Q4", deadline=date(2023, 4, 20))
    later = client.get(detail(return_of("dept-a", "2022/23-Q4"))).content.decode()
    late = re.search(r'data-group="late".*?</table>', later, re.S)[0]
    assert "Late figures for earlier periods" in late
    assert assaults("2022-12") in late and assaults("2023-01") not in late
    assert assaults("2023-03") not in later  # due at the end of April: next quarter
