"""`import_plan`: YAML or JSON; re-importing changes nothing; an edited file updates in place."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from measures.importing.plan import PlanInvalid, plan_import
from measures.models import Area, Measure, Plan, Priority, Source, Target
from tests.conftest import SMALL_PLAN

SPEC_EXAMPLE = """
plan: {code: pcp-2021-25, name: Police and Crime Plan 2021-2025}
departments: [{code: analysis, name: Corporate Analysis}]
areas: [{code: ew, name: England and Wales, kind: national},
        {code: lancs, name: Lancashire, kind: force, parent: ew}]
priorities:
  - code: serious-violence
    name: Reduce serious violence
    measures:
      - {code: firearms-offences, name: Firearms offences, unit: count,
         aggregation: sum, polarity: lower_is_better, owner: analysis}
"""


def test_it_imports_the_minimal_shape_from_the_spec(db, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(SPEC_EXAMPLE)

    call_command("import_plan", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115

    measure = Measure.objects.get(code="firearms-offences")
    assert measure.priority.plan.name == "Police and Crime Plan 2021-2025"
    assert measure.owner.code == "analysis"
    assert Area.objects.get(code="lancs").national().code == "ew"


def test_it_accepts_json(db, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(yaml.safe_load(SPEC_EXAMPLE)))
    call_command("import_plan", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Plan.objects.filter(code="pcp-2021-25").exists()


def test_reimporting_the_same_plan_changes_nothing(db):
    plan_import(data=SMALL_PLAN)
    history = Measure.history.count() + Priority.history.count() + Target.history.count()

    summary = plan_import(data=SMALL_PLAN)

    assert (summary.created, summary.updated) == (0, 0)
    assert Measure.history.count() + Priority.history.count() + Target.history.count() == history


def test_an_edited_plan_updates_in_place_with_history(db):
    plan_import(data=SMALL_PLAN)
    edited = copy.deepcopy(SMALL_PLAN)
    edited["priorities"][0]["measures"][0]["name"] = "Assaults with injury"
    measure_id = Measure.objects.get(code="t-assaults").pk

    summary = plan_import(data=edited)

    measure = Measure.objects.get(code="t-assaults")
    assert (measure.pk, measure.name) == (measure_id, "Assaults with injury")
    assert summary.updated == 1
    assert measure.history.first().name == "Assaults with injury"
    assert measure.history.last().name == "Assaults"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["priorities"][0]["measures"][0].update(unit="parsecs"), "unit: 'parsecs'"),
        (lambda p: p["priorities"][0]["measures"][0].update(owner="nobody"), "unknown department"),
        (lambda p: p["areas"][1].update(parent="atlantis"), "unknown area 'atlantis'"),
        (lambda p: p["targets"][0].update(baseline="2020-13"), "targets[0].baseline"),
        (lambda p: p["targets"][0].update(measure="t-missing"), "unknown measure"),
        (lambda p: p["plan"].pop("code"), "plan.code is required"),
        (lambda p: p["priorities"][0]["measures"][0].update(decimals=-1), "whole number"),
    ],
)
def test_a_bad_plan_is_rejected_naming_where_and_writes_nothing(db, change, message):
    bad = copy.deepcopy(SMALL_PLAN)
    change(bad)

    with pytest.raises(PlanInvalid) as caught:
        plan_import(data=bad)

    assert message in str(caught.value)
    assert not Plan.objects.exists()


def test_the_command_reports_an_unreadable_file(db, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("plan: [unclosed")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("import_plan", str(path))


def test_a_measure_s_aliases_are_data_the_headline_check_reads(db):
    plan = copy.deepcopy(SMALL_PLAN)
    plan["priorities"][0]["measures"][0]["aliases"] = ["violent assaults", " assaults on people "]
    plan_import(data=plan)

    assert Measure.objects.get(code="t-assaults").aliases == [
        "violent assaults",
        "assaults on people",
    ]


@pytest.mark.parametrize("aliases", ["violent assaults", [""], [3]])
def test_aliases_that_are_not_a_list_of_names_are_rejected(db, aliases):
    plan = copy.deepcopy(SMALL_PLAN)
    plan["priorities"][0]["measures"][0]["aliases"] = aliases

    with pytest.raises(PlanInvalid, match=r"measures\[0\]\.aliases: expected a list of names"):
        plan_import(data=plan)


CJS_DASHBOARD = "https://www.gov.uk/government/collections/criminal-justice-system-delivery-data"


def plan_with_sources(*sources: dict) -> dict:
    plan = copy.deepcopy(SMALL_PLAN)
    plan["sources"] = list(sources)
    plan["priorities"][0]["measures"][0]["source"] = "CJS Dashboard"
    return plan


def test_sources_are_imported_with_their_full_names_and_links_once(db):
    plan = plan_with_sources(
        {"name": "CJS Dashboard", "full_name": "CJS Delivery Data - GOV.UK", "url": CJS_DASHBOARD},
        {"name": "PAM system"},
    )
    plan_import(data=plan)
    history = Source.history.count()

    again = plan_import(data=plan)

    cjs = Source.objects.get(name=Measure.objects.get(code="t-assaults").source)
    assert (cjs.label, cjs.url) == ("CJS Delivery Data - GOV.UK", CJS_DASHBOARD)
    assert Source.objects.get(name="PAM system").label == "PAM system"
    assert (again.created, again.updated, Source.history.count()) == (0, 0, history)


def test_an_edited_source_updates_in_place_and_one_left_out_is_kept(db):
    plan_import(data=plan_with_sources({"name": "CJS Dashboard"}, {"name": "PAM system"}))

    plan_import(data=plan_with_sources({"name": "CJS Dashboard", "url": CJS_DASHBOARD}))

    assert Source.objects.get(name="CJS Dashboard").url == CJS_DASHBOARD
    assert Source.objects.filter(name="PAM system").exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"full_name": "No name"}, r"sources\[0\]\.name is required"),
        ({"name": "X", "url": "javascript:alert(1)"}, r"sources\[0\]\.url: .* not a web address"),
        ({"name": "X", "url": "https://"}, "Enter a valid URL"),
    ],
)
def test_a_bad_source_is_rejected_and_nothing_is_written(db, source, message):
    with pytest.raises(PlanInvalid, match=message):
        plan_import(data=plan_with_sources(source))

    assert not Plan.objects.exists() and not Source.objects.exists()


def test_the_plan_names_the_organisation_that_publishes_its_report(db):
    plan_import(data=SMALL_PLAN)
    assert Plan.objects.get(code="test-plan").organisation == ""
    named = copy.deepcopy(SMALL_PLAN)
    named["plan"]["organisation"] = "Office of the Police and Crime Commissioner"

    assert plan_import(data=named).updated == 1
    assert plan_import(data=named).updated == 0
    assert Plan.objects.get(code="test-plan").organisation == named["plan"]["organisation"]
