import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pcp.settings")

app = Celery("pcp")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in the packages that own them, not in each app's top-level tasks module.
app.autodiscover_tasks(["measures.engine", "measures.returns", "reports"])
