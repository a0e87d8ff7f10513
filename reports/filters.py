"""Filters shared by the table pages: which measures, for which area, to which month.

The choices come from a `Catalogue` read once per request (areas, and measures with their
priorities and plans), and the measures are filtered in Python from it: a table page
validates, offers and applies its filters without a query per filter, whatever the number
of measures, and renders its select lists without a template per option.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from django import forms
from django.utils.safestring import SafeString, mark_safe

from measures.arithmetic.periods import Period, PeriodError, parse_period
from measures.arithmetic.targets import LABELS as TARGET_LABELS
from measures.models import Area, Measure, Plan, Priority
from reports import selectors

STATUS_CHOICES = [
    ("all", "Approved and provisional"),
    ("approved", "Approved only"),
]


@dataclass
class Catalogue:
    """Every area, plan, priority and measure a filter can name, read in two queries.

    Measures carry `pending_recompute` (their derived figures are waiting to be
    recomputed) and `stored_longer` (some value covers more than a month), so a page needs
    no query to ask either; areas are linked to their
    parents so `Area.national()` walks them in memory.
    """

    areas: list[Area]
    measures: list[Measure]

    @classmethod
    def load(cls) -> Catalogue:
        return cls(areas=selectors.catalogue_areas(), measures=selectors.catalogue_measures())

    @property
    def plans(self) -> list[Plan]:
        plans = {m.priority.plan_id: m.priority.plan for m in self.measures}
        return sorted(plans.values(), key=lambda p: p.pk)

    @property
    def priorities(self) -> list[Priority]:
        priorities = {m.priority_id: m.priority for m in self.measures}
        return sorted(priorities.values(), key=lambda p: (p.plan_id, p.position, p.pk))

    def default_area(self) -> Area | None:
        """The area tables show unless told otherwise: the force (`reporting_area`)."""
        return selectors.reporting_area(self.areas)

    def default_plan(self) -> Plan | None:
        plans = self.plans
        return plans[0] if plans else None


class FastSelect(forms.Select):
    """A select list rendered in Python: the same HTML, without a template per option."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        selected = "" if value is None else str(value)
        options = "".join(
            f'<option value="{escape(str(key))}"{" selected" if str(key) == selected else ""}>'
            f"{escape(str(label))}</option>"
            for key, label in self.choices
        )
        attributes = "".join(
            f" {escape(k)}" if v is True else f' {escape(k)}="{escape(str(v))}"'
            for k, v in final.items()
            if v not in (None, False)
        )
        # Every key, label and attribute is escaped above.
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{options}</select>')


class CatalogueChoiceField(forms.ChoiceField):
    """A choice among catalogue objects, named by `key`; cleans to the object itself."""

    widget = FastSelect

    def __init__(self, *, objects: Iterable[Any], key: str, empty_label: str, **kwargs):
        self.objects = {str(getattr(o, key)): o for o in objects}
        choices = [("", empty_label)] + [(k, str(o)) for k, o in self.objects.items()]
        super().__init__(choices=choices, required=False, **kwargs)

    def clean(self, value):
        text = "" if value in self.empty_values else str(value).strip()
        if text and text not in self.objects:
            raise forms.ValidationError(
                f"{text!r} is not one of the choices", code="invalid_choice"
            )
        return self.objects.get(text) if text else None


class PeriodField(forms.CharField):
    """A period in any SPEC §3 notation; cleans to a `Period`."""

    def to_python(self, value) -> Period | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_period(text)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc), code="invalid_period") from exc


class FigureFilterForm(forms.Form):
    """Which measures (plan, priority, measure), for which area, month and figures."""

    def __init__(self, data, *, catalogue: Catalogue, **kwargs):
        super().__init__(data, **kwargs)
        self.catalogue = catalogue
        self.fields["plan"] = CatalogueChoiceField(
            objects=catalogue.plans, key="code", empty_label="All plans", label="Plan"
        )
        self.fields["priority"] = CatalogueChoiceField(
            objects=catalogue.priorities, key="pk", empty_label="All priorities", label="Priority"
        )
        self.fields["measure"] = CatalogueChoiceField(
            objects=catalogue.measures, key="code", empty_label="All measures", label="Measure"
        )
        self.fields["area"] = CatalogueChoiceField(
            objects=catalogue.areas, key="code", empty_label="Default area", label="Area"
        )
        self.fields["period"] = PeriodField(
            label="Reporting period",
            required=False,
            help_text="Ends with the reporting month, e.g. 2022-12 or 2022/23-Q3.",
        )
        self.fields["status"] = forms.ChoiceField(
            choices=STATUS_CHOICES, label="Figures", required=False, widget=FastSelect
        )
        self.fields["target_status"] = forms.ChoiceField(
            choices=[("", "Any target status"), *TARGET_LABELS.items()],
            label="Against target",
            required=False,
            widget=FastSelect,
        )

    def measures(self) -> list[Measure]:
        """Return the catalogue's measures that the plan, priority and measure filters keep."""
        cleaned = self.cleaned_data
        plan, priority, measure = cleaned["plan"], cleaned["priority"], cleaned["measure"]
        return [
            m
            for m in self.catalogue.measures
            if (plan is None or m.priority.plan_id == plan.pk)
            and (priority is None or m.priority_id == priority.pk)
            and (measure is None or m.pk == measure.pk)
        ]


@dataclass
class FilterState:
    """What the templates call `filter`: the form and its errors."""

    form: FigureFilterForm

    @property
    def errors(self):
        return self.form.errors
