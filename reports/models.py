"""Quarterly reports: their layout, and the frozen versions that have been published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from measures.arithmetic.periods import Period
from measures.models import Plan, Priority, _month_period


class ReportSection(models.Model):
    """One section of a plan's quarterly report, in order; absent = the default layout."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="report_sections")
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True, help_text="Blank: the priority's name.")
    shown = models.BooleanField(default=True)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "priority"], name="report_section_unique")
        ]

    def __str__(self) -> str:
        return self.title or self.priority.name


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
