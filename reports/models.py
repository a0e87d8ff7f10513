"""Quarterly reports: their layout, and the frozen versions that have been published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from measures.arithmetic.periods import Month, Period
from measures.models import Measure, Plan, Priority, _month_period


class ReportSection(models.Model):
    """One section of a plan's quarterly report, in order; absent = the default layout.

    Besides its place and title, a section holds what its report prints every quarter
    until someone changes it: a heading opening a part of the report, a note on how its
    figures are counted, whether its Key Headlines come before or after its tables (a
    headline saying "see below" needs them before), and its activities.
    """

    class HeadlinesPlacement(models.TextChoices):
        AFTER = "after", "After the tables and charts"
        BEFORE = "before", "Before the tables and charts"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="report_sections")
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True, help_text="Blank: the priority's name.")
    part_heading = models.CharField(
        max_length=200,
        blank=True,
        help_text='Printed above the section, opening a part of the report (e.g. "Police and '
        'Crime Plan Priorities").',
    )
    shown = models.BooleanField(default=True)
    headlines_placement = models.CharField(
        "Key Headlines",
        max_length=10,
        choices=HeadlinesPlacement.choices,
        default=HeadlinesPlacement.AFTER,
        help_text='Before, when a headline points to a table "below".',
    )
    note = models.TextField(
        blank=True,
        help_text="Printed with the section's sources, e.g. that injury collisions are "
        "reported to the DfT by calendar year.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "priority"], name="report_section_unique")
        ]

    def __str__(self) -> str:
        return self.title or self.priority.name

    @property
    def headlines_first(self) -> bool:
        return self.headlines_placement == self.HeadlinesPlacement.BEFORE


class ReportActivity(models.Model):
    """Work a section reports in words rather than figures, beside its activity scorecard
    (the organised-crime section's "Worked in partnership with different agencies…")."""

    section = models.ForeignKey(ReportSection, on_delete=models.CASCADE, related_name="activities")
    position = models.PositiveIntegerField(default=0)
    group = models.CharField(
        max_length=200,
        blank=True,
        help_text="The heading it is printed under, e.g. the scorecard group it belongs to.",
    )
    title = models.CharField(max_length=200, blank=True, help_text='e.g. "Prevent initiatives".')
    text = models.TextField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "position"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.title or self.text[:60]


class ReportChart(models.Model):
    """A chart a section of the report draws every quarter from the measures it names, in
    order: the seed's call volumes with their total, ASB incidents by financial year, the
    quarter's 101 call flow, the outcome rates of priority crimes.

    Besides these declared charts, a section draws its automatic ones (year-to-date bars,
    XmR charts of signals, monthly measures no table shows), never for a measure a declared
    chart already shows.
    """

    class Kind(models.TextChoices):
        MONTHLY_WITH_TOTAL = "monthly_with_total", "Monthly lines with their total (right axis)"
        FINANCIAL_YEARS = "financial_years", "Months by financial year, overlaid"
        QUARTER = "quarter", "The quarter's months, against the same quarter in earlier years"
        MONTHLY_LINES = "monthly_lines", "Monthly lines"

    class Placement(models.TextChoices):
        AFTER = "after", "After the tables"
        BEFORE = "before", "Before the tables"

    section = models.ForeignKey(ReportSection, on_delete=models.CASCADE, related_name="charts")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(
        max_length=200,
        help_text="As printed under the chart. A chart of the quarter adds the quarter's "
        'months ("– October to December 2022").',
    )
    start = models.DateField(
        "from month",
        null=True,
        blank=True,
        help_text="The first month it shows (stored as the 1st of the month); blank: "
        "as many years as below.",
    )
    years = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many years it reaches back, the report's own included (financial "
        "years, or the same quarter in earlier years); blank: the kind's default.",
    )
    total_label = models.CharField(
        max_length=100,
        blank=True,
        help_text="The total's name, for monthly lines with their total (e.g. \"Total calls "
        'presented").',
    )
    placement = models.CharField(max_length=10, choices=Placement.choices, default=Placement.AFTER)
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Printed under the chart, by the name measures give a source; blank: its "
        "measures' sources.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(years__gt=0) | Q(years=None), name="chart_years")
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # A chart starts with a month: any day of it names it.
        if self.start is not None:
            self.start = self.start.replace(day=1)

    @property
    def start_month(self) -> Month | None:
        return None if self.start is None else Month.from_date(self.start)

    @property
    def placed_before(self) -> bool:
        return self.placement == self.Placement.BEFORE

    def shown_measures(self) -> list[Measure]:
        """Return its measures in order (prefetch `chart_measures__measure` to read them once)."""
        return [row.measure for row in self.chart_measures.all()]

    def measures_set(self, measures: list[Measure]) -> bool:
        """Make `measures`, in this order, the chart's; return whether they changed.

        Rows are replaced rather than renumbered, so that a new order never meets the rule
        that a chart names a measure once; each write is in the history.
        """
        rows = list(self.chart_measures.order_by("position", "pk"))
        if [row.measure_id for row in rows] == [m.pk for m in measures]:
            return False
        for row in rows:
            row.delete()
        for position, measure in enumerate(measures, start=1):
            ReportChartMeasure.objects.create(chart=self, measure=measure, position=position)
        return True

    @classmethod
    def measure_problems(cls, kind: str, measures: list[Measure]) -> list[str]:
        """Return why these measures, in this order, cannot make a chart of this kind.

        Every kind draws months on one value axis, so its measures are monthly, have months
        to draw (not a `latest` figure for a fixed window) and share a unit; months by
        financial year draw one measure; a total adds up two or more summed measures.
        """
        if not measures:
            return ["a chart needs at least one measure"]

        def codes(found: list[Measure]) -> str:
            return ", ".join(m.code for m in found)

        problems = []
        named_twice = [m for i, m in enumerate(measures) if m in measures[:i]]
        if named_twice:
            problems.append(f"{codes(named_twice)} named more than once")
        not_monthly = [m for m in measures if m.frequency != Measure.Frequency.MONTHLY]
        if not_monthly:
            problems.append(f"{codes(not_monthly)} not monthly: a chart draws months")
        fixed = [m for m in measures if m.aggregation not in CHARTED_AGGREGATIONS]
        if fixed:
            problems.append(f"{codes(fixed)} held for fixed windows: no months to draw")
        if len({m.unit for m in measures}) > 1:
            units = ", ".join(f"{m.code} ({m.unit})" for m in measures)
            problems.append(f"a chart's measures share one unit, its value axis: {units}")
        if kind == cls.Kind.FINANCIAL_YEARS and len(measures) > 1:
            problems.append(f"months by financial year draw one measure, not {len(measures)}")
        if kind == cls.Kind.MONTHLY_WITH_TOTAL:
            if len(measures) < 2:
                problems.append("a total needs two or more measures")
            not_summed = [m for m in measures if m.aggregation != Measure.Aggregation.SUM]
            if not_summed:
                problems.append(f"{codes(not_summed)} not summed: only sums make a total")
        return problems


# Aggregations whose months chart as a line (`reports.charts.series_charts.monthly_charted`).
CHARTED_AGGREGATIONS = (
    Measure.Aggregation.SUM,
    Measure.Aggregation.RATIO,
    Measure.Aggregation.MEAN,
)


class ReportChartMeasure(models.Model):
    """One of a chart's measures, in its place."""

    chart = models.ForeignKey(ReportChart, on_delete=models.CASCADE, related_name="chart_measures")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["chart", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "measure"], name="chart_measure_unique")
        ]

    def __str__(self) -> str:
        return self.measure.code


class PublishedReport(models.Model):
    """A plan's report for one reporting period; its versions are frozen snapshots."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="published_reports")
    start = models.DateField()
    end = models.DateField()

    class Meta:
        ordering = ["-end", "plan"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "start", "end"], name="report_unique_period"),
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="report_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.report_title} – {self.period.label}"

    def get_absolute_url(self) -> str:
        return reverse("public:report", args=[self.plan.code, self.slug])

    @property
    def period(self) -> Period:
        return _month_period(self.start, self.end)

    @property
    def slug(self) -> str:
        """Return the period as it appears in public URLs: 2022/23-Q3 → 2022-23-q3."""
        return self.period.notation.replace("/", "-").lower()

    def latest(self) -> ReportVersion | None:
        return self.versions.order_by("-number").first()


class ReportVersion(models.Model):
    """A published version: figures, texts and charts frozen as they were that day."""

    class PdfStatus(models.TextChoices):
        PENDING = "pending", "Being made"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    report = models.ForeignKey(PublishedReport, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    html = models.TextField(help_text="The report's body, rendered once at publication.")
    snapshot = models.JSONField(
        help_text="Every table's cells and figures, for exports and diffs."
    )
    changes = models.JSONField(default=list, blank=True)
    overrides = models.JSONField(default=list, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_status = models.CharField(
        max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING
    )

    class Meta:
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report} (version {self.number})"

    def get_absolute_url(self) -> str:
        return reverse(
            "public:report-version", args=[self.report.plan.code, self.report.slug, self.number]
        )
