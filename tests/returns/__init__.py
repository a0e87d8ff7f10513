"""Helpers shared by the returns page tests: opening a quarter and filling in the form."""

from __future__ import annotations

from datetime import date

from measures.arithmetic.periods import parse_period
from measures.models import Plan, ReportingPeriod, Return
from measures.returns import services
from measures.returns.rows import row_key

QUARTER = "2022/23-Q3"  # Oct–Dec 2022
MONTHS = ("2022-10", "2022-11", "2022-12")


def open_quarter(notation: str = QUARTER, deadline: date = date(2023, 1, 20)) -> ReportingPeriod:
    return services.reporting_period_open(
        plan=Plan.objects.get(code="test-plan"), period=parse_period(notation), deadline=deadline
    )


def return_of(department_code: str, notation: str = QUARTER) -> Return:
    period = parse_period(notation)
    return Return.objects.get(
        department__code=department_code, reporting_period__start=period.start.first_day
    )


def key(measure_code: str, notation: str) -> str:
    return row_key(measure_code, parse_period(notation))


def assaults(month: str) -> str:
    """Return the name of the value box of department A's Assaults for a month."""
    return f"value-{key('t-assaults', month)}"


def form_data(response, **typed: str) -> dict[str, str]:
    """Return the return form as the page shows it, with the `typed` boxes changed."""
    form = response.context["form"]
    assert form is not None, "the page has no return form"
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        data[name] = "" if value is None else str(field.prepare_value(value))
    data.update(typed)
    return data


def alice_figures(oct: str = "10", nov: str = "12", dec: str = "11") -> dict[str, str]:
    return {assaults("2022-10"): oct, assaults("2022-11"): nov, assaults("2022-12"): dec}
