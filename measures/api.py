"""The programs' interface (SPEC §8): measures, areas, values and computed comparisons."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from measures.access import Reader
from measures.arithmetic.periods import PeriodError, parse_period
from measures.models import Area, Measure, Plan, Source, Value
from measures.selectors import (
    SeriesBook,
    comparison_significance,
    reporting_state,
    values_list_for,
)


class MeasureSerializer(serializers.ModelSerializer):
    priority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Measure
        fields = [
            "code",
            "name",
            "definition",
            "priority",
            "unit",
            "rate_per",
            "aggregation",
            "polarity",
            "frequency",
            "data_lag_months",
            "decimals",
            "owner",
            "source",
            "source_detail",
        ]

    source_detail = serializers.SerializerMethodField()

    @extend_schema_field(
        inline_serializer(
            "SourceDetail",
            {
                "name": serializers.CharField(),
                "full_name": serializers.CharField(help_text="as the report prints it"),
                "url": serializers.CharField(allow_blank=True, help_text="its link, if public"),
            },
            allow_null=True,
        )
    )
    def get_source_detail(self, measure: Measure) -> dict | None:
        """The measure's source system in full, as the report prints it; null if unnamed."""
        if not measure.source:
            return None
        found = self.context.get("sources", {}).get(measure.source)
        return {
            "name": measure.source,
            "full_name": found.label if found else measure.source,
            "url": found.url if found else "",
        }


class _WithSources:
    """Give the serializer every source system, read once (there are a handful)."""

    def get_serializer_context(self):
        context = super().get_serializer_context()  # type: ignore[misc]
        context["sources"] = {source.name: source for source in Source.objects.all()}
        return context


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Area
        fields = ["code", "name", "kind", "parent"]


class ValueSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = serializers.SerializerMethodField()
    value = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=False)
    numerator = serializers.DecimalField(
        max_digits=18, decimal_places=4, coerce_to_string=False, allow_null=True
    )
    denominator = serializers.DecimalField(
        max_digits=18, decimal_places=4, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = Value
        fields = [
            "measure",
            "area",
            "period",
            "value",
            "numerator",
            "denominator",
            "note",
            "source",
            "status",
            "updated_at",
        ]

    def get_period(self, obj: Value) -> str:
        return obj.period.notation


class MeasureList(_WithSources, generics.ListAPIView):
    serializer_class = MeasureSerializer
    queryset = Measure.objects.select_related("priority", "owner").order_by(
        "priority__position", "position"
    )


class MeasureDetail(_WithSources, generics.RetrieveAPIView):
    serializer_class = MeasureSerializer
    queryset = Measure.objects.select_related("priority", "owner")
    lookup_field = "code"


class AreaList(generics.ListAPIView):
    serializer_class = AreaSerializer
    queryset = Area.objects.select_related("parent").order_by("code")


def _period_param(request: Request, name: str, *, required: bool):
    text = request.query_params.get(name, "").strip()
    if not text:
        if required:
            raise ValidationError({name: "This parameter is required (a period, e.g. 2022-12)."})
        return None
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise ValidationError({name: str(exc)}) from exc


@extend_schema(
    parameters=[
        OpenApiParameter("measure", str, description="measure code"),
        OpenApiParameter("area", str, description="area code"),
        OpenApiParameter(
            "period",
            str,
            description="values lying within this period, e.g. 2022-12 or 2022/23-Q3",
        ),
        OpenApiParameter("status", str, enum=Value.Status.values),
    ]
)
class ValueList(generics.ListAPIView):
    """List the values the caller may see: approved ones, and the unapproved ones they own."""

    serializer_class = ValueSerializer

    def get_queryset(self):
        qs = values_list_for(Reader.of(self.request.user))
        params = self.request.query_params
        if params.get("measure"):
            qs = qs.filter(measure__code=params["measure"])
        if params.get("area"):
            qs = qs.filter(area__code=params["area"])
        if params.get("status"):
            if params["status"] not in Value.Status.values:
                raise ValidationError({"status": f"use one of {', '.join(Value.Status.values)}"})
            qs = qs.filter(status=params["status"])
        period = _period_param(self.request, "period", required=False)
        if period is not None:
            qs = qs.filter(start__gte=period.start.first_day, end__lte=period.end.first_day)
        return qs


def _number(value):
    return None if value is None else float(value)


def _rounded(value):
    return None if value is None else round(float(value), 1)


FIGURE = inline_serializer(
    "Figure",
    {
        "period": serializers.CharField(),
        "label": serializers.CharField(),
        "value": serializers.FloatField(allow_null=True),
        "months_present": serializers.IntegerField(),
        "months_required": serializers.IntegerField(),
        "numerator": serializers.FloatField(allow_null=True),
        "denominator": serializers.FloatField(allow_null=True),
    },
)


def _figure(figure) -> dict:
    return {
        "period": figure.period.notation,
        "label": figure.period.label,
        "value": _number(figure.value),
        "months_present": figure.months_present,
        "months_required": figure.months_required,
        "numerator": _number(figure.numerator),
        "denominator": _number(figure.denominator),
    }


class MeasureCompare(APIView):
    """Compare a measure's figure for two periods in one area: values, change, direction."""

    @extend_schema(
        parameters=[
            OpenApiParameter("area", str, required=True, description="area code"),
            OpenApiParameter(
                "base", str, required=True, description="base period, e.g. 2021/22-Q3"
            ),
            OpenApiParameter(
                "current", str, required=True, description="current period, e.g. 2022/23-Q3"
            ),
            OpenApiParameter(
                "approved_only",
                OpenApiTypes.BOOL,
                description=(
                    "use approved values only (always the case when some of the series' "
                    "values are not the caller's to see)"
                ),
            ),
        ],
        responses=inline_serializer(
            "Comparison",
            {
                "measure": serializers.CharField(),
                "area": serializers.CharField(),
                "unit": serializers.CharField(),
                "base": FIGURE,
                "current": FIGURE,
                "requested_base": serializers.CharField(),
                "requested_current": serializers.CharField(),
                "change": serializers.FloatField(allow_null=True),
                "change_pct": serializers.FloatField(
                    allow_null=True, help_text="1 decimal place; null when the base is 0"
                ),
                "change_pp": serializers.FloatField(
                    allow_null=True, help_text="percentage points, percent measures only"
                ),
                "direction": serializers.CharField(allow_null=True),
                "partial": serializers.BooleanField(),
                "footnotes": serializers.ListField(child=serializers.CharField()),
                "status": serializers.CharField(),
                "significance": inline_serializer(
                    "Significance",
                    {
                        "p_value": serializers.FloatField(),
                        "significant": serializers.BooleanField(),
                        "small_numbers": serializers.BooleanField(),
                        "caution": serializers.CharField(),
                    },
                    allow_null=True,
                    help_text="Poisson test of the two totals; counts only, else null",
                ),
            },
        ),
    )
    def get(self, request: Request, code: str) -> Response:
        measure = get_object_or_404(Measure, code=code)
        area_code = request.query_params.get("area", "").strip()
        if not area_code:
            raise ValidationError({"area": "This parameter is required (an area code)."})
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            raise ValidationError({"area": f"unknown area {area_code!r}"})
        base = _period_param(request, "base", required=True)
        current = _period_param(request, "current", required=True)
        approved_only = request.query_params.get("approved_only", "").lower() in {"1", "true"}
        # Read from the materialised figures, in the scope the caller may see: another
        # department's drafts never reach a lead, even summed into a figure.
        book = SeriesBook(Reader.of(request.user, approved_only=approved_only))
        series = book.fetch([measure], [area])[(measure.pk, area.pk)]
        comparison = series.compare(base, current)
        provisional = series.is_provisional(comparison.base.period, comparison.current.period)
        significance = comparison_significance(measure, comparison)
        return Response(
            {
                "measure": measure.code,
                "area": area.code,
                "unit": measure.unit,
                "base": _figure(comparison.base),
                "current": _figure(comparison.current),
                "requested_base": base.notation,
                "requested_current": current.notation,
                "change": _number(comparison.change),
                "change_pct": _rounded(comparison.change_pct),
                "change_pp": _rounded(comparison.change_pp),
                "direction": comparison.direction,
                "partial": comparison.partial,
                "footnotes": list(comparison.footnotes),
                "status": "provisional" if provisional else "approved",
                "significance": significance
                and {
                    "p_value": round(significance.p_value, 4),
                    "significant": significance.significant,
                    "small_numbers": significance.small_numbers,
                    "caution": significance.caution,
                },
            }
        )


class PlanReportingQuarter(APIView):
    """The period pages, exports and reports default to, and the later quarters' progress."""

    @extend_schema(
        responses=inline_serializer(
            "ReportingQuarter",
            {
                "plan": serializers.CharField(),
                "quarter": serializers.CharField(
                    allow_null=True,
                    help_text="the latest quarter whose returns are all approved; null if none",
                ),
                "quarter_label": serializers.CharField(allow_null=True),
                "month": serializers.CharField(
                    allow_null=True,
                    help_text="the reporting month (e.g. 2023-03): the quarter's last, or "
                    "before any quarter is complete the latest month with a figure you see",
                ),
                "later": inline_serializer(
                    "QuarterProgress",
                    {
                        "period": serializers.CharField(help_text="e.g. 2022/23-Q4"),
                        "label": serializers.CharField(help_text="e.g. Jan–Mar 2023"),
                        "approved": serializers.IntegerField(help_text="returns approved"),
                        "returns": serializers.IntegerField(help_text="returns in the period"),
                    },
                    many=True,
                    help_text="the quarters after it, still in progress",
                ),
            },
        )
    )
    def get(self, request: Request, code: str) -> Response:
        plan = get_object_or_404(Plan, code=code)
        state = reporting_state(plan=plan, reader=Reader.of(request.user))

        def progress(p):
            return {
                "period": p.period.notation,
                "label": p.period.label,
                "approved": p.approved,
                "returns": p.returns,
            }

        return Response(
            {
                "plan": plan.code,
                "quarter": state.quarter.notation if state.quarter else None,
                "quarter_label": state.quarter.label if state.quarter else None,
                "month": state.month.iso if state.month else None,
                "later": [progress(p) for p in state.later],
            }
        )
