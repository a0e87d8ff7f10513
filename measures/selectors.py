"""Reads that are more than a filter: series of values and the figures computed from them.

Every page and API answer gets its numbers through here, in a fixed number of queries
whatever the number of measures or areas (one query for all the values involved).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Max, QuerySet

from measures import access, figures
from measures.models import Area, Measure, Plan, Value
from measures.periods import Month, Period


@dataclass
class MeasureSeries:
    """One measure's values in one area, with the status of each stored value."""

    measure: Measure
    area: Area
    series: figures.Series
    statuses: dict[Period, str] = field(default_factory=dict)

    def figure(self, period: Period) -> figures.Figure:
        return figures.figure_for(self.series, period, self.measure.aggregation)

    def compare(self, base: Period, current: Period) -> figures.Comparison:
        return figures.compare(
            self.series,
            base,
            current,
            aggregation=self.measure.aggregation,
            unit=self.measure.unit,
            polarity=self.measure.polarity,
        )

    def year_to_date(self, end_month: Month, *, years: int) -> figures.YearToDate:
        return figures.year_to_date(
            self.series, end_month, years=years, aggregation=self.measure.aggregation
        )

    def is_provisional(self, *periods: Period) -> bool:
        """Return whether any value inside the periods is not yet approved."""
        for stored, status in self.statuses.items():
            if status == Value.Status.APPROVED:
                continue
            if any(p.start <= stored.start and stored.end <= p.end for p in periods):
                return True
        return False


def values_queryset(*, approved_only: bool = False) -> QuerySet[Value]:
    qs = Value.objects.all()
    return qs.approved() if approved_only else qs


def series_for(
    *,
    measures: Iterable[Measure],
    areas: Iterable[Area],
    approved_only: bool = False,
    user=None,
) -> dict[tuple[int, int], MeasureSeries]:
    """Return the series of every (measure, area) pair, keyed by their ids, in one query.

    Given a user, only the values that user may see are read (SPEC §1): a lead does not
    see another department's unapproved figures.
    """
    measures = list(measures)
    areas = list(areas)
    by_id_measure = {m.pk: m for m in measures}
    by_id_area = {a.pk: a for a in areas}
    observations: dict[tuple[int, int], list] = defaultdict(list)
    statuses: dict[tuple[int, int], dict[Period, str]] = defaultdict(dict)
    qs = values_queryset(approved_only=approved_only)
    if user is not None:
        qs = access.values_visible_to(user, qs)
    rows = qs.filter(measure_id__in=by_id_measure, area_id__in=by_id_area).values_list(
        "measure_id", "area_id", "start", "end", "value", "numerator", "denominator", "status"
    )
    for measure_id, area_id, start, end, value, numerator, denominator, status in rows:
        period = Period.range(Month.from_date(start), Month.from_date(end))
        key = (measure_id, area_id)
        observations[key].append((period, figures.Observation(value, numerator, denominator)))
        statuses[key][period] = status
    return {
        (m.pk, a.pk): MeasureSeries(
            measure=m,
            area=a,
            series=figures.Series(observations.get((m.pk, a.pk), [])),
            statuses=statuses.get((m.pk, a.pk), {}),
        )
        for m in measures
        for a in areas
    }


def latest_data_month(*, plan: Plan | None = None) -> Month | None:
    """Return the latest month any value of the plan covers: the default reporting month."""
    qs = Value.objects.all()
    if plan is not None:
        qs = qs.filter(measure__priority__plan=plan)
    latest = qs.aggregate(latest=Max("end"))["latest"]
    return Month.from_date(latest) if latest else None


def measures_of(*, plan: Plan | None = None) -> QuerySet[Measure]:
    qs = Measure.objects.select_related("priority", "priority__plan", "owner")
    if plan is not None:
        qs = qs.filter(priority__plan=plan)
    return qs.order_by("priority__position", "position", "name")


class SeriesBook:
    """Series fetched once and reused: a page that builds several tables reads values once."""

    def __init__(self, *, approved_only: bool = False, user=None):
        self.approved_only = approved_only
        self.user = user
        self._series: dict[tuple[int, int], MeasureSeries] = {}

    def fetch(
        self, measures: Iterable[Measure], areas: Iterable[Area]
    ) -> dict[tuple[int, int], MeasureSeries]:
        """Return the series of every (measure, area) pair, reading only pairs not yet read."""
        measures, areas = list(measures), list(areas)
        missing_measures = {m for m in measures for a in areas if (m.pk, a.pk) not in self._series}
        if missing_measures:
            self._series.update(
                series_for(
                    measures=missing_measures,
                    areas=areas,
                    approved_only=self.approved_only,
                    user=self.user,
                )
            )
        return {(m.pk, a.pk): self._series[(m.pk, a.pk)] for m in measures for a in areas}
