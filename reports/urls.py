from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("tables/national-picture/", views.NationalPictureView.as_view(), name="national-picture"),
    path(
        "tables/national-comparison/",
        views.NationalComparisonView.as_view(),
        name="national-comparison",
    ),
    path("tables/year-to-date/", views.YearToDateView.as_view(), name="year-to-date"),
    path("tables/monthly/", views.MonthlyView.as_view(), name="monthly"),
    path("tables/scorecard/", views.ScorecardView.as_view(), name="scorecard"),
    path("tables/performance/", views.PerformanceView.as_view(), name="performance"),
    path("report/", views.report_preview, name="report"),
    path("report/publish/", views.publish, name="publish"),
    path("measures/<slug:code>/", views.measure_detail, name="measure"),
]
