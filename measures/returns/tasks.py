"""Scheduled tasks of the returns workflow: reminders, and opening due reporting periods."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from measures.engine.tasks import RETRY
from measures.returns import services


@shared_task(acks_late=True, **RETRY)
def send_return_reminders_task() -> int:
    """E-mail reminders for returns due within 3 days and overdue ones (once a day each)."""
    return services.return_reminders_send(today=timezone.localdate())


@shared_task(acks_late=True, **RETRY)
def open_due_reporting_periods_task() -> int:
    """Open the quarter that has just ended, for every plan, if nobody has yet."""
    return len(services.reporting_period_open_due(today=timezone.localdate()))
