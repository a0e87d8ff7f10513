"""Scheduled and background tasks: each calls a service and is safe to run again."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from measures import services


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def send_return_reminders_task() -> int:
    """E-mail reminders for returns due within 3 days and overdue ones (once a day each)."""
    return services.return_reminders_send(today=timezone.localdate())


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def open_due_reporting_periods_task() -> int:
    """Open the quarter that has just ended, for every plan, if nobody has yet."""
    return len(services.reporting_period_open_due(today=timezone.localdate()))
