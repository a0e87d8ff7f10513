"""Quarterly reports: their layout, and the frozen versions that have been published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from measures.arithmetic.periods import Period
from measures.models import Plan, Priority, _month_period


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
