from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("measures.api_urls")),
    path("reports/published/", include("reports.public_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include("measures.returns.urls")),
    path("", include("reports.urls")),
]
