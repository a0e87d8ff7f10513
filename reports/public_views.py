"""Published reports, readable by anyone without logging in (SPEC §1 "Public")."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from reports.exports import EXPORT_FORMATS, export_snapshot
from reports.models import PublishedReport, ReportVersion
from reports.tasks import pdf_make


def published_list(request):
    reports = (
        PublishedReport.objects.select_related("plan")
        .prefetch_related("versions")
        .order_by("-end", "plan__code")
    )
    return render(request, "reports/published_list.html", {"reports": reports})


def _report(plan_code: str, slug: str) -> PublishedReport:
    for report in PublishedReport.objects.filter(plan__code=plan_code).select_related("plan"):
        if report.slug == slug:
            return report
    raise Http404("No such published report")


def _version(plan_code: str, slug: str, number: int | None) -> ReportVersion:
    report = _report(plan_code, slug)
    versions = report.versions.select_related("report__plan", "published_by")
    if number is None:
        version = versions.order_by("-number").first()
        if version is None:
            raise Http404("Not published yet")
        return version
    return get_object_or_404(versions, number=number)


def published_report(request, plan: str, period: str, number: int | None = None):
    version = _version(plan, period, number)
    others = version.report.versions.order_by("-number").only("number", "published_at")
    return render(
        request,
        "reports/published_report.html",
        {"version": version, "report": version.report, "versions": others},
    )


def published_pdf(request, plan: str, period: str, number: int):
    version = _version(plan, period, number)
    if version.pdf_status != ReportVersion.PdfStatus.READY or not version.pdf:
        # Made by a task after publishing; if that has not run (no broker), make it now.
        pdf_make(version.pk)
        version.refresh_from_db()
    response = HttpResponse(bytes(version.pdf or b""), content_type="application/pdf")
    filename = f"{version.report.plan.code}-{version.report.slug}-v{version.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def published_tables(request, plan: str, period: str, number: int, export_format: str):
    if export_format not in EXPORT_FORMATS:
        raise Http404("Use .csv or .xlsx")
    version = _version(plan, period, number)
    name = f"{version.report.plan.code}-{version.report.slug}-v{version.number}"
    return export_snapshot(version.snapshot, name=name, export_format=export_format)
