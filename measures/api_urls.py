from django.urls import path

from measures import api

app_name = "api"

urlpatterns = [
    path("measures/", api.MeasureList.as_view(), name="measure-list"),
    path("measures/<slug:code>/", api.MeasureDetail.as_view(), name="measure-detail"),
    path("measures/<slug:code>/compare/", api.MeasureCompare.as_view(), name="measure-compare"),
    path("areas/", api.AreaList.as_view(), name="area-list"),
    path("values/", api.ValueList.as_view(), name="value-list"),
]
