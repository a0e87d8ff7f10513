"""Late figures (1 of 2): each reporting period asks for the figures that fell due since the last one;
periodic releases; figures marked not available with a reason."""

import datetime

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def asks_from_previous(apps, schema_editor):
    """A period asks from the month after the previous period of its plan (or its start)."""
    ReportingPeriod = apps.get_model("measures", "ReportingPeriod")
    previous_end = {}
    for reporting in ReportingPeriod.objects.order_by("plan_id", "start"):
        before = previous_end.get(reporting.plan_id)
        asks_from = reporting.start if before is None else min(_next_month(before), reporting.start)
        ReportingPeriod.objects.filter(pk=reporting.pk).update(asks_from=asks_from)
        previous_end[reporting.plan_id] = reporting.end
    Historical = apps.get_model("measures", "HistoricalReportingPeriod")
    Historical.objects.filter(asks_from__isnull=True).update(asks_from=models.F("start"))


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0008_measure_aliases"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reportingperiod",
            name="asks_from",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="historicalreportingperiod",
            name="asks_from",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(asks_from_previous, migrations.RunPython.noop),
    ]
