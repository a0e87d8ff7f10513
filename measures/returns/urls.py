"""Pages of the returns workflow, mounted at the site root under the namespace "returns"."""

from django.urls import path

from measures.returns import views

app_name = "returns"

urlpatterns = [
    path("returns/", views.return_list, name="list"),
    path("returns/<int:pk>/", views.return_detail, name="detail"),
    path("returns/<int:pk>/submit/", views.return_submit, name="submit"),
    path("returns/<int:pk>/approve/", views.return_approve, name="approve"),
    path("returns/<int:pk>/send-back/", views.return_send_back, name="send-back"),
    path("returns/<int:pk>/reopen/", views.return_reopen, name="reopen"),
    path("review/", views.review_queue, name="review-queue"),
    path("periods/", views.reporting_periods, name="periods"),
]
