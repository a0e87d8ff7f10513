"""Pages of the returns workflow (SPEC §5, §7): lists, the return form, review and periods.

Each view fetches the return through `measures.returns.workflow.return_for`, validates with a form,
calls one service and redirects. Nothing here decides who may do what: the access module
does, and the templates only show the `can_*` answers passed to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin, SingleTableView

from measures import access
from measures.arithmetic.formatting import MISSING, format_value
from measures.models import Measure, ReportingPeriod, Return, ReturnEvent
from measures.returns import services, workflow
from measures.returns.filters import ReturnFilter
from measures.returns.forms import (
    ReasonForm,
    ReportingPeriodForm,
    ReturnForm,
    RowFields,
    figure_text,
)
from measures.returns.progress import ReturnTable, ReviewQueueTable, is_overdue
from measures.returns.rows import (
    GROUP_TITLES,
    Group,
    ReturnRow,
    progress,
    return_headline_map,
    return_priorities,
    return_rows,
)
from pcp.security import note_refusal

STATUS_LABELS = dict(Return.Status.choices)
NOT_SUBMITTED = "The return was not submitted. Correct the figures below first."


def shows_refusal(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a refused action with a 403 page that says why, not a bare "Forbidden"."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            note_refusal(request, exc)
            return render(
                request,
                "returns/forbidden.html",
                {"reason": str(exc) or "You may not do that.", "page_title": "Not allowed"},
                status=403,
            )

    return wrapped


def returns_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every returns page needs a signed-in person and explains refusals."""
    return login_required(shows_refusal(view))


# --- lists ------------------------------------------------------------------------------------


class ReturnListView(LoginRequiredMixin, SingleTableMixin, FilterView):
    """A lead's returns (their departments'); every return for reviewers and admins."""

    table_class = ReturnTable
    filterset_class = ReturnFilter
    template_name = "returns/list.html"
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        user = self.request.user
        workflow.require_returns_access(user)
        return workflow.returns_visible_to(user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["page_title"] = "Returns" if workflow.sees_all_returns(user) else "My returns"
        context["can_open_periods"] = access.may_administer(user)
        return context


class ReviewQueueView(LoginRequiredMixin, SingleTableView):
    """Submitted returns waiting for a decision, oldest submission first."""

    table_class = ReviewQueueTable
    template_name = "returns/review_queue.html"
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        user = self.request.user
        if not workflow.sees_all_returns(user):
            raise PermissionDenied("Only reviewers and admins have a review queue.")
        return (
            workflow.returns_visible_to(user)
            .filter(status=Return.Status.SUBMITTED)
            .select_related("submitted_by")
            .order_by("submitted_at", "pk")
        )


return_list = shows_refusal(ReturnListView.as_view())
review_queue = shows_refusal(ReviewQueueView.as_view())


# --- the return page --------------------------------------------------------------------------


@dataclass
class ReturnLine:
    """One row of the return page: the stored figure, its context, and its inputs if editable."""

    row: ReturnRow
    value: str
    numerator: str
    denominator: str
    previous: str
    same_period_last_year: str
    rolling_twelve: str
    # The 11 months before, as a plain number, for the script that updates the implied
    # rolling 12 months while the lead types; empty when it cannot be worked out.
    rolling_before: str
    fields: RowFields | None = None


@dataclass
class HistoryEntry:
    event: ReturnEvent
    who: str
    from_status: str
    to_status: str
    changes: list[str] = field(default_factory=list)


def _figure(number: Decimal | None, measure: Measure) -> str:
    return format_value(number, measure.unit, measure.decimals)


def _lines(rows: list[ReturnRow], form: ReturnForm | None) -> list[ReturnLine]:
    lines = []
    for row in rows:
        measure, stored = row.measure, row.value
        # Only a summed measure's rolling 12 months is the 11 months before plus this one;
        # a rate or a mean over 12 months cannot be added up from monthly figures.
        adds_up = measure.aggregation == Measure.Aggregation.SUM and row.rolling_before is not None
        lines.append(
            ReturnLine(
                row=row,
                value=_figure(stored.value if stored else None, measure),
                numerator=figure_text(stored.numerator) if stored else "",
                denominator=figure_text(stored.denominator) if stored else "",
                previous=_figure(row.previous, measure),
                same_period_last_year=_figure(row.same_period_last_year, measure),
                rolling_twelve=_figure(row.rolling_twelve, measure) if adds_up else MISSING,
                rolling_before=figure_text(row.rolling_before) if adds_up else "",
                fields=form.fields_of(row) if form is not None else None,
            )
        )
    return lines


@dataclass
class LineGroup:
    """A part of the return page: the quarter's own figures, late figures, a release."""

    key: str
    title: str
    intro: str
    lines: list[ReturnLine]


GROUP_INTROS = {
    Group.QUARTER: "",
    Group.LATE: (
        "Months that were not yet due (their data lag) or not available when an earlier "
        "return was made. They are checked, approved and locked like the quarter's own."
    ),
    Group.RELEASE: (
        "Figures published in a periodic national release. Give the month the release came "
        "out: the report's footnote names it."
    ),
}


def _groups(ret: Return, lines: list[ReturnLine]) -> list[LineGroup]:
    """Return the lines in the groups the page shows them in (rows come ordered by group)."""
    groups: list[LineGroup] = []
    for line in lines:
        group = line.row.group
        if not groups or groups[-1].key != group:
            title = GROUP_TITLES[group]
            if group == Group.QUARTER:
                title = f"Figures for {ret.reporting_period.period.label}"
            groups.append(LineGroup(key=group, title=title, intro=GROUP_INTROS[group], lines=[]))
        groups[-1].lines.append(line)
    return groups


def _history(ret: Return) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            event=event,
            who=event.actor.get_username() if event.actor else "the system",
            from_status=STATUS_LABELS.get(event.from_status, event.from_status),
            to_status=STATUS_LABELS.get(event.to_status, event.to_status),
            changes=[services.change_text(c) for c in event.changes or []],
        )
        for event in ret.events.select_related("actor").order_by("at", "pk")
    ]


def _return_form(ret: Return, rows: list[ReturnRow], data=None) -> ReturnForm:
    return ReturnForm(
        data,
        rows=rows,
        priorities=return_priorities(ret),
        headlines=return_headline_map(ret),
        version=ret.version,
    )


def _render_return(
    request: HttpRequest,
    ret: Return,
    *,
    rows: list[ReturnRow] | None = None,
    form: ReturnForm | None = None,
    send_back_form: ReasonForm | None = None,
    reopen_form: ReasonForm | None = None,
    conflict: list[str] | None = None,
    summary_intro: str = "Nothing was saved. Correct the figures below and try again.",
    status: int = 200,
) -> HttpResponse:
    """Render the return: its form when the person may edit it, else a read-only page."""
    user = request.user
    rows = rows if rows is not None else return_rows(ret)
    can_edit = workflow.can(user, "edit", ret)
    if can_edit and form is None:
        form = _return_form(ret, rows)
    if not can_edit:
        form = None
    can_approve = workflow.can(user, "approve", ret)
    can_send_back = workflow.can(user, "send_back", ret)
    history = _history(ret)
    decisions = [
        h
        for h in history
        if h.event.kind in (ReturnEvent.Kind.RETURNED, ReturnEvent.Kind.REOPENED)
    ]
    filled, required = progress(rows)
    headlines = return_headline_map(ret)
    send_back_form = send_back_form or ReasonForm(action="send_back")
    reopen_form = reopen_form or ReasonForm(action="reopen")
    error_links = list(form.error_links()) if form is not None and form.is_bound else []
    for reason_form in (send_back_form, reopen_form):
        if reason_form.is_bound:
            bound = reason_form["reason"]
            error_links += [(bound.auto_id, f"{bound.label}: {e}") for e in bound.errors]
    return render(
        request,
        "returns/detail.html",
        {
            "page_title": f"Return: {ret.department.name}, {ret.reporting_period.period.label}",
            "ret": ret,
            "form": form,
            "groups": _groups(ret, _lines(rows, form)),
            "headlines": [(p, headlines.get(p.pk)) for p in return_priorities(ret)],
            "history": history,
            "last_decision": decisions[-1] if decisions and ret.is_editable else None,
            "filled": filled,
            "required": required,
            "overdue": is_overdue(ret),
            "conflict": conflict,
            "error_links": error_links,
            "summary_intro": summary_intro if form is not None and form.errors else "",
            "can_edit": can_edit,
            "can_submit": workflow.can(user, "submit", ret),
            "can_approve": can_approve,
            # A reviewer who may return it but not approve it is told why (four-eyes).
            "approve_refusal": (
                workflow.refusal_reason(user, "approve", ret)
                if can_send_back and not can_approve
                else ""
            ),
            "can_send_back": can_send_back,
            "can_reopen": workflow.can(user, "reopen", ret),
            "send_back_form": send_back_form,
            "reopen_form": reopen_form,
        },
        status=status,
    )


@returns_page
@require_http_methods(["GET", "POST"])
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a return; its lead saves figures (and may submit) by posting the form here."""
    if request.method == "POST":
        return _return_save(request, pk)
    return _render_return(request, workflow.return_for(request.user, pk, action="view"))


def _return_save(request: HttpRequest, pk: int) -> HttpResponse:
    ret = workflow.return_for(request.user, pk, action="edit")
    rows = return_rows(ret)
    form = _return_form(ret, rows, data=request.POST)
    if not form.is_valid():
        return _render_return(request, ret, rows=rows, form=form)
    submitting = request.POST.get("action") == "submit"
    version = form.cleaned_data["version"]
    saved = False
    try:
        if form.changed_figures:
            version = services.return_save(
                return_id=ret.pk,
                version=version,
                entries=form.entries(),
                headlines=form.headline_texts(),
                actor=request.user,
            ).version
            saved = True
        if submitting:
            services.return_submit(return_id=ret.pk, actor=request.user, version=version)
    except services.ReturnConflict as exc:
        # Show what is stored now, so the lead sees the other person's figures first.
        ret = workflow.return_for(request.user, pk, action="view")
        return _render_return(request, ret, conflict=exc.changes, status=409)
    except services.ReturnInvalid as exc:
        intro = "Nothing was saved. Correct the figures below and try again."
        if submitting and not form.changed_figures:
            intro = NOT_SUBMITTED
        if saved:
            # The draft was saved; only the submission was refused. Keep what was typed,
            # at the new version, and show the problems beside the figures.
            intro = "Your changes were saved as a draft, but the return was not submitted."
            ret = workflow.return_for(request.user, pk, action="view")
            rows = return_rows(ret)
            data = request.POST.copy()
            data["version"] = str(ret.version)
            form = _return_form(ret, rows, data=data)
            form.is_valid()
        form.add_problems(exc.errors)
        return _render_return(request, ret, rows=rows, form=form, summary_intro=intro)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect(ret)
    if submitting:
        messages.success(request, "Submitted for review.")
    elif saved:
        messages.success(request, "Your draft is saved.")
    else:
        messages.info(request, "Nothing had changed, so nothing was saved.")
    return redirect(ret)


# --- transitions ------------------------------------------------------------------------------
#
# Each fetches the return for its action before looking at the method, so a lead of another
# department gets 404 for GET and POST alike and learns nothing from a 405.


@returns_page
def return_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit the return as stored (the form's "Save and submit" also saves first)."""
    ret = workflow.return_for(request.user, pk, action="submit")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = request.POST.get("version", "")
    try:
        services.return_submit(
            return_id=ret.pk,
            actor=request.user,
            version=int(version) if version.isdigit() else None,
        )
    except services.ReturnInvalid as exc:
        rows = return_rows(ret)
        form = _return_form(ret, rows, data=_stored_as_data(_return_form(ret, rows)))
        form.is_valid()
        form.add_problems(exc.errors)
        return _render_return(
            request,
            ret,
            rows=rows,
            form=form,
            summary_intro=NOT_SUBMITTED,
        )
    except services.ReturnConflict as exc:
        messages.error(request, " ".join([str(exc), *exc.changes]))
        return redirect(ret)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect(ret)
    messages.success(request, "Submitted for review.")
    return redirect(ret)


def _stored_as_data(form: ReturnForm) -> dict[str, str]:
    """Return an unbound form's stored figures as posted text, to show problems beside them."""
    data = {}
    for name in form.fields:
        initial = form[name].initial
        data[name] = "" if initial is None else str(form.fields[name].prepare_value(initial))
    return data


@returns_page
def return_approve(request: HttpRequest, pk: int) -> HttpResponse:
    ret = workflow.return_for(request.user, pk, action="approve")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.return_approve(return_id=ret.pk, actor=request.user)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect(ret)
    messages.success(request, "Approved. Its figures are now locked and shown as approved.")
    return redirect(ret)


def _decide_with_reason(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    ret = workflow.return_for(request.user, pk, action=action)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReasonForm(request.POST, action=action)
    if not form.is_valid():
        if action == "send_back":
            return _render_return(request, ret, send_back_form=form)
        return _render_return(request, ret, reopen_form=form)
    service = services.return_send_back if action == "send_back" else services.return_reopen
    try:
        service(return_id=ret.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect(ret)
    done = "Returned to the lead for changes." if action == "send_back" else "Reopened."
    messages.success(request, done)
    return redirect(ret)


@returns_page
def return_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_with_reason(request, pk, "send_back")


@returns_page
def return_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_with_reason(request, pk, "reopen")


# --- reporting periods ------------------------------------------------------------------------


@returns_page
@require_http_methods(["GET", "POST"])
def reporting_periods(request: HttpRequest) -> HttpResponse:
    """List reporting periods and their returns' states; open a new period (admins only)."""
    access.require_admin(request.user)
    form = ReportingPeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            reporting = services.reporting_period_open(
                plan=cleaned["plan"],
                period=cleaned["period"],
                deadline=cleaned["deadline"],
                area=cleaned["area"],
                actor=request.user,
            )
        except services.WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Opened {reporting.period.label} for {reporting.plan.name}: "
                f"{reporting.returns.count()} returns, due {reporting.deadline:%d %b %Y}.",
            )
            return redirect("returns:periods")
    periods = ReportingPeriod.objects.select_related("plan", "area").prefetch_related(
        Prefetch(
            "returns",
            queryset=Return.objects.select_related("department").order_by("department__name"),
        )
    )
    return render(
        request,
        "returns/periods.html",
        {"page_title": "Reporting periods", "form": form, "periods": periods},
    )
