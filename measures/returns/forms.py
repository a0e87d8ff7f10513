"""Forms of the returns pages: the return form, a reviewer's reason and opening a period.

The return form is built from the return's rows (`measures.returns.rows.return_rows`), so its
fields are exactly the figures the return owes: `value-<row key>`, `numerator-<row key>`
and `denominator-<row key>` for rates, `note-<row key>`, `unavailable-<row key>` (why the
figure is not available), `released-<row key>` for a periodic release's figures, and
`headline-<priority code>`.
The rules a figure must meet (SPEC §5) live in `measures.returns.validation` and are applied by
the save service; this form only turns typed text into numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django import forms

from measures.arithmetic.formatting import plain_number, round_half_up
from measures.arithmetic.periods import Month, Period, PeriodError, parse_month, parse_period
from measures.models import Area, Headline, Plan, Priority
from measures.returns.rows import ReturnRow
from measures.returns.services import ValueEntry
from measures.returns.validation import value_errors

# Figures are stored with 4 decimal places in at most 18 digits (Value.value).
MAX_DIGITS = 18
DECIMAL_PLACES = 4


def figure_text(number: Decimal | None) -> str:
    """Return a stored figure for a form field: as typed ("12"), blank when there is none."""
    return plain_number(number) or ""


class FigureField(forms.DecimalField):
    """A figure as people type it: "16,127", "£30,801" and "69.8%" are numbers too."""

    default_error_messages = {"invalid": "Enter a number, like 1234 or 12.5."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        # A text box, not type=number: browsers reject "16,127" in a number box and
        # would hide the typed text from the server's error message.
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace("£", "").removesuffix("%").strip()
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return figure_text(value)
        return super().prepare_value(value)


@dataclass
class RowFields:
    """The inputs of one row of the return form."""

    value: forms.BoundField
    note: forms.BoundField
    numerator: forms.BoundField | None = None
    denominator: forms.BoundField | None = None
    unavailable: forms.BoundField | None = None
    released: forms.BoundField | None = None


def field_name(part: str, key: str) -> str:
    return f"{part}-{key}"


class MonthField(forms.CharField):
    """A month typed as 2023-02 (SPEC §3)."""

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            return parse_month(text)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(initial or "") != self.to_python(data)
        except forms.ValidationError:
            return True


class ReturnForm(forms.Form):
    """Every figure, note and Key Headlines text of one return, and the version it was read at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        data=None,
        *,
        rows: list[ReturnRow],
        priorities: Iterable[Priority],
        headlines: dict[int, Headline],
        version: int,
        **kwargs,
    ):
        super().__init__(data, **kwargs)
        self.rows = rows
        self.priorities = list(priorities)
        self.fields["version"].initial = version
        for row in rows:
            self._add_row_fields(row)
        for priority in self.priorities:
            headline = headlines.get(priority.pk)
            self.fields[field_name("headline", priority.code)] = forms.CharField(
                label=f"Key Headlines: {priority.name}",
                required=False,
                initial=headline.text if headline else "",
                help_text=(
                    'Start a line with "- " for a bullet point or "## " for a heading; '
                    "**bold** for emphasis."
                ),
                widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
            )

    def _add_row_fields(self, row: ReturnRow) -> None:
        label = f"{row.measure.name}, {row.period.label}"
        stored = row.value
        unit = row.measure.get_unit_display().lower()
        self.fields[field_name("value", row.key)] = FigureField(
            label=f"{label}: value ({unit})",
            initial=stored.value if stored else None,
        )
        if row.is_ratio:
            self.fields[field_name("numerator", row.key)] = FigureField(
                label=f"{label}: numerator",
                initial=stored.numerator if stored else None,
            )
            self.fields[field_name("denominator", row.key)] = FigureField(
                label=f"{label}: denominator",
                initial=stored.denominator if stored else None,
            )
        self.fields[field_name("note", row.key)] = forms.CharField(
            label=f"{label}: note",
            required=False,
            initial=stored.note if stored else "",
            widget=forms.Textarea(attrs={"rows": 2, "cols": 24}),
        )
        if row.carried is None:
            self.fields[field_name("unavailable", row.key)] = forms.CharField(
                label=f"{label}: not available because",
                required=False,
                initial=row.unavailable.reason if row.unavailable else "",
                widget=forms.TextInput(
                    attrs={"size": 24, "autocomplete": "off", "placeholder": "Why not?"}
                ),
            )
        if row.is_release:
            released = stored.released_on if stored else None
            self.fields[field_name("released", row.key)] = MonthField(
                label=f"{label}: published in",
                required=False,
                initial=Month.from_date(released).iso if released else "",
                help_text="The month the source published the figure, e.g. 2023-02.",
            )

    def clean(self):
        cleaned = super().clean()
        for row in self.rows:
            self._clean_row(row, cleaned)
        return cleaned

    def _clean_row(self, row: ReturnRow, cleaned: dict) -> None:
        value_name = field_name("value", row.key)
        parts = [field_name(part, row.key) for part in ("numerator", "denominator")]
        if value_name not in cleaned or any(p in self.errors for p in parts):
            return  # Not a number: that is the error to fix first.
        measure = row.measure
        numerator = cleaned.get(parts[0]) if row.is_ratio else None
        denominator = cleaned.get(parts[1]) if row.is_ratio else None
        # A rate's value follows from its parts; save the lead typing it twice. Parts that
        # cannot make a rate are left for value_errors to name.
        if (
            cleaned[value_name] is None
            and numerator is not None
            and denominator
            and 0 <= numerator <= denominator
        ):
            cleaned[value_name] = round_half_up(numerator / denominator * 100, measure.decimals)
        # The save service checks again; checking here shows every row's problems at once.
        problems = value_errors(
            unit=measure.unit,
            aggregation=measure.aggregation,
            decimals=measure.decimals,
            value=cleaned[value_name],
            numerator=numerator,
            denominator=denominator,
            unit_name=measure.get_unit_display().lower(),
        )
        if problems:
            self.add_error(value_name, problems)

    def fields_of(self, row: ReturnRow) -> RowFields:
        key = row.key
        optional = {
            part: self[field_name(part, key)] if field_name(part, key) in self.fields else None
            for part in ("numerator", "denominator", "unavailable", "released")
        }
        return RowFields(
            value=self[field_name("value", key)],
            note=self[field_name("note", key)],
            **optional,
        )

    def headline_fields(self) -> list[tuple[Priority, forms.BoundField]]:
        return [(p, self[field_name("headline", p.code)]) for p in self.priorities]

    @property
    def changed_figures(self) -> list[str]:
        """Return the names of the fields whose text differs from what is stored now."""
        return [name for name in self.changed_data if name != "version"]

    def entries(self) -> list[ValueEntry]:
        """Return every row as typed, for `services.return_save`."""
        cleaned = self.cleaned_data
        return [
            ValueEntry(
                measure_code=row.measure.code,
                period=row.period,
                value=cleaned.get(field_name("value", row.key)),
                numerator=cleaned.get(field_name("numerator", row.key)),
                denominator=cleaned.get(field_name("denominator", row.key)),
                note=cleaned.get(field_name("note", row.key), ""),
                unavailable=cleaned.get(field_name("unavailable", row.key)),
                released=cleaned.get(field_name("released", row.key)),
            )
            for row in self.rows
        ]

    def headline_texts(self) -> dict[str, str]:
        return {
            p.code: self.cleaned_data.get(field_name("headline", p.code), "")
            for p in self.priorities
        }

    def add_problems(self, problems: dict[str, list[str]]) -> None:
        """Show a service's problems (keyed by row key) beside the row's value box."""
        for key, messages in problems.items():
            name = field_name("value", key)
            self.add_error(name if name in self.fields else None, list(messages))

    def error_links(self) -> Iterator[tuple[str, str]]:
        """Yield (field id, message) for the error summary, in the order of the form."""
        for error in self.non_field_errors():
            yield "", str(error)
        for bound in self:
            if bound.is_hidden:
                for error in bound.errors:
                    yield "", f"The form was incomplete ({error}); reload the page."
                continue
            # Problems from the services already name the measure and period.
            row_label = str(bound.label).rsplit(": ", 1)[0]
            for error in map(str, bound.errors):
                yield (
                    bound.auto_id,
                    error if error.startswith(row_label) else f"{bound.label}: {error}",
                )


class ReasonForm(forms.Form):
    """Why a reviewer returns or reopens a return: the lead reads it, so it is required."""

    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Give a reason: the lead will see it."},
    )

    def __init__(self, data=None, *, action: str):
        # Two reason forms can share a page; distinct ids keep their labels apart.
        super().__init__(data, auto_id=f"id_{action}_%s")


class ReportingPeriodForm(forms.Form):
    """An admin opening a reporting period: one return per department that owns measures."""

    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), empty_label=None)
    period = forms.CharField(
        label="Period",
        help_text="A financial quarter such as 2023/24-Q1, or a month such as 2023-04.",
        max_length=40,
    )
    deadline = forms.DateField(
        label="Deadline",
        help_text="The day returns are due.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    area = forms.ModelChoiceField(
        queryset=Area.objects.all(),
        required=False,
        empty_label="The force (default)",
        help_text="The area the returns report figures for.",
    )

    def clean_period(self) -> Period:
        try:
            return parse_period(self.cleaned_data["period"])
        except PeriodError as exc:
            raise forms.ValidationError(str(exc), code="invalid_period") from exc

    def clean(self):
        cleaned = super().clean()
        period, deadline = cleaned.get("period"), cleaned.get("deadline")
        if period is not None and deadline is not None and deadline < period.end.first_day:
            self.add_error(
                "deadline",
                f"The deadline is before the period's last month ({period.end.long_label}) "
                "has begun.",
            )
        return cleaned
