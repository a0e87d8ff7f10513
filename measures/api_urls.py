from django.urls import path

from measures import api
from measures.returns import api as api_returns

app_name = "api"

urlpatterns = [
    path("measures/", api.MeasureList.as_view(), name="measure-list"),
    path("measures/<slug:code>/", api.MeasureDetail.as_view(), name="measure-detail"),
    path("measures/<slug:code>/compare/", api.MeasureCompare.as_view(), name="measure-compare"),
    path("areas/", api.AreaList.as_view(), name="area-list"),
    path(
        "plans/<slug:code>/reporting-quarter/",
        api.PlanReportingQuarter.as_view(),
        name="plan-reporting-quarter",
    ),
    path("values/", api.ValueList.as_view(), name="value-list"),
    path("returns/", api_returns.ReturnList.as_view(), name="return-list"),
    path("returns/<int:pk>/", api_returns.ReturnDetail.as_view(), name="return-detail"),
    path("returns/<int:pk>/values/", api_returns.ReturnValues.as_view(), name="return-values"),
    path("returns/<int:pk>/submit/", api_returns.ReturnSubmit.as_view(), name="return-submit"),
    path("returns/<int:pk>/approve/", api_returns.ReturnApprove.as_view(), name="return-approve"),
    path(
        "returns/<int:pk>/send-back/",
        api_returns.ReturnSendBack.as_view(),
        name="return-send-back",
    ),
    path("returns/<int:pk>/reopen/", api_returns.ReturnReopen.as_view(), name="return-reopen"),
]
