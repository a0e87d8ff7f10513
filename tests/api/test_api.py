"""The programs' interface: list endpoints, the compare endpoint, token auth and the schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token

from measures.arithmetic.periods import parse_month
from measures.engine import derived as engine
from measures.models import Area, Measure, Value


def monthly(code: str, values: dict[str, tuple], status: str = Value.Status.APPROVED) -> None:
    measure = Measure.objects.get(code=code)
    area = Area.objects.get(code="force")
    for month_text, numbers in values.items():
        month = parse_month(month_text)
        value, numerator, denominator = (*numbers, None, None)[:3]
        Value.objects.create(
            measure=measure,
            area=area,
            start=month.first_day,
            end=month.first_day,
            value=Decimal(value),
            numerator=None if numerator is None else Decimal(numerator),
            denominator=None if denominator is None else Decimal(denominator),
            status=status,
        )
    # Pages and the API read materialised figures; keep them current as a task would.
    engine.recompute()


@pytest.fixture
def series(small_plan):
    # 2020: 12 × 2 = 24; 2022 has data only to October: 10 × 3 = 30.
    monthly("t-assaults", {f"2020-{m:02d}": (2,) for m in range(1, 13)})
    monthly("t-assaults", {f"2021-{m:02d}": (2,) for m in range(1, 13)})
    monthly("t-assaults", {f"2022-{m:02d}": (3,) for m in range(1, 11)})
    monthly("t-satisfied", {"2021-12": (69.8, 698, 1000), "2022-12": (70.2, 702, 1000)})


def compare(client, code="t-assaults", **params):
    params.setdefault("area", "force")
    return client.get(f"/api/v1/measures/{code}/compare/", params)


def test_compare_requires_authentication(client, series):
    assert compare(client, base="2020", current="2021").status_code in (401, 403)


def test_compare_answers_with_numbers_and_the_spec_fields(client, alice, series):
    client.force_login(alice)

    body = compare(client, base="2020", current="2021").json()

    assert body["base"]["value"] == 24
    assert body["current"]["value"] == 24
    assert body["change"] == 0
    assert body["change_pct"] == 0
    assert body["change_pp"] is None
    assert body["direction"] == "no_change"
    assert body["footnotes"] == []


def test_compare_shifts_twelve_month_windows_when_recent_months_are_missing(client, alice, series):
    client.force_login(alice)

    body = compare(client, base="2021-01/2021-12", current="2022-01/2022-12").json()

    # Nov and Dec 2022 are missing: both windows end in October.
    assert body["current"]["period"] == "2021-11/2022-10"
    assert body["base"]["period"] == "2020-11/2021-10"
    assert body["current"]["value"] == 2 * 2 + 10 * 3
    assert body["base"]["value"] == 24
    assert body["change_pct"] == pytest.approx(41.7)
    assert body["direction"] == "worsening"
    assert body["partial"] is True
    assert "November and December's data isn't yet available" in body["footnotes"][0]


@pytest.mark.parametrize(
    ("base", "current"),
    [
        ("2021", "2022"),
        ("2021/22", "2022/23"),
        ("2021-Q4", "2022-Q4"),
        ("2021/22-Q3", "2022/23-Q3"),
    ],
)
def test_compare_accepts_every_notation(client, alice, series, base, current):
    client.force_login(alice)
    response = compare(client, base=base, current=current)
    assert response.status_code == 200
    assert response.json()["requested_current"] == current


def test_compare_gives_percentage_points_for_percent_measures(client, alice, series):
    client.force_login(alice)
    body = compare(client, code="t-satisfied", base="2021-12", current="2022-12").json()
    assert (body["base"]["value"], body["current"]["value"]) == (69.8, 70.2)
    assert body["change_pp"] == 0.4
    assert body["direction"] == "improving"


def test_compare_gives_null_change_pct_for_a_zero_base(client, alice, small_plan):
    monthly("t-assaults", {"2021-01": (0,), "2022-01": (5,)})
    client.force_login(alice)
    body = compare(client, base="2021-01", current="2022-01").json()
    assert body["change"] == 5
    assert body["change_pct"] is None


def test_compare_missing_figures_are_null(client, alice, small_plan):
    client.force_login(alice)
    body = compare(client, base="2015", current="2016").json()
    assert body["base"]["value"] is None
    assert body["change"] is None
    assert body["direction"] is None


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"base": "2022-13", "current": "2022"}, "base", "is not a period"),
        ({"base": "2021", "current": "next year"}, "current", "2022/23-Q3"),
        ({"base": "2021"}, "current", "required"),
        ({"base": "2021", "current": "2022", "area": "atlantis"}, "area", "unknown area"),
    ],
)
def test_compare_rejects_bad_parameters_clearly(client, alice, series, params, field, message):
    client.force_login(alice)
    response = compare(client, **params)
    assert response.status_code == 400
    assert message in str(response.json()[field])


def test_compare_of_an_unknown_measure_is_404(client, alice, series):
    client.force_login(alice)
    assert compare(client, code="nope", base="2021", current="2022").status_code == 404


def test_token_authentication_works_for_programs(client, alice, series):
    token = Token.objects.create(user=alice)
    response = client.get("/api/v1/measures/", headers={"Authorization": f"Token {token.key}"})
    assert response.status_code == 200
    codes = [m["code"] for m in response.json()["results"]]
    assert codes == ["t-assaults", "t-satisfied", "t-cash"]


def test_values_list_filters_by_measure_and_period(client, alice, series):
    client.force_login(alice)
    body = client.get("/api/v1/values/", {"measure": "t-assaults", "period": "2022/23-Q1"}).json()
    assert [v["period"] for v in body["results"]] == ["2022-04", "2022-05", "2022-06"]
    assert body["results"][0]["value"] == 3


def test_values_list_rejects_a_bad_period(client, alice, series):
    client.force_login(alice)
    response = client.get("/api/v1/values/", {"period": "2022-Q9"})
    assert response.status_code == 400


def test_areas_list_shows_the_hierarchy(client, alice, series):
    client.force_login(alice)
    body = client.get("/api/v1/areas/").json()
    assert {"code": "force", "name": "Force", "kind": "force", "parent": "nation"} in body[
        "results"
    ]


def test_the_openapi_schema_documents_compare(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/measures/{code}/compare/" in schema["paths"]


def test_a_measure_names_its_source_in_full_with_its_link(client, viewer):
    import copy

    from measures.importing.plan import plan_import
    from tests.conftest import SMALL_PLAN

    plan = copy.deepcopy(SMALL_PLAN)
    plan["sources"] = [
        {
            "name": "CJS Dashboard",
            "full_name": "CJS Delivery Data Dashboard - GOV.UK",
            "url": "https://www.gov.uk/cjs",
        }
    ]
    plan["priorities"][0]["measures"][0]["source"] = "CJS Dashboard"
    plan_import(data=plan)
    client.force_login(viewer)

    detail = client.get("/api/v1/measures/t-assaults/").json()
    listed = client.get("/api/v1/measures/").json()

    assert detail["source_detail"] == {
        "name": "CJS Dashboard",
        "full_name": "CJS Delivery Data Dashboard - GOV.UK",
        "url": "https://www.gov.uk/cjs",
    }
    rows = listed["results"] if isinstance(listed, dict) else listed
    unnamed = next(m for m in rows if m["code"] != "t-assaults")
    assert unnamed["source_detail"] is None or unnamed["source_detail"]["url"] == ""
