"""The returns workflow for source systems (SPEC §5): list, read, write draft figures, decide.

Each view fetches the return through `access` (404 when the caller may not see it, before
the body is even read), validates the body with a serializer, calls one workflow service and
answers with the return as it now stands. Permissions, validation, locking and the audit
trail all live in the services, so the API cannot drift from the UI.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from measures.arithmetic.periods import Period, PeriodError, parse_month, parse_period
from measures.models import ApprovedLocked, Return, ReturnEvent
from measures.returns import services, workflow
from measures.returns.rows import (
    ReturnRow,
    progress,
    return_headline_map,
    return_priorities,
    row_key,
)
from measures.returns.rows import return_rows as rows_of

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY

# The actions a caller may be offered on a return, in the order of the workflow.
ACTIONS = ("edit", "submit", "approve", "send_back", "reopen")


def _figure(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=18, decimal_places=4, coerce_to_string=False, allow_null=True, **kwargs
    )


# --- what the API answers -------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    filled = serializers.IntegerField(help_text="Required rows that have a figure.")
    required = serializers.IntegerField(help_text="Rows needed before the return is submitted.")


class ReturnRowSerializer(serializers.Serializer):
    """One figure the return asks for, with what is stored for it and its context."""

    key = serializers.CharField(help_text="Stable row key; validation errors are keyed by it.")
    measure = serializers.CharField(source="measure.code")
    period = serializers.CharField(source="period.notation", help_text="e.g. 2022-10.")
    period_label = serializers.CharField(source="period.label")
    value = _figure(source="value.value")
    numerator = _figure(source="value.numerator")
    denominator = _figure(source="value.denominator")
    note = serializers.CharField(source="value.note", allow_null=True)
    status = serializers.CharField(
        source="value.status",
        allow_null=True,
        help_text="draft, submitted or approved; null=blank",
    )
    required = serializers.BooleanField(
        help_text="False for a figure carried over from the last return, where it was not "
        "available: it may be left blank again."
    )
    group = serializers.CharField(
        help_text="quarter: the quarter's own figures; late: figures for earlier periods that "
        "fell due since the last return (data lag) or were not available then; release: a "
        "periodic release's 12 months."
    )
    not_available = serializers.CharField(
        source="unavailable.reason",
        allow_null=True,
        help_text="Why the figure is not available, when the lead said so; null otherwise.",
    )
    released = serializers.DateField(
        source="value.released_on",
        allow_null=True,
        help_text="For a periodic release: the first day of the month it was published.",
    )
    previous = serializers.FloatField(allow_null=True, help_text="The period before.")
    same_period_last_year = serializers.FloatField(allow_null=True)
    rolling_twelve = serializers.FloatField(
        allow_null=True, help_text="The 12 months to this month that this figure implies."
    )
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the figure looks unusual; each needs a note before submission.",
    )


class ReturnEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who acted (username); null for the system.",
    )
    changes = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each value or headline changed: label, field, old, new.",
    )

    class Meta:
        model = ReturnEvent
        fields = [
            "kind",
            "from_status",
            "to_status",
            "version",
            "actor",
            "reason",
            "changes",
            "at",
        ]


class ReturnSummarySerializer(serializers.Serializer):
    """A return as the list shows it: where it stands, not its figures."""

    id = serializers.IntegerField()
    department = serializers.CharField(source="department.code")
    period = serializers.CharField(
        source="reporting_period.period.notation", help_text="e.g. 2022/23-Q3."
    )
    period_label = serializers.CharField(source="reporting_period.period.label")
    deadline = serializers.DateField(source="reporting_period.deadline")
    overdue = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Return.Status.choices)
    version = serializers.IntegerField(
        help_text="Send it with the next write; a write from an older version is refused (409)."
    )
    progress = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def rows_for(self, ret: Return) -> list[ReturnRow]:
        return rows_of(ret, with_context=False)

    def get_overdue(self, ret: Return) -> bool:
        return ret.is_editable and ret.reporting_period.deadline < timezone.localdate()

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, ret: Return) -> dict[str, int]:
        filled, required = progress(self.rows_for(ret))
        return {"filled": filled, "required": required}

    def get_url(self, ret: Return) -> str:
        url = reverse("api:return-detail", args=[ret.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ReturnDetailSerializer(ReturnSummarySerializer):
    """A return with its rows, Key Headlines, audit trail and what the caller may do next."""

    rows = serializers.SerializerMethodField()
    headlines = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    def rows_for(self, ret: Return) -> list[ReturnRow]:
        # Rows with their history cost a few queries: compute them once per response.
        cache = self.context.setdefault("rows", {})
        if ret.pk not in cache:
            cache[ret.pk] = rows_of(ret)
        return cache[ret.pk]

    @extend_schema_field(ReturnRowSerializer(many=True))
    def get_rows(self, ret: Return) -> list:
        return ReturnRowSerializer(self.rows_for(ret), many=True).data

    @extend_schema_field(
        serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            help_text="Key Headlines text by priority code ('' when not written).",
        )
    )
    def get_headlines(self, ret: Return) -> dict[str, str]:
        stored = return_headline_map(ret)
        return {
            p.code: stored[p.pk].text if p.pk in stored else "" for p in return_priorities(ret)
        }

    @extend_schema_field(ReturnEventSerializer(many=True))
    def get_events(self, ret: Return) -> list:
        events = ret.events.select_related("actor").order_by("at", "pk")
        return ReturnEventSerializer(events, many=True).data

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=ACTIONS),
            help_text="What the caller may do to the return now.",
        )
    )
    def get_actions(self, ret: Return) -> list[str]:
        user = self.context["request"].user
        return [action for action in ACTIONS if workflow.can(user, action, ret)]


ERRORS = inline_serializer(
    "ReturnErrors",
    {
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages by row key (measure--start--end), request field or values[i].",
        ),
    },
)
REFUSED = inline_serializer("Refusal", {"detail": serializers.CharField()})
CONFLICT = inline_serializer(
    "ReturnConflict",
    {
        "detail": serializers.CharField(),
        "code": serializers.ChoiceField(choices=["conflict", "locked", "refused"]),
        "changes": serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="What others changed since your version (code 'conflict' only).",
        ),
    },
)


STATE_CONFLICT = "The return is not in a state that allows this (code 'state')."


def _responses(*, invalid: bool = True, conflict: str | None = STATE_CONFLICT) -> dict:
    """Return the documented answers of a returns endpoint: the return, or why not."""
    responses: dict[int, Any] = {
        200: ReturnDetailSerializer,
        403: OpenApiResponse(REFUSED, description="You may see the return but not do this."),
        404: OpenApiResponse(REFUSED, description="No such return, or not yours to see."),
    }
    if invalid:
        responses[400] = OpenApiResponse(ERRORS, description="The request is invalid.")
    if conflict:
        responses[409] = OpenApiResponse(CONFLICT, description=conflict)
    return responses


# --- what the API accepts -------------------------------------------------------------------


class TypedFigureField(serializers.DecimalField):
    """A figure kept as typed (12, not 12.0000), so messages quote the caller's own number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(max_digits=18, decimal_places=4, **kwargs)

    def quantize(self, value: Decimal) -> Decimal:
        # The digits were checked against the column's 18.4 already; storage pads them.
        return value


class PeriodField(serializers.CharField):
    """A period in SPEC §3 notation, e.g. 2022-10 or 2022/23-Q3."""

    def to_internal_value(self, data: Any) -> Period:  # type: ignore[override]
        try:
            return parse_period(super().to_internal_value(data))
        except PeriodError as exc:
            raise ValidationError(str(exc)) from exc


class ValueEntrySerializer(serializers.Serializer):
    measure = serializers.CharField(max_length=80, help_text="Measure code.")
    period = PeriodField(help_text="The row's period, e.g. 2022-10.")
    value = TypedFigureField(help_text="The figure; null or '' clears the row.")
    numerator = TypedFigureField(required=False, default=None)
    denominator = TypedFigureField(required=False, default=None)
    note = serializers.CharField(
        required=False, default="", allow_blank=True, allow_null=True, max_length=5000
    )
    not_available = serializers.CharField(
        required=False,
        default=None,
        allow_blank=True,
        allow_null=True,
        max_length=2000,
        help_text="Why the figure is not available (leave value null); '' clears it; "
        "absent leaves it as it is.",
    )
    released = serializers.CharField(
        required=False,
        default=None,
        allow_null=True,
        help_text="For a periodic release: the month it was published, e.g. 2023-02.",
    )

    def validate_released(self, text):
        if text in (None, ""):
            return None
        try:
            return parse_month(text)
        except PeriodError as exc:
            raise ValidationError(str(exc)) from exc


def _entry(data: dict) -> services.ValueEntry:
    return services.ValueEntry(
        measure_code=data["measure"],
        period=data["period"],
        value=data["value"],
        numerator=data["numerator"],
        denominator=data["denominator"],
        note=data["note"] or "",
        unavailable=data.get("not_available"),
        released=data.get("released"),
    )


class ReturnValuesSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; a stale one is refused (409)."
    )
    values = ValueEntrySerializer(many=True, required=False)
    headlines = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True),
        required=False,
        help_text="Key Headlines text by priority code; '' or null clears one.",
    )


class ReturnSubmitSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="If given, refuse (409) when the return moved on."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, max_length=5000, help_text="Required: the lead sees it."
    )


def _messages(problems: Any, prefix: str = "") -> list[str]:
    """Flatten DRF's nested error structure into readable messages."""
    if isinstance(problems, dict):
        return [
            message
            for name, inner in problems.items()
            for message in _messages(inner, "" if name == NON_FIELD_ERRORS else f"{name}: ")
        ]
    if isinstance(problems, list):
        return [m for inner in problems for m in _messages(inner, prefix)]
    return [f"{prefix}{problems}"]


def _entry_key(item: Any, index: int) -> str:
    """Key a bad entry by its row key when it names a row, else by its place in the list."""
    if isinstance(item, dict) and isinstance(item.get("measure"), str):
        try:
            return row_key(item["measure"], parse_period(str(item.get("period", ""))))
        except PeriodError:
            pass
    return f"values[{index}]"


def _per_entry(problems: Any) -> list[tuple[int, Any]] | None:
    """Return (index, problems) for each bad entry, or None when the list as a whole is bad.

    DRF reports a list's entries as a dict by index (3.16+) or a list with gaps (before).
    """
    if isinstance(problems, dict) and problems and all(isinstance(k, int) for k in problems):
        return sorted(problems.items())
    if isinstance(problems, list) and problems and all(isinstance(p, dict) for p in problems):
        return [(index, p) for index, p in enumerate(problems) if p]
    return None


def request_errors(errors: dict, data: Any) -> dict[str, list[str]]:
    """Return a serializer's errors keyed like the services' errors: by row key or field."""
    keyed: dict[str, list[str]] = {}
    entries = data.get("values") if isinstance(data, dict) else None
    for name, problems in errors.items():
        per_entry = _per_entry(problems) if name == "values" else None
        if per_entry is None or not isinstance(entries, list):
            keyed.setdefault(name, []).extend(_messages(problems))
            continue
        for index, entry_problems in per_entry:
            key = _entry_key(entries[index], index)
            keyed.setdefault(key, []).extend(_messages(entry_problems))
    return keyed


def _invalid(errors: dict[str, list[str]], detail: str | None = None) -> Response:
    count = sum(len(messages) for messages in errors.values())
    body = {"detail": detail or f"{count} problem(s) to fix", "errors": errors}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _conflict(detail: str, code: str, **extra: Any) -> Response:
    return Response({"detail": detail, "code": code, **extra}, status=status.HTTP_409_CONFLICT)


# --- views ------------------------------------------------------------------------------------


@extend_schema(
    summary="List the returns you may see",
    parameters=[
        OpenApiParameter("department", str, description="department code"),
        OpenApiParameter(
            "period", str, description="reporting period equal to this, e.g. 2022/23-Q3"
        ),
        OpenApiParameter("status", str, enum=Return.Status.values),
    ],
    responses={
        200: ReturnSummarySerializer(many=True),
        400: OpenApiResponse(
            inline_serializer(
                "FilterErrors",
                {
                    "period": serializers.ListField(child=serializers.CharField(), required=False),
                    "status": serializers.ListField(child=serializers.CharField(), required=False),
                },
            ),
            description="A filter is invalid; the message names what is accepted.",
        ),
    },
)
class ReturnList(generics.ListAPIView):
    serializer_class = ReturnSummarySerializer

    def get_queryset(self) -> QuerySet[Return]:
        qs = workflow.returns_visible_to(self.request.user).order_by(
            "-reporting_period__end", "reporting_period__plan__code", "department__code", "pk"
        )
        params = self.request.query_params
        if params.get("department"):
            qs = qs.filter(department__code=params["department"])
        if params.get("status"):
            if params["status"] not in Return.Status.values:
                raise ValidationError({"status": f"use one of {', '.join(Return.Status.values)}"})
            qs = qs.filter(status=params["status"])
        if params.get("period"):
            try:
                period = parse_period(params["period"])
            except PeriodError as exc:
                raise ValidationError({"period": str(exc)}) from exc
            qs = qs.filter(
                reporting_period__start=period.start.first_day,
                reporting_period__end=period.end.first_day,
            )
        return qs


def _detail(request: Request, return_id: int) -> Response:
    ret = workflow.return_for(request.user, return_id)
    return Response(ReturnDetailSerializer(ret, context={"request": request}).data)


class ReturnDetail(APIView):
    """Read one return."""

    @extend_schema(
        summary="Read a return: rows, headlines and audit trail",
        responses={
            200: ReturnDetailSerializer,
            404: OpenApiResponse(REFUSED, description="No such return, or not yours to see."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class ReturnAction(APIView):
    """Check the caller may see the return, validate the body, run one service, answer."""

    # Programs send JSON; a form encoding cannot carry the nested list of values.
    parser_classes = [JSONParser]
    request_serializer: type[serializers.Serializer] | None = None

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        ret = workflow.return_for(request.user, pk)
        data: dict = {}
        if self.request_serializer is not None:
            serializer = self.request_serializer(data=request.data)
            if not serializer.is_valid():
                return _invalid(request_errors(serializer.errors, request.data))
            data = dict(serializer.validated_data)
        try:
            ret = self.perform(ret, data, request.user)
        except services.ReturnInvalid as exc:
            return _invalid(exc.errors, str(exc))
        except services.ReturnConflict as exc:
            return _conflict(str(exc), "conflict", changes=exc.changes)
        except (services.ReturnLocked, ApprovedLocked) as exc:
            return _conflict(str(exc), "locked")
        except workflow.WrongState as exc:
            # Allowed for this person, but not in the return's current state: a conflict
            # with the resource's state, like a locked return, not a missing permission.
            return _conflict(str(exc), "state")
        except services.WorkflowError as exc:
            return _conflict(str(exc), "refused")
        return _detail(request, ret.pk)


VALUES_EXAMPLE = OpenApiExample(
    "Monthly figures and a headline",
    request_only=True,
    value={
        "version": 3,
        "values": [
            {"measure": "violent-crime", "period": "2022-10", "value": 1204, "note": ""},
            {
                "measure": "victim-satisfaction",
                "period": "2022-10",
                "value": 70.2,
                "numerator": 702,
                "denominator": 1000,
            },
            {"measure": "violent-crime", "period": "2022-11", "value": None},
        ],
        "headlines": {"serious-violence": "Violence with injury is down 4% on last year."},
    },
)


class ReturnValues(ReturnAction):
    """Write draft figures and headlines (PUT or POST: both replace only the rows sent)."""

    request_serializer = ReturnValuesSerializer

    @extend_schema(
        summary="Write draft figures and Key Headlines",
        description=(
            "Only the rows listed change; a null or '' value clears its row. Hard errors "
            "(not a number, negative count, percent over 100, numerator over denominator, a "
            "row that is not part of the return) refuse the whole write. Send the version you "
            "read: if someone else saved since, nothing is written and the answer (409, code "
            "'conflict') lists what they changed. A submitted or approved return is locked "
            "(409, code 'locked')."
        ),
        request=ReturnValuesSerializer,
        examples=[VALUES_EXAMPLE],
        responses=_responses(
            conflict="Stale version (conflict), locked return (locked) or wrong state (state)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    put = post

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        return services.return_save(
            return_id=ret.pk,
            version=data["version"],
            entries=[_entry(entry) for entry in data.get("values", [])],
            headlines={code: text or "" for code, text in data.get("headlines", {}).items()},
            actor=user,
        )


class ReturnSubmit(ReturnAction):
    """Submit the return for review."""

    request_serializer = ReturnSubmitSerializer

    @extend_schema(
        summary="Submit a return for review",
        description=(
            "Refused (400) while a required figure is missing or a warning has no note; the "
            "errors are keyed by row."
        ),
        request=ReturnSubmitSerializer,
        responses=_responses(
            conflict="The return moved on since the version given (conflict), or is not in a "
            "state that can be submitted (state)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        return services.return_submit(return_id=ret.pk, actor=user, version=data.get("version"))


class ReturnApprove(ReturnAction):
    """Approve a submitted return, locking its figures."""

    @extend_schema(
        summary="Approve a submitted return",
        description=(
            "Reviewers only, and never one who entered or submitted the return's figures "
            "(403). Approval locks the figures until the return is reopened."
        ),
        request=None,
        responses=_responses(invalid=False),
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        return services.return_approve(return_id=ret.pk, actor=user)


class ReturnSendBack(ReturnAction):
    """Return a submitted return to its lead for changes."""

    request_serializer = ReasonSerializer

    @extend_schema(
        summary="Return a submitted return to its lead, with a reason",
        description="Reviewers only. The figures go back to draft; the lead sees the reason.",
        request=ReasonSerializer,
        responses=_responses(),
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        return services.return_send_back(return_id=ret.pk, actor=user, reason=data["reason"])


class ReturnReopen(ReturnAction):
    """Reopen an approved return so its figures can be revised."""

    request_serializer = ReasonSerializer

    @extend_schema(
        summary="Reopen an approved return, with a reason",
        description=(
            "Reviewers only. The figures go back to draft and can be revised; approved "
            "figures stay read-only everywhere until then."
        ),
        request=ReasonSerializer,
        responses=_responses(),
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, ret: Return, data: dict, user: Any) -> Return:
        return services.return_reopen(return_id=ret.pk, actor=user, reason=data["reason"])


__all__ = [
    "ReturnApprove",
    "ReturnDetail",
    "ReturnList",
    "ReturnReopen",
    "ReturnSendBack",
    "ReturnSubmit",
    "ReturnValues",
]
