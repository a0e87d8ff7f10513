from django.urls import path, register_converter

from reports import public_views


class FormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "fmt")

app_name = "public"

urlpatterns = [
    path("", public_views.published_list, name="list"),
    path("<slug:plan>/<slug:period>/", public_views.published_report, name="report"),
    path(
        "<slug:plan>/<slug:period>/v<int:number>/",
        public_views.published_report,
        name="report-version",
    ),
    path(
        "<slug:plan>/<slug:period>/v<int:number>/report.pdf",
        public_views.published_pdf,
        name="pdf",
    ),
    path(
        "<slug:plan>/<slug:period>/v<int:number>/tables.<fmt:export_format>",
        public_views.published_tables,
        name="tables",
    ),
]
