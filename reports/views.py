"""Pages: the seed report's tables, the measure page and the home page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from measures import access
from measures import selectors as figure_selectors
from measures.access import Reader, role_of
from measures.arithmetic.periods import Month, Period, PeriodError, parse_period
from measures.models import Measure, Profile
from measures.returns import workflow
from measures.selectors import (
    Anchored,
    SeriesBook,
    pending_recompute,
    reporting_state,
)
from reports import figure_tables, publishing, report_sections, selectors, tables
from reports.charts import series_charts
from reports.exports import EXPORT_FORMATS, export_response
from reports.filters import Catalogue, FigureFilterForm, FilterState
from reports.tables import TABLE_CLASSES


def filter_form(request, catalogue: Catalogue) -> FigureFilterForm:
    """Return the table filters bound to the query string, with the role's default figures."""
    data = request.GET.copy()
    if not data.get("status"):
        data["status"] = "approved" if role_of(request.user) == Profile.Role.VIEWER else "all"
    return FigureFilterForm(data, catalogue=catalogue)


class FigureTableView(LoginRequiredMixin, TemplateView):
    """A page of one kind of figure table, with filters and CSV/XLSX export.

    Everything the filters offer and check comes from one `Catalogue` read; the figures
    come from the materialised derived figures in one query (`SeriesBook`).
    """

    template_name = "reports/figure_page.html"
    page_title = ""
    intro = ""
    table_class: type[tables.FigureTable] = tables.FigureTable

    def build(self, *, measures, area, month, book) -> list[figure_tables.TableData]:
        raise NotImplementedError

    def rows_needed(self, month: Month, measures: list[Measure]) -> Anchored | None:
        """Return the materialised rows the tables read, or None for every month's."""
        return None

    def get(self, request, *args, **kwargs):
        self.catalogue = Catalogue.load()
        self.form = filter_form(request, self.catalogue)
        self.area, self.month, self.measures = None, None, []
        self.reporting, self.chosen = None, None
        self.no_figures_for = None
        self.figure_tables = self.get_tables()
        export_format = request.GET.get("export")
        if export_format in EXPORT_FORMATS:
            return export_response(
                self.figure_tables, name=self.page_title, export_format=export_format
            )
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_tables(self) -> list[tables.FigureTable]:
        if not self.form.is_valid():
            return []
        cleaned = self.form.cleaned_data
        area = cleaned["area"] or self.catalogue.default_area()
        plan = cleaned["plan"] or self.catalogue.default_plan()
        period: Period | None = cleaned["period"]
        self.reader = Reader.of(self.request.user, approved_only=cleaned["status"] == "approved")
        self.reporting = reporting_state(plan=plan, reader=self.reader, fallback=period is None)
        self.chosen = period
        month = period.end if period else self.reporting.month
        if area is None or month is None:
            return []
        self.area, self.month = area, month
        self.measures = self.form.measures()
        built = self.build(
            measures=self.measures,
            area=area,
            month=month,
            book=SeriesBook(self.reader, rows=self.rows_needed(month, self.measures)),
        )
        if figure_tables.period_without_figures(built):
            # Rows of dashes would say less than one sentence (exports still give the rows).
            self.no_figures_for = period or Period.month(month)
        wanted_rag = cleaned["target_status"]
        result = []
        for data in built:
            if wanted_rag:
                data.rows = [row for row in data.rows if row.get("rag") == wanted_rag]
            table = self.table_class(data)
            table.sheet_name = data.key
            result.append(table)
        return result

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("export", None)
        context.update(
            filter=FilterState(self.form),
            recomputing=(
                pending_recompute(self.measures, reader=self.reader)
                if self.figure_tables
                else False
            ),
            page_title=self.page_title,
            intro=self.intro,
            figure_tables=self.figure_tables,
            no_figures_for=self.no_figures_for,
            area=self.area,
            month=self.month,
            reporting=self.reporting,
            chosen=self.chosen,
            query=query.urlencode(),
        )
        return context


class NationalPictureView(FigureTableView):
    page_title = "National Picture"
    intro = "Each target's baseline against the same window ending with the reporting month."
    table_class = tables.NationalPictureTable

    def build(self, **kwargs):
        return [figure_tables.national_picture(**kwargs)]


class YearToDateView(FigureTableView):
    page_title = "Year-to-date comparisons"
    intro = "1 April to the reporting month, in each of four financial years."
    table_class = tables.YearToDateTable

    def build(self, **kwargs):
        only_flagged = not self.form.cleaned_data["measure"]
        return figure_tables.year_to_date_tables(only_flagged=only_flagged, **kwargs)


class MonthlyView(FigureTableView):
    page_title = "Monthly figures"
    intro = "Each month of the reporting month's calendar year."
    table_class = tables.MonthlyTable

    def build(self, **kwargs):
        only_flagged = not self.form.cleaned_data["measure"]
        return [figure_tables.monthly_table(only_flagged=only_flagged, **kwargs)]


class ScorecardView(FigureTableView):
    page_title = "Activity scorecard"
    intro = "Activity in the quarter ending with the reporting month, against the quarter before."
    table_class = tables.ScorecardTable

    def build(self, **kwargs):
        return [figure_tables.scorecard(**kwargs)]


class NationalComparisonView(FigureTableView):
    page_title = "Comparison with the national average"
    intro = "Rolling 12 months for the area against England and Wales and the previous release."
    table_class = tables.NationalComparisonTable

    def rows_needed(self, month, measures):
        return figure_tables.national_comparison_rows(month)

    def build(self, **kwargs):
        return [figure_tables.national_comparison(**kwargs)]


class PerformanceView(FigureTableView):
    page_title = "Performance table"
    intro = "Every measure: rolling 12 months and financial year to date against a year earlier."
    table_class = tables.PerformanceTable

    def rows_needed(self, month, measures):
        self.targets = figure_tables.performance_targets(measures)
        return figure_tables.performance_rows(month, self.targets)

    def build(self, *, area, **kwargs):
        return [figure_tables.performance(areas=[area], targets=self.targets, **kwargs)]


TABLE_PAGES = [
    ("reports:national-picture", NationalPictureView),
    ("reports:national-comparison", NationalComparisonView),
    ("reports:year-to-date", YearToDateView),
    ("reports:monthly", MonthlyView),
    ("reports:scorecard", ScorecardView),
    ("reports:performance", PerformanceView),
]


@login_required
def home(request):
    plan = selectors.default_plan()
    reader = Reader.of(request.user)
    open_returns = (
        workflow.returns_visible_to(request.user)
        .exclude(status="approved")
        .order_by("reporting_period__deadline", "department__name")[:20]
        if workflow.may_see_returns(request.user)
        else []
    )
    return render(
        request,
        "reports/home.html",
        {
            "open_returns": open_returns,
            "today": timezone.localdate(),
            "plan": plan,
            "reporting": (reporting := reporting_state(plan=plan, reader=reader)),
            "month": reporting.month,
            "pages": [(name, view.page_title, view.intro) for name, view in TABLE_PAGES],
            "priorities": selectors.plan_priorities(plan),
        },
    )


@login_required
def report_preview(request):
    """Show the quarterly report as it stands: every section's tables and Key Headlines."""
    catalogue = Catalogue.load()
    form = FigureFilterForm({"status": "all", **request.GET.dict()}, catalogue=catalogue)
    plan = catalogue.default_plan()
    sections, area, month, no_figures_for = [], None, None, None
    reporting, chosen = None, None
    if plan is not None and form.is_valid():
        cleaned = form.cleaned_data
        plan = cleaned["plan"] or plan
        area = cleaned["area"] or catalogue.default_area()
        period = cleaned["period"]
        reader = Reader.of(request.user, approved_only=cleaned.get("status") == "approved")
        reporting = reporting_state(plan=plan, reader=reader, fallback=period is None)
        chosen = period
        month = period.end if period else reporting.month
        if area is not None and month is not None:
            sections = [
                (section, [TABLE_CLASSES[kind](data) for kind, data in section.tables])
                for section in report_sections.report_sections(
                    plan=plan, area=area, month=month, book=SeriesBook(reader)
                )
            ]
            shown = [data for section, _ in sections for _, data in section.tables]
            if figure_tables.period_without_figures(shown) and not any(
                section.headlines for section, _ in sections
            ):
                no_figures_for = period or Period.month(month)
    return render(
        request,
        "reports/report_preview.html",
        {
            "plan": plan,
            "filter": FilterState(form),
            "sections": sections,
            "no_figures_for": no_figures_for,
            "area": area,
            "month": month,
            "reporting": reporting,
            "chosen": chosen,
            "page_title": plan.report_title if plan else "Report",
            "can_publish": access.may_administer(request.user),
        },
    )


@login_required
def measure_detail(request, code: str):
    measure = selectors.measure_by_code(code)
    area_code = request.GET.get("area")
    area = selectors.area_by_code(area_code) if area_code else selectors.reporting_area()
    reader = Reader.of(request.user)
    values = figure_selectors.measure_values(reader=reader, measure=measure, area=area)
    reporting = reporting_state(plan=measure.priority.plan, reader=reader)
    month = reporting.month
    comparisons, charts, spc = [], [], None
    if area and month:
        book = SeriesBook(reader)
        series = book.fetch([measure], [area])[(measure.pk, area.pk)]
        pair = figure_selectors.standard_comparisons(series, month)
        comparisons = [
            ("Rolling 12 months", pair.rolling_12_months),
            ("Financial year to date", pair.year_to_date),
        ]
        charts = series_charts.measure_charts(measure, series, month)
        latest = series.latest_month(month)
        spc = series.spc(latest) if latest is not None else None
    history = figure_selectors.measure_history(reader=reader, measure=measure)
    return render(
        request,
        "reports/measure.html",
        {
            "measure": measure,
            "source": next(iter(selectors.source_systems([measure.source])), None),
            "area": area,
            "areas": figure_selectors.measure_areas(reader=reader, measure=measure),
            "values": values[:240],
            "comparisons": comparisons,
            "charts": charts,
            "spc": spc,
            "history": history,
        },
    )


@login_required
def publish(request):
    """Check the report for a period and, for admins, publish it (with overrides if needed)."""
    access.require_admin(request.user)
    plan = selectors.default_plan()
    if plan is None:
        raise Http404("No plan loaded")
    text = request.POST.get("period") or request.GET.get("period") or ""
    error, built, version = "", None, None
    period = None
    if text:
        try:
            period = reporting_quarter(parse_period(text))
        except PeriodError as exc:
            error = str(exc)
    else:
        # The quarter the public would read: the reporting quarter (every return approved).
        month = reporting_state(plan=plan, reader=Reader.public()).month
        period = reporting_quarter(Period.month(month)) if month else None
    if period is not None:
        if request.method == "POST":
            overrides = {
                key.removeprefix("override-"): value
                for key, value in request.POST.items()
                if key.startswith("override-")
            }
            try:
                version = publishing.report_publish(
                    plan=plan, period=period, actor=request.user, overrides=overrides
                )
            except publishing.NothingChanged as refusal:
                # A message rather than an error: the report is published, just not again.
                messages.info(request, refusal.message)
                query = urlencode({"period": period.notation})
                return redirect(f"{reverse('reports:publish')}?{query}")
            except publishing.PublishBlocked:
                error = "The report was not published: fix or override the problems below."
            else:
                messages.success(
                    request, f"Published version {version.number} of {version.report}."
                )
                return redirect(version.get_absolute_url())
        built = publishing.report_build(plan=plan, period=period)
    return render(
        request,
        "reports/publish.html",
        {
            "plan": plan,
            "period": period,
            "period_text": text or (period.notation if period else ""),
            "error": error,
            "built": built,
            "problems": built.problems if built else [],
            "page_title": "Publish the quarterly report",
        },
    )


def reporting_quarter(period: Period) -> Period:
    """Return the three months ending with the period's last month: a report's quarter."""
    end = period.end
    return Period.range(end.shift(-2), end)
