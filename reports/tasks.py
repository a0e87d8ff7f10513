"""Report tasks: making a published version's PDF once, in the background."""

from __future__ import annotations

from celery import shared_task

from reports.models import ReportVersion


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=10,
)
def make_report_pdf_task(version_id: int) -> str:
    """Make and store the PDF of a published version (does nothing if it exists)."""
    return pdf_make(version_id)


def pdf_make(version_id: int) -> str:
    from reports.pdf import report_pdf

    version = ReportVersion.objects.select_related("report__plan").get(pk=version_id)
    if version.pdf_status == ReportVersion.PdfStatus.READY and version.pdf:
        return version.pdf_status
    try:
        version.pdf = report_pdf(version)
        version.pdf_status = ReportVersion.PdfStatus.READY
    except Exception:
        version.pdf_status = ReportVersion.PdfStatus.FAILED
        version.save(update_fields=["pdf_status"])
        raise
    version.save(update_fields=["pdf", "pdf_status"])
    return version.pdf_status
