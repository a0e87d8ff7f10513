"""The domain: plans, priorities, measures, areas, targets and the values reported for them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from measures.arithmetic.periods import Month, Period


def _month_period(start, end) -> Period:
    """Return the stored months as a period; a quarter is named as a financial quarter.

    Twelve months stay "12 months to Dec 2020", as the report prints a baseline.
    """
    period = Period.range(Month.from_date(start), Month.from_date(end))
    first = period.start
    if period.length == 3 and first.month in (1, 4, 7, 10):
        # Reporting quarters are financial quarters: "2022/23-Q3", labelled "Oct–Dec 2022".
        return Period.financial_quarter(first.financial_year, (first.month - 4) % 12 // 3 + 1)
    return period


class Department(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    title = models.CharField(
        max_length=300, blank=True, help_text="Title of the quarterly report, if not the name."
    )
    organisation = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who publishes the report, as its cover names them (e.g. the Office of the "
        "Police and Crime Commissioner for Lancashire); blank: the force area's name.",
    )
    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def report_title(self) -> str:
        return self.title or self.name

    @property
    def baseline(self) -> Period | None:
        if self.baseline_start and self.baseline_end:
            return _month_period(self.baseline_start, self.baseline_end)
        return None


class Area(models.Model):
    class Kind(models.TextChoices):
        NATIONAL = "national", "National"
        REGION = "region", "Region"
        FORCE = "force", "Force"
        DIVISION = "division", "Division / BCU"
        DISTRICT = "district", "District"

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def national(self) -> Area | None:
        """Return the national area above this one, if any: what a force is compared with."""
        area: Area | None = self
        seen = set()
        while area is not None and area.pk not in seen:
            if area.kind == Area.Kind.NATIONAL:
                return area
            seen.add(area.pk)
            area = area.parent
        return None


class ComparisonGroup(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    areas = models.ManyToManyField(Area, related_name="comparison_groups", blank=True)

    history = HistoricalRecords(m2m_fields=[areas])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="priorities")
    code = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "name"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="priority_code_unique_in_plan")
        ]

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    """A source system that figures come from: the name measures give it ("CRaSH"), the full
    name the report prints ("Collision Reporting and Sharing System") and where to find it.

    A measure names its source in `Measure.source`; a name with no row here is printed as it
    stands, without a link.
    """

    name = models.CharField(
        max_length=200, unique=True, help_text='As measures name it, e.g. "PAM system".'
    )
    full_name = models.CharField(
        max_length=300, blank=True, help_text="As the report prints it; blank: the name."
    )
    url = models.URLField(
        "link", max_length=500, blank=True, help_text="Printed as a link on the source's name."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.full_name or self.name


class Measure(models.Model):
    class Unit(models.TextChoices):
        COUNT = "count", "Count"
        PERCENT = "percent", "Percent"
        DAYS = "days", "Days"
        YEARS = "years", "Years"
        GBP = "gbp", "Pounds sterling"
        KG = "kg", "Kilograms"
        RATE = "rate", "Rate per N"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum"
        RATIO = "ratio", "Ratio of summed numerator and denominator"
        MEAN = "mean", "Mean"
        LATEST = "latest", "Latest value"

    class Polarity(models.TextChoices):
        LOWER_IS_BETTER = "lower_is_better", "Lower is better"
        HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
        NEUTRAL = "neutral", "Neutral"

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        # Figures that arrive with a periodic external release (the criminal-justice data):
        # each return asks for the 12 months to the quarter end its data lag makes due.
        RELEASE = "release", "Periodic release (12 months to each quarter end)"

    priority = models.ForeignKey(Priority, on_delete=models.PROTECT, related_name="measures")
    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=300)
    definition = models.TextField(blank=True, help_text="What is counted, and what is excluded.")
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    rate_per = models.PositiveIntegerField(
        null=True, blank=True, help_text="For rates: per how many (e.g. 1000 population)."
    )
    aggregation = models.CharField(
        max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    polarity = models.CharField(
        max_length=20, choices=Polarity.choices, default=Polarity.LOWER_IS_BETTER
    )
    frequency = models.CharField(
        max_length=20, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    data_lag_months = models.PositiveSmallIntegerField(default=0)
    decimals = models.PositiveSmallIntegerField(default=0)
    owner = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="measures")
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Source system, by its name; its full name and link are the source's.",
    )
    year_to_date_table = models.BooleanField(
        default=False, help_text="Show a year-to-date table by financial year in reports."
    )
    monthly_table = models.BooleanField(
        default=False, help_text="Show it in the monthly table of its priority."
    )
    scorecard_group = models.CharField(
        max_length=200,
        blank=True,
        help_text="Heading in the activity scorecard; blank = not shown.",
    )
    # The seed's criminal-justice section prints one table per group ("All Crime", "Adult
    # Rape"), each under the Key Headlines heading that names it; not the scorecard's
    # heading, which also decides whether a measure is in the scorecard at all.
    table_group = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Splits its section's tables: the measures of one group get tables of their own, "
            'titled with the group (e.g. "Adult Rape") and printed under the Key Headlines '
            "heading that names it; blank = the section's own tables."
        ),
    )
    aliases = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Other names the report's authors use for the measure in Key Headlines "
            '(e.g. ["neighbourhood crime"]), so headline numbers are checked against it.'
        ),
    )
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["priority__position", "position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decimals__lte=6), name="measure_decimals_at_most_6"
            ),
            models.CheckConstraint(
                condition=~Q(unit="rate") | Q(rate_per__isnull=False),
                name="measure_rate_has_rate_per",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("reports:measure", args=[self.code])

    @property
    def is_percent(self) -> bool:
        return self.unit == self.Unit.PERCENT


class Target(models.Model):
    class Kind(models.TextChoices):
        REDUCE_VS_BASELINE = "reduce_vs_baseline", "Reduce against baseline"
        INCREASE_VS_BASELINE = "increase_vs_baseline", "Increase against baseline"
        AT_MOST = "at_most", "At most"
        AT_LEAST = "at_least", "At least"

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="targets")
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="targets"
    )
    name = models.CharField(max_length=200, help_text='As printed, e.g. "Reduce Murder/Homicide".')
    kind = models.CharField(max_length=30, choices=Kind.choices)
    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)
    target_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    tolerance = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        default=Decimal(0),
        help_text="How far past the target still counts as amber.",
    )
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["measure__priority__position", "position", "measure__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "area", "kind"], name="target_unique_per_measure_area_kind"
            ),
            models.CheckConstraint(
                condition=Q(baseline_start__isnull=True)
                | Q(baseline_start__lte=F("baseline_end")),
                name="target_baseline_ordered",
            ),
            models.CheckConstraint(
                condition=Q(tolerance__gte=0), name="target_tolerance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.measure.name}"

    @property
    def baseline(self) -> Period | None:
        if self.baseline_start and self.baseline_end:
            return _month_period(self.baseline_start, self.baseline_end)
        return None


class SeriesBreak(models.Model):
    """A break in series (SPEC §2): from this month the process behind a measure changed (a
    recording rule, a new team, the Covid period), so its control limits are worked out
    afresh from here and its run rules restart here, in every area."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="series_breaks")
    start = models.DateField(
        verbose_name="from month",
        help_text="The first month of the changed process (stored as the 1st of the month).",
    )
    reason = models.CharField(
        max_length=200,
        help_text='Shown on the charts, e.g. "Covid-19 restrictions: breaches recorded as ASB".',
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "start"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "start"], name="series_break_unique_month")
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} from {self.month.short_label}: {self.reason}"

    def clean(self) -> None:
        # A break is a month: any day of it names it.
        if self.start is not None:
            self.start = self.start.replace(day=1)

    @property
    def month(self) -> Month:
        return Month.from_date(self.start)


class ApprovedLocked(Exception):
    """An approved figure or headline cannot change until its return is reopened."""


def _refuse_change_if_approved(obj) -> None:
    """Refuse to change or delete a row that is approved in the database.

    Approval is the point at which reviewers vouch for a figure, so it stays read-only on
    every path (forms, API, imports, admin) until its return is reopened, which moves it
    back to draft with a queryset update in the workflow service.
    """
    if obj.pk is None:
        return
    stored = type(obj).objects.filter(pk=obj.pk).values_list("status", flat=True).first()
    if stored == ReviewStatus.APPROVED:
        raise ApprovedLocked(f"{obj} is approved; reopen its return before changing it")


class LockedWhenApproved(models.Model):
    """Refuse `save()` and `delete()` of a row that is approved in the database."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        _refuse_change_if_approved(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_change_if_approved(self)
        return super().delete(*args, **kwargs)


class ReviewStatus(models.TextChoices):
    """Where a figure or headline stands in the returns workflow."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"


class ValueQuerySet(models.QuerySet["Value"]):
    def approved(self) -> ValueQuerySet:
        return self.filter(status=Value.Status.APPROVED)


class Value(LockedWhenApproved):
    """A figure for one measure, one area and one period (a month, or a longer stored period)."""

    Status = ReviewStatus

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="values")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="values")
    start = models.DateField(help_text="First day of the first month of the period.")
    end = models.DateField(help_text="First day of the last month of the period.")
    value = models.DecimalField(max_digits=18, decimal_places=4)
    numerator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)
    released_on = models.DateField(
        null=True,
        blank=True,
        help_text="For a figure from a periodic release: the first day of the month the "
        'source published it ("Data was updated in February 2023…").',
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()
    objects = ValueQuerySet.as_manager()

    class Meta:
        ordering = ["measure", "area", "start", "end"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "area", "start", "end"],
                name="value_one_per_measure_area_period",
            ),
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="value_period_ordered"),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True)
                | Q(denominator__isnull=True)
                | Q(numerator__lte=F("denominator")),
                name="value_numerator_within_denominator",
            ),
        ]
        indexes = [
            models.Index(fields=["measure", "area", "end"], name="value_series_idx"),
            # The few values stored for longer than a month (a quarter, a 12-month release):
            # pages ask whether a measure has any, per request, through this small index.
            models.Index(
                fields=["measure", "area"],
                condition=~Q(start=F("end")),
                name="value_longer_period_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} {self.area.code} {self.period.notation} = {self.value}"

    @property
    def period(self) -> Period:
        return _month_period(self.start, self.end)

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class UnavailableFigure(LockedWhenApproved):
    """A figure a return asked for that its lead marked not available, with the reason.

    It is reviewed, approved and locked with its return like a value. The figure itself may
    arrive later: the next reporting period's return asks for it again as a late figure,
    and the gap stays on record (tables footnote it until the figure is approved).
    """

    Status = ReviewStatus

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="unavailable")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField()
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "area", "start", "end"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "area", "start", "end"],
                name="unavailable_one_per_measure_area_period",
            ),
            models.CheckConstraint(
                condition=Q(start__lte=F("end")), name="unavailable_period_ordered"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="unavailable_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} {self.period.label}: not available"

    @property
    def period(self) -> Period:
        return _month_period(self.start, self.end)


class Headline(LockedWhenApproved):
    """One department's "Key Headlines" narrative for one priority and reporting period."""

    Status = ReviewStatus

    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="headlines")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="headlines")
    start = models.DateField()
    end = models.DateField()
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["priority__position", "start", "department__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "department", "start", "end"],
                name="headline_one_per_priority_department_period",
            ),
            models.CheckConstraint(
                condition=Q(start__lte=F("end")), name="headline_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority.name} — {self.period.label}"

    @property
    def period(self) -> Period:
        return _month_period(self.start, self.end)


class Profile(models.Model):
    """A person's role in the reporting process and, for leads, the departments they answer for."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        REVIEWER = "reviewer", "Reviewer"
        ADMIN = "admin", "Admin"
        VIEWER = "viewer", "Viewer"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    departments = models.ManyToManyField(Department, related_name="members", blank=True)

    history = HistoricalRecords(m2m_fields=[departments])

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ReportingPeriod(models.Model):
    """A quarter (or other period) for which departments send returns, with its deadline."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reporting_periods")
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", help_text="The area returns report on."
    )
    start = models.DateField()
    end = models.DateField()
    asks_from = models.DateField(
        help_text=(
            "First day of the first month whose figures fall due in this period: the month "
            "after the previous reporting period (or the start, for the first). A figure is "
            "asked for by the period its month end plus its data lag falls in."
        ),
    )
    deadline = models.DateField()
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-end", "plan"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "start", "end"], name="reporting_period_unique_in_plan"
            ),
            models.CheckConstraint(
                condition=Q(start__lte=F("end")), name="reporting_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(asks_from__lte=F("start")), name="reporting_period_asks_from_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.period.label}"

    @property
    def period(self) -> Period:
        return _month_period(self.start, self.end)

    @property
    def due_window(self) -> Period:
        """The months whose figures fall due in this period (month end + data lag)."""
        return Period.range(Month.from_date(self.asks_from), Month.from_date(self.end))


class Return(models.Model):
    """One department's figures and headlines for one reporting period."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned for changes"
        APPROVED = "approved", "Approved"
        REOPENED = "reopened", "Reopened"

    EDITABLE = (Status.DRAFT, Status.RETURNED, Status.REOPENED)

    reporting_period = models.ForeignKey(
        ReportingPeriod, on_delete=models.CASCADE, related_name="returns"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every change; a save from an older version is refused."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_reminded_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-reporting_period__end", "department__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporting_period", "department"], name="return_one_per_department_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department.name}, {self.reporting_period.period.label}"

    def get_absolute_url(self) -> str:
        return reverse("returns:detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class ReturnEvent(models.Model):
    """An entry in a return's audit trail: a save with its changes, or a transition.

    Rows are only ever added. `changes` lists every value and headline the event altered
    (old and new), so a return's figures can be replayed from its events alone.
    """

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        SAVED = "saved", "Saved"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned for changes"
        APPROVED = "approved", "Approved"
        REOPENED = "reopened", "Reopened"
        REMINDED = "reminded", "Reminder sent"

    return_obj = models.ForeignKey(Return, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    version = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["return_obj", "at", "pk"]
        indexes = [models.Index(fields=["return_obj", "version"], name="return_event_version_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} by {self.actor or 'system'}"


class DerivedFigure(models.Model):
    """Materialised figures for one measure, area and month (SPEC §6), kept by `engine`.

    One row per month that has a monthly value, per scope: "all" values, or "approved"
    values only. Rolling twelve months and financial year to date end with the row's month;
    the base columns are the same windows a year earlier.
    """

    class Scope(models.TextChoices):
        ALL = "all", "Approved and provisional"
        APPROVED = "approved", "Approved only"

    # No database foreign keys: this table is a cache rebuilt in bulk, and checking every
    # inserted row against measures and areas would double the cost of a recompute. The ORM
    # still cascades deletes of a measure or an area.
    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    month = models.DateField()
    month_index = models.IntegerField(help_text="year × 12 + month − 1")
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_numerator = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_months = models.PositiveSmallIntegerField()
    r12_base_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_base_months = models.PositiveSmallIntegerField(null=True)
    r12_change = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_change_pct = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    fytd_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    fytd_months = models.PositiveSmallIntegerField()
    fytd_required = models.PositiveSmallIntegerField()
    fytd_base_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    fytd_base_months = models.PositiveSmallIntegerField(null=True)
    fytd_change = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    fytd_change_pct = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    value_approved = models.BooleanField(null=True, help_text="The month's own value is approved.")
    approved = models.BooleanField(help_text="Every value in the windows is approved.")
    spc_centre = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    spc_lower = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    spc_upper = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    spc_signals = models.CharField(max_length=100, blank=True)
    r12_change_pp = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    r12_direction = models.CharField(max_length=10, null=True)
    fytd_change_pp = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    fytd_direction = models.CharField(max_length=10, null=True)
    # Against the plan's baseline: the baseline window's figure, and the window of the same
    # length ending with this month (12 months to Dec 2020 → the 12 months to this month).
    plan_base_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    plan_base_months = models.PositiveSmallIntegerField(null=True)
    plan_current_value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    plan_current_months = models.PositiveSmallIntegerField(null=True)
    plan_change = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    plan_change_pct = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    plan_change_pp = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    plan_direction = models.CharField(max_length=10, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "area", "scope", "month_index"],
                name="derived_one_per_measure_area_scope_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}/{self.area_id} {self.month:%Y-%m} ({self.scope})"


class PendingRecompute(models.Model):
    """A measure whose derived figures are stale: written in the same transaction as the cause.

    The recompute task deletes it when done; the periodic sweep picks up any that a lost
    task (broker down, worker killed) left behind, so nothing stays stale.
    """

    measure = models.OneToOneField(Measure, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    # A draft's change alters only the figures of those who may see drafts; the notice that
    # figures are being recomputed is shown to everyone else only when approved ones change.
    drafts_only = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"recompute {self.measure_id} since {self.requested_at:%Y-%m-%d %H:%M}"


class RecomputeRun(models.Model):
    """The outcome of one recompute task, for operators and for tests."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    task_id = models.CharField(max_length=64, blank=True)
    measure_ids = models.JSONField(default=list, blank=True, help_text="Empty means all.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    rows = models.PositiveIntegerField(default=0)
    # A forced rebuild of every measure (`recompute --all`), not the default incremental run.
    full = models.BooleanField(default=False)
    measures_recomputed = models.PositiveIntegerField(
        default=0, help_text="0: nothing had changed since the last recompute."
    )
    series_recomputed = models.PositiveIntegerField(
        default=0,
        help_text="Single series (measure and area) recomputed because their values changed, "
        "of measures not recomputed whole.",
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"recompute {self.outcome} at {self.started_at:%Y-%m-%d %H:%M}"


class DerivedFingerprint(models.Model):
    """What a measure's derived figures were last computed from, as a fingerprint.

    `engine.fingerprints` reads every input of the figures in one set-based query (values
    with their status, the measure's definition, the plan's baseline, breaks in series,
    targets, the engine's statement); a recompute stores the fingerprint it read before
    computing, and the default recompute redoes only measures whose fingerprint now differs.
    """

    measure = models.OneToOneField(
        Measure, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.measure_id}: {self.fingerprint[:12]}"


class ValueChange(models.Model):
    """A series (measure and area) whose values changed — a row inserted, updated or deleted —
    since a recompute last took its entries: appended by database triggers on the values
    table in the writer's transaction, whatever the path (`engine.changes`), and deleted by
    the recompute that computes the series. No foreign keys: a measure's values are deleted
    with it.
    """

    measure_id = models.BigIntegerField()
    area_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Empty: every area of the measure (the values table was truncated).",
    )

    def __str__(self) -> str:
        return f"values of measure {self.measure_id}, area {self.area_id or 'all'} changed"
