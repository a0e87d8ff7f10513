"""The returns workflow through the API: the same permissions, validation, locking and audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import URLPattern
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from measures import api_urls
from measures.arithmetic.periods import parse_month, parse_period
from measures.engine import derived as engine
from measures.models import Area, Headline, Measure, Plan, Return, ReturnEvent, Value
from measures.returns import services
from measures.returns.rows import row_key
from tests.factories import return_in_state

QUARTER = "2022/23-Q3"
OCT, NOV, DEC = (row_key("t-assaults", parse_period(m)) for m in ("2022-10", "2022-11", "2022-12"))


@pytest.fixture
def quarter(small_plan):
    """Open Q3 2022/23: one draft return each for departments A and B."""
    return services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"),
        period=parse_period(QUARTER),
        deadline=date(2023, 1, 20),
    )


def return_of(department: str) -> Return:
    return Return.objects.get(department__code=department)


def program(user) -> APIClient:
    """Return a client that signs in as a source system does: with the user's token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def url(ret: Return, action: str = "") -> str:
    return f"/api/v1/returns/{ret.pk}/" + (f"{action}/" if action else "")


def assaults(*figures, note: str = "") -> list[dict]:
    months = ("2022-10", "2022-11", "2022-12")
    return [
        {"measure": "t-assaults", "period": month, "value": figure, "note": note}
        for month, figure in zip(months, figures, strict=False)
    ]


def write(client, ret: Return, values: list[dict], *, version: int | None = None, **extra):
    body = {"version": ret.version if version is None else version, "values": values, **extra}
    return client.put(url(ret, "values"), body, format="json")


def stored(code: str, month: str) -> Value | None:
    first_day = parse_month(month).first_day
    return Value.objects.filter(measure__code=code, start=first_day, end=first_day).first()


def approved_return_of_alice(alice, charlie) -> Return:
    return return_in_state("approved", lead=alice, reviewer=charlie)


# --- the whole journey ------------------------------------------------------------------------


def test_it_runs_the_whole_workflow_for_source_systems(alice, charlie, quarter):
    lead, reviewer = program(alice), program(charlie)

    listed = lead.get("/api/v1/returns/").json()["results"]
    assert [(r["department"], r["status"], r["version"]) for r in listed] == [
        ("dept-a", "draft", 1)
    ]
    assert listed[0]["progress"] == {"filled": 0, "required": 3}
    detail_url = listed[0]["url"]

    saved = lead.put(
        detail_url + "values/",
        {
            "version": 1,
            "values": assaults(12, 13, 14),
            "headlines": {"violence": "Assaults steady."},
        },
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["version"] == 2
    assert [row["value"] for row in saved.json()["rows"]] == [12, 13, 14]
    assert saved.json()["headlines"] == {"violence": "Assaults steady."}
    assert saved.json()["progress"] == {"filled": 3, "required": 3}

    submitted = lead.post(detail_url + "submit/", {"version": 2}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"

    sent_back = reviewer.post(
        detail_url + "send-back/", {"reason": "October looks low"}, format="json"
    )
    assert sent_back.status_code == 200
    assert sent_back.json()["status"] == "returned"

    version = lead.get(detail_url).json()["version"]
    fixed = lead.put(
        detail_url + "values/",
        {"version": version, "values": assaults(15, note="late crimes added")},
        format="json",
    )
    assert fixed.status_code == 200, fixed.json()
    assert lead.post(detail_url + "submit/").json()["status"] == "submitted"

    approved = reviewer.post(detail_url + "approve/")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["actions"] == ["reopen"]
    assert stored("t-assaults", "2022-10").value == 15
    assert stored("t-assaults", "2022-10").status == Value.Status.APPROVED
    assert Headline.objects.get().status == Headline.Status.APPROVED


def test_it_reopens_an_approved_return_with_a_reason(alice, charlie, quarter):
    ret = approved_return_of_alice(alice, charlie)

    refused = program(charlie).post(url(ret, "reopen"), {"reason": " "}, format="json")
    reopened = program(charlie).post(url(ret, "reopen"), {"reason": "Revised"}, format="json")

    assert refused.status_code == 400
    assert "reason" in refused.json()["errors"]
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "reopened"
    assert "edit" in program(alice).get(url(ret)).json()["actions"]
    assert stored("t-assaults", "2022-10").status == Value.Status.DRAFT


def test_it_needs_a_reason_to_send_a_return_back(alice, charlie, quarter):
    ret = return_of("dept-a")
    write(program(alice), ret, assaults(12, 13, 14))
    services.return_submit(return_id=ret.pk, actor=alice)

    missing = program(charlie).post(url(ret, "send-back"), {}, format="json")
    blank = program(charlie).post(url(ret, "send-back"), {"reason": ""}, format="json")

    assert missing.status_code == 400
    assert missing.json()["errors"]["reason"] == ["This field is required."]
    assert blank.status_code == 400
    assert "Give a reason" in blank.json()["errors"]["reason"][0]
    assert return_of("dept-a").status == Return.Status.SUBMITTED


def test_it_lists_returns_with_filters(alice, charlie, quarter):
    reviewer = program(charlie)

    def departments(**params):
        response = reviewer.get("/api/v1/returns/", params)
        assert response.status_code == 200, response.json()
        return [r["department"] for r in response.json()["results"]]

    assert departments() == ["dept-a", "dept-b"]
    assert departments(department="dept-b") == ["dept-b"]
    assert departments(period=QUARTER) == ["dept-a", "dept-b"]
    assert departments(period="2022-10/2022-12") == ["dept-a", "dept-b"]
    assert departments(period="2022-Q3") == []
    assert departments(status="submitted") == []
    item = reviewer.get("/api/v1/returns/", {"department": "dept-a"}).json()["results"][0]
    assert item["period"] == "2022/23-Q3"
    assert item["period_label"] == "Oct–Dec 2022"
    assert item["deadline"] == "2023-01-20"
    assert item["url"].endswith(f"/api/v1/returns/{return_of('dept-a').pk}/")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "2022-Q9"}, "period", "2022/23-Q3 (a financial quarter)"),
        ({"status": "done"}, "status", "use one of draft"),
    ],
)
def test_it_rejects_bad_list_filters(charlie, quarter, params, field, message):
    response = program(charlie).get("/api/v1/returns/", params)
    assert response.status_code == 400
    assert message in str(response.json()[field])


def test_the_list_costs_a_fixed_number_of_queries_per_return(
    charlie, quarter, django_assert_num_queries
):
    reviewer = program(charlie)
    # Token with its user, profile, count, page; then for each return its measures, the
    # reporting period before (for figures carried over), figures not available, and values.
    with django_assert_num_queries(4 + 4 * 2):
        assert len(reviewer.get("/api/v1/returns/").json()["results"]) == 2


# --- validation ---------------------------------------------------------------------------------


def test_it_reports_validation_errors_by_row_and_saves_nothing(alice, quarter):
    client, ret = program(alice), return_of("dept-a")

    # What is not a number is reported first; then what the number breaks.
    not_numbers = write(client, ret, assaults("twelve", 13, "NaN"))
    wrong_numbers = write(client, ret, assaults(-3, 13, 14))

    assert not_numbers.status_code == 400
    assert not_numbers.json()["errors"] == {
        OCT: ["value: A valid number is required."],
        DEC: ["value: A valid number is required."],
    }
    assert wrong_numbers.status_code == 400
    assert wrong_numbers.json()["errors"] == {
        OCT: ["value -3 is negative; count cannot be below 0"]
    }
    assert not Value.objects.exists()
    assert return_of("dept-a").version == 1


def test_it_rejects_a_percentage_over_100(bob, quarter):
    ret = return_of("dept-b")
    values = [{"measure": "t-satisfied", "period": "2022-10", "value": 120}]

    response = write(program(bob), ret, values)

    assert response.status_code == 400
    key = row_key("t-satisfied", parse_period("2022-10"))
    assert "not a percentage between 0 and 100" in response.json()["errors"][key][0]
    assert not Value.objects.exists()


def test_it_rejects_a_numerator_over_its_denominator(bob, quarter):
    ret = return_of("dept-b")
    values = [
        {
            "measure": "t-satisfied",
            "period": "2022-11",
            "value": 80,
            "numerator": 600,
            "denominator": 500,
        }
    ]

    response = write(program(bob), ret, values)

    assert response.status_code == 400
    key = row_key("t-satisfied", parse_period("2022-11"))
    assert any("greater than denominator" in m for m in response.json()["errors"][key])
    assert not Value.objects.exists()


def test_it_names_the_accepted_forms_for_a_bad_period(alice, quarter):
    values = [{"measure": "t-assaults", "period": "2022-13", "value": 1}]

    response = write(program(alice), return_of("dept-a"), values)

    assert response.status_code == 400
    [message] = response.json()["errors"]["values[0]"]
    assert message.startswith("period: '2022-13' is not a period")
    assert "2022/23-Q3 (a financial quarter)" in message


@pytest.mark.parametrize("measure", ["no-such-measure", "t-satisfied"])
def test_it_rejects_measures_that_are_not_part_of_the_return(alice, quarter, measure):
    values = [{"measure": measure, "period": "2022-10", "value": 1}]

    response = write(program(alice), return_of("dept-a"), values)

    assert response.status_code == 400
    key = row_key(measure, parse_period("2022-10"))
    assert "is not part of this return" in response.json()["errors"][key][0]


def test_it_accepts_a_quarterly_row_in_any_notation_for_its_months(bob, quarter):
    values = [{"measure": "t-cash", "period": QUARTER, "value": "2500.50"}]

    response = write(program(bob), return_of("dept-b"), values)

    assert response.status_code == 200, response.json()
    cash = next(row for row in response.json()["rows"] if row["measure"] == "t-cash")
    assert (cash["period"], cash["value"], cash["status"]) == ("2022/23-Q3", 2500.5, "draft")


def test_it_requires_the_version_and_rejects_unknown_headlines(alice, quarter):
    ret = return_of("dept-a")
    client = program(alice)

    no_version = client.put(url(ret, "values"), {"values": assaults(1)}, format="json")
    bad_headline = write(client, ret, [], headlines={"burglary": "Down"})

    assert no_version.status_code == 400
    assert no_version.json()["errors"]["version"] == ["This field is required."]
    assert bad_headline.status_code == 400
    assert "burglary" in bad_headline.json()["errors"]["headlines"][0]


def test_a_blank_value_clears_its_row(alice, quarter):
    client = program(alice)
    write(client, return_of("dept-a"), assaults(12))

    response = write(client, return_of("dept-a"), assaults(""))

    assert response.status_code == 200
    assert stored("t-assaults", "2022-10") is None
    assert response.json()["rows"][0]["value"] is None
    cleared = response.json()["events"][-1]["changes"]
    assert cleared == [
        {
            "kind": "value",
            "measure": "t-assaults",
            "period": "2022-10",
            "label": "Assaults, Oct 2022",
            "field": "value",
            "old": "12",
            "new": None,
        }
    ]


def test_post_writes_values_as_put_does(alice, quarter):
    ret = return_of("dept-a")
    body = {"version": 1, "values": assaults(7)}

    response = program(alice).post(url(ret, "values"), body, format="json")

    assert response.status_code == 200
    assert stored("t-assaults", "2022-10").value == 7


def test_submission_reports_missing_figures_by_row(alice, quarter):
    ret = return_of("dept-a")
    write(program(alice), ret, assaults(12))

    response = program(alice).post(url(ret, "submit"))

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {NOV, DEC}
    assert return_of("dept-a").status == Return.Status.DRAFT


# --- concurrency and locking --------------------------------------------------------------------


def test_a_stale_version_is_refused_with_what_changed(alice, quarter):
    client = program(alice)
    write(client, return_of("dept-a"), assaults(12), version=1)

    response = write(client, return_of("dept-a"), assaults(99), version=1)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "Someone else changed this return" in body["detail"]
    assert len(body["changes"]) == 1
    assert body["changes"][0].startswith("alice (")
    assert body["changes"][0].endswith("Assaults, Oct 2022 value: (blank) → 12")
    assert stored("t-assaults", "2022-10").value == 12
    assert return_of("dept-a").version == 2


def test_a_stale_submit_is_refused(alice, quarter):
    ret = return_of("dept-a")
    write(program(alice), ret, assaults(12, 13, 14))

    response = program(alice).post(url(ret, "submit"), {"version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert return_of("dept-a").status == Return.Status.DRAFT


@pytest.mark.parametrize("method", ["put", "post"])
def test_writes_to_an_approved_return_are_refused_and_change_nothing(
    alice, charlie, quarter, method
):
    ret = approved_return_of_alice(alice, charlie)
    events = ReturnEvent.objects.count()
    body = {"version": ret.version, "values": assaults(99), "headlines": {"violence": "x"}}

    response = getattr(program(alice), method)(url(ret, "values"), body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "locked"
    assert "locked until it is reopened" in response.json()["detail"]
    assert stored("t-assaults", "2022-10").value == 12
    assert not Headline.objects.exists()
    assert return_of("dept-a").version == ret.version
    assert ReturnEvent.objects.count() == events


def test_transitions_that_do_not_fit_the_state_are_refused(alice, charlie, quarter):
    ret = approved_return_of_alice(alice, charlie)

    submit = program(alice).post(url(ret, "submit"))
    approve = program(charlie).post(url(ret, "approve"))
    send_back = program(charlie).post(url(ret, "send-back"), {"reason": "x"}, format="json")

    # Allowed people, wrong state: 409 like any other conflict with the return's state.
    assert [r.status_code for r in (submit, approve, send_back)] == [409, 409, 409]
    assert {r.json()["code"] for r in (submit, approve, send_back)} == {"state"}
    assert "approved and cannot be changed" in submit.json()["detail"]
    assert return_of("dept-a").status == Return.Status.APPROVED


def test_a_value_approved_by_import_in_a_draft_return_cannot_change_there(alice, quarter):
    # An admin's `import_values --approve` can approve a figure whose return is still open.
    month = parse_month("2022-10")
    Value.objects.create(
        measure=Measure.objects.get(code="t-assaults"),
        area=Area.objects.get(code="force"),
        start=month.first_day,
        end=month.first_day,
        value=Decimal(12),
        status=Value.Status.APPROVED,
    )

    response = write(program(alice), return_of("dept-a"), assaults(13))
    unchanged = write(program(alice), return_of("dept-a"), assaults(12))

    assert response.status_code == 400
    assert "a reviewer must reopen the return" in str(response.json()["errors"])
    assert stored("t-assaults", "2022-10").value == 12
    # Sending the approved figure unchanged is no change at all, not an error.
    assert unchanged.status_code == 200


# --- who may do what ----------------------------------------------------------------------------


def test_a_reviewer_cannot_write_values(alice, charlie, quarter):
    response = write(program(charlie), return_of("dept-a"), assaults(12))

    assert response.status_code == 403
    assert "reviewer" in response.json()["detail"]
    assert not Value.objects.exists()


def test_nobody_approves_figures_they_wrote_through_the_api(alice, charlie, admin_user, quarter):
    admin = program(admin_user)
    ret = return_of("dept-a")
    assert write(admin, ret, assaults(12, 13, 14)).status_code == 200
    assert program(alice).post(url(ret, "submit")).status_code == 200
    assert "approve" not in admin.get(url(ret)).json()["actions"]

    refused = admin.post(url(ret, "approve"))

    assert refused.status_code == 403
    assert "someone else must approve" in refused.json()["detail"]
    assert return_of("dept-a").status == Return.Status.SUBMITTED
    assert program(charlie).post(url(ret, "approve")).status_code == 200


RETURN_ENDPOINTS = [
    ("get", ""),
    ("put", "values"),
    ("post", "values"),
    ("post", "submit"),
    ("post", "approve"),
    ("post", "send-back"),
    ("post", "reopen"),
]
VALID_BODIES = {
    "values": {
        "version": 1,
        "values": [{"measure": "t-assaults", "period": "2022-10", "value": 1}],
    },
    "submit": {},
    "approve": {},
    "send-back": {"reason": "because"},
    "reopen": {"reason": "because"},
}


def test_the_matrix_covers_every_returns_endpoint():
    actions = {
        str(p.pattern).removeprefix("returns/<int:pk>/").rstrip("/")
        for p in api_urls.urlpatterns
        if isinstance(p, URLPattern) and "<int:pk>" in str(p.pattern)
    }
    assert actions == {action for _, action in RETURN_ENDPOINTS}


@pytest.mark.parametrize(("method", "action"), RETURN_ENDPOINTS)
@pytest.mark.parametrize("status", ["draft", "submitted", "approved"])
def test_a_lead_of_another_department_gets_404_everywhere(
    client, alice, bob, charlie, quarter, method, action, status
):
    ret = return_of("dept-a")
    if status != "draft":
        write(program(alice), ret, assaults(12, 13, 14))
        services.return_submit(return_id=ret.pk, actor=alice)
    if status == "approved":
        services.return_approve(return_id=ret.pk, actor=charlie)
    before = (return_of("dept-a").version, Value.objects.count())
    client.force_login(bob)  # session auth, as a person would

    response = getattr(client, method)(
        url(ret, action), VALID_BODIES.get(action, {}), content_type="application/json"
    )

    assert response.status_code == 404
    assert (return_of("dept-a").version, Value.objects.count()) == before


@pytest.mark.parametrize(("method", "action"), RETURN_ENDPOINTS)
def test_a_viewer_sees_no_returns(viewer, quarter, method, action):
    client = program(viewer)

    response = getattr(client, method)(url(return_of("dept-a"), action), {}, format="json")

    assert response.status_code == 404
    assert client.get("/api/v1/returns/").json()["results"] == []


def test_a_lead_lists_only_their_departments_returns(bob, quarter):
    listed = program(bob).get("/api/v1/returns/").json()["results"]
    assert [r["department"] for r in listed] == ["dept-b"]
    assert program(bob).get("/api/v1/returns/", {"department": "dept-a"}).json()["results"] == []


def test_the_returns_api_requires_authentication(client, quarter):
    assert client.get("/api/v1/returns/").status_code in (401, 403)
    response = client.put(url(return_of("dept-a"), "values"), {}, content_type="application/json")
    assert response.status_code in (401, 403)


# --- what figures a caller sees -----------------------------------------------------------------


def test_the_values_list_hides_another_departments_unapproved_figures(
    alice, bob, charlie, viewer, quarter
):
    write(program(alice), return_of("dept-a"), assaults(12, 13, 14))

    def months(user):
        body = program(user).get("/api/v1/values/", {"measure": "t-assaults"}).json()
        return [(v["period"], v["status"]) for v in body["results"]]

    drafts = [("2022-10", "draft"), ("2022-11", "draft"), ("2022-12", "draft")]
    assert months(alice) == drafts
    assert months(charlie) == drafts
    assert months(bob) == []
    assert months(viewer) == []

    ret = return_of("dept-a")
    services.return_submit(return_id=ret.pk, actor=alice)
    services.return_approve(return_id=ret.pk, actor=charlie)

    approved = [("2022-10", "approved"), ("2022-11", "approved"), ("2022-12", "approved")]
    assert months(bob) == approved
    assert months(viewer) == approved


def test_compare_does_not_reveal_another_departments_drafts(alice, bob, quarter):
    write(program(alice), return_of("dept-a"), assaults(12, 13, 14))
    engine.recompute()  # what the task enqueued on commit does; tests never commit
    params = {"area": "force", "base": "2021/22-Q3", "current": QUARTER}

    for_alice = program(alice).get("/api/v1/measures/t-assaults/compare/", params).json()
    for_bob = program(bob).get("/api/v1/measures/t-assaults/compare/", params).json()

    assert for_alice["current"]["value"] == 39
    assert for_alice["status"] == "provisional"
    assert for_bob["current"]["value"] is None


# --- the audit trail ----------------------------------------------------------------------------


def test_the_detail_shows_one_event_per_action_with_its_actor(alice, charlie, quarter):
    lead, reviewer = program(alice), program(charlie)
    ret = return_of("dept-a")
    write(lead, ret, assaults(12, 13, 14), version=1)
    lead.post(url(ret, "submit"))
    reviewer.post(url(ret, "send-back"), {"reason": "Check November"}, format="json")
    write(lead, ret, assaults(12, 10), version=4)
    lead.post(url(ret, "submit"))
    reviewer.post(url(ret, "approve"))

    events = lead.get(url(ret)).json()["events"]

    assert [(e["kind"], e["actor"], e["version"]) for e in events] == [
        ("opened", None, 1),
        ("saved", "alice", 2),
        ("submitted", "alice", 3),
        ("returned", "charlie", 4),
        ("saved", "alice", 5),
        ("submitted", "alice", 6),
        ("approved", "charlie", 7),
    ]
    assert events[3]["reason"] == "Check November"
    assert (events[3]["from_status"], events[3]["to_status"]) == ("submitted", "returned")
    assert [(c["period"], c["old"], c["new"]) for c in events[4]["changes"]] == [
        ("2022-11", "13", "10")
    ]


def test_the_detail_shows_rows_with_their_context_and_warnings(alice, charlie, quarter):
    month = parse_month("2022-09")
    Value.objects.create(
        measure=Measure.objects.get(code="t-assaults"),
        area=Area.objects.get(code="force"),
        start=month.first_day,
        end=month.first_day,
        value=Decimal(10),
        status=Value.Status.APPROVED,
    )
    write(program(alice), return_of("dept-a"), assaults(30))

    october = program(alice).get(url(return_of("dept-a"))).json()["rows"][0]

    assert october["key"] == OCT
    assert (october["measure"], october["period"], october["required"]) == (
        "t-assaults",
        "2022-10",
        True,
    )
    assert october["previous"] == 10
    assert october["warnings"] == ["+200% against the previous period (10)"]


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_every_returns_endpoint_and_its_errors(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    expected = {
        "/api/v1/returns/": {"get"},
        "/api/v1/returns/{id}/": {"get"},
        "/api/v1/returns/{id}/values/": {"put", "post"},
        "/api/v1/returns/{id}/submit/": {"post"},
        "/api/v1/returns/{id}/approve/": {"post"},
        "/api/v1/returns/{id}/send-back/": {"post"},
        "/api/v1/returns/{id}/reopen/": {"post"},
    }
    documented = {path: set(paths[path]) - {"parameters"} for path in expected if path in paths}
    assert documented == expected
    values = paths["/api/v1/returns/{id}/values/"]["put"]
    assert {"200", "400", "403", "404", "409"} <= set(values["responses"])
    assert "requestBody" in values


def test_the_reporting_quarter_is_the_latest_with_every_return_approved(alice, charlie):
    from tests.factories import return_in_state
    from tests.returns import open_quarter

    client = program(charlie)
    url_of = "/api/v1/plans/test-plan/reporting-quarter/"
    return_in_state("approved", lead=alice, reviewer=charlie)  # dept-a's Q3; dept-b's open
    waiting = client.get(url_of).json()
    assert waiting["quarter"] is None
    assert waiting["later"] == [
        {"period": "2022/23-Q3", "label": "Oct–Dec 2022", "approved": 1, "returns": 2}
    ]
    Return.objects.filter(department__code="dept-b").update(status=Return.Status.APPROVED)
    open_quarter("2022/23-Q4", deadline=date(2023, 4, 20))
    answer = client.get(url_of).json()
    assert (answer["quarter"], answer["quarter_label"], answer["month"]) == (
        "2022/23-Q3",
        "Oct–Dec 2022",
        "2022-12",
    )
    assert answer["later"] == [
        {"period": "2022/23-Q4", "label": "Jan–Mar 2023", "approved": 0, "returns": 2}
    ]
    assert APIClient().get(url_of).status_code in (401, 403)
