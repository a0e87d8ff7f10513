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
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin, SingleTableView

from measures import access
from measures.arithmetic.formatting import MISSING, format_value
from measures.arithmetic.periods import parse_period
from measures.models import Measure, ReportingPeriod, Return, ReturnEvent
from measures.returns import services, workflow
from measures.returns.filters import ReturnFilter
from measures.returns.forms import (
    ReasonForm,
    ReportingPeriodForm,
    ReturnForm,
    RowFields,
    field_name,
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
    row_key,
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
    unsaved: list[tuple[str, str]] | None = None,
    summary_intro: str = "Nothing was saved. Correct the figures below and try again.",
    status: int = 200,
) -> HttpResponse:
    """Render the return: its form when the person may edit it, else a read-only page."""
    user = request.user
    rows = rows if rows is not None else return_rows(ret)
    if ret.status == Return.Status.APPROVED:
        # Its warnings were explained before it was submitted and it has been approved
        # since: shown again, they would read as still waiting for a note.
        for row in rows:
            row.warnings = []
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
            "unsaved": unsaved or [],
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
    try:
        ret = workflow.return_for(request.user, pk, action="edit")
    except workflow.WrongState:
        # Submitted or approved since their page was loaded: they see what happened and
        # what they typed, rather than a refusal that throws it away.
        ret = workflow.return_for(request.user, pk, action="view")
        version = _version(request)
        conflict = (
            services.return_conflict(ret=ret, version=version)
            if version is not None and version < ret.version
            else None
        )
        if conflict is None:
            raise
        typed = _return_form(ret, return_rows(ret, with_context=False), data=request.POST)
        return _render_conflict(request, pk, typed=typed, conflict=conflict)
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
        return _render_conflict(request, pk, typed=form, conflict=exc)
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


def _render_conflict(
    request: HttpRequest, pk: int, *, typed: ReturnForm, conflict: services.ReturnConflict
) -> HttpResponse:
    """Show a save refused as stale with everything the person typed, and what changed since.

    A figure they changed keeps their text, with the other person's change marked beside it;
    a figure they left alone shows the other person's, so that saving again undoes nobody's
    change by accident. The form carries the new version: a save made after looking goes
    through. If the return can no longer be edited, what they typed is listed instead.
    """
    ret = workflow.return_for(request.user, pk, action="view")
    rows = return_rows(ret)
    latest = _return_form(ret, rows)
    edits = {
        name: made
        for name, made in _edits_by_field(conflict.edits).items()
        if name in latest.fields  # a row the return no longer asks for has no box
    }
    yours = _typed_changes(typed, latest, edits)
    if not workflow.can(request.user, "edit", ret):
        unsaved = [(str(latest.fields[name].label), typed.data[name]) for name in yours]
        return _render_return(
            request, ret, rows=rows, conflict=conflict.changes, unsaved=unsaved, status=409
        )
    data = request.POST.copy()
    data["version"] = str(ret.version)
    stored = _stored_as_data(latest)
    for name in edits:
        if name not in yours:
            data[name] = stored[name]
    form = _return_form(ret, rows, data=data)
    for name, made in edits.items():
        box = form.fields[name]
        # Kept, and different from theirs: saving again replaces their figure.
        kept = name in yours and box.has_changed(box.to_python(stored[name]), data[name])
        # As help text, Django ties the mark to its input (aria-describedby) for screen
        # readers. Set before the form is validated: its bound fields copy the help text.
        box.help_text = f"{_changed_by(made, kept=kept)} {box.help_text}".strip()
    form.is_valid()
    return _render_return(
        request, ret, rows=rows, form=form, conflict=conflict.changes, status=409
    )


# The fields of a recorded change of a figure, and the part of the return form that holds
# them. Each one's recorded text reads back through its form field (the release month's,
# "February 2023", would not: it is listed with the changes but not marked on its box).
FORM_PARTS = {
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "note": "note",
    "not available": "unavailable",
}


def _edits_by_field(edits: list[services.OtherEdit]) -> dict[str, list[services.OtherEdit]]:
    """Return the other people's edits by the name of the form field they changed."""
    found: dict[str, list[services.OtherEdit]] = {}
    for edit in edits:
        change = edit.change
        if change.get("kind") == "headline":
            name = field_name("headline", change["priority"])
        elif change.get("field") in FORM_PARTS:
            key = row_key(change["measure"], parse_period(change["period"]))
            name = field_name(FORM_PARTS[change["field"]], key)
        else:
            continue
        found.setdefault(name, []).append(edit)
    return found


def _typed_changes(
    typed: ReturnForm, latest: ReturnForm, edits: dict[str, list[services.OtherEdit]]
) -> list[str]:
    """Return the fields the person changed from what their page showed when they loaded it.

    Their page showed what the first of the other edits found (its "old"), or, where nobody
    else changed the field, what is stored now.
    """
    changed = []
    for name, box in latest.fields.items():
        if name == "version" or name not in typed.data:
            continue
        if name in edits:
            loaded = box.to_python(edits[name][0].change.get("old") or "")
        else:
            loaded = latest[name].initial
        if box.has_changed(loaded, typed.data[name]):
            changed.append(name)
    return changed


def _changed_by(edits: list[services.OtherEdit], *, kept: bool) -> str:
    """Return the mark beside a field someone else changed: who, and to what."""
    who = " and ".join(dict.fromkeys(edit.who for edit in edits))
    new = edits[-1].change.get("new")
    if new is None:
        text = f"Cleared by {who} while you were editing."
    else:
        if edits[-1].change.get("field") in ("note", "text", "not available"):
            new = f"“{Truncator(new).chars(80)}”"
        text = f"Changed by {who} to {new} while you were editing."
    return f"{text} Yours is kept: saving replaces theirs." if kept else text


# --- transitions ------------------------------------------------------------------------------
#
# Each fetches the return for its action before looking at the method, so a lead of another
# department gets 404 for GET and POST alike and learns nothing from a 405.


@returns_page
def return_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit the return as stored (the form's "Save and submit" also saves first)."""
    ret = _return_for_action(request, pk, "submit")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.return_submit(return_id=ret.pk, actor=request.user, version=_version(request))
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
    except (services.WorkflowError, workflow.WrongState) as exc:
        return _refused(request, ret, exc)
    messages.success(request, "Submitted for review.")
    return redirect(ret)


def _return_for_action(request: HttpRequest, pk: int, action: str) -> Return:
    """Fetch the return for an action, refusing (403) anyone who may not take it now.

    Someone refused only for the return's state, whose page showed an older version, goes
    on to the service instead: someone else acted first, and the service says who and what
    (a conflict), where a refusal would only say that the state is now wrong.
    """
    try:
        return workflow.return_for(request.user, pk, action=action)
    except workflow.WrongState:
        ret = workflow.return_for(request.user, pk)
        version = _version(request)
        if request.method == "POST" and version is not None and version < ret.version:
            return ret
        raise


def _version(request: HttpRequest) -> int | None:
    """Return the version of the return the person's page showed, if it was posted."""
    version = request.POST.get("version", "")
    return int(version) if version.isdigit() else None


def _refused(request: HttpRequest, ret: Return, exc: Exception) -> HttpResponse:
    """Say on the return's page why an action was refused.

    The service refuses for the return's state (WrongState) only when the state changed
    after this view checked it: someone else acted at the same moment, which is a conflict
    to explain, not a permission to deny.
    """
    changes = exc.changes if isinstance(exc, services.ReturnConflict) else []
    messages.error(request, " ".join([str(exc), *changes]))
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
    ret = _return_for_action(request, pk, "approve")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.return_approve(return_id=ret.pk, actor=request.user, version=_version(request))
    except (services.WorkflowError, workflow.WrongState) as exc:
        return _refused(request, ret, exc)
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
    except (services.WorkflowError, workflow.WrongState) as exc:
        return _refused(request, ret, exc)
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
