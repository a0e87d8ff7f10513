from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from measures.accounts import user_provision
from measures.models import Department

DEMO_PASSWORD = "demo-pcp-2026"


class Command(BaseCommand):
    help = "Create one demo user per role (development only) and print their log-ins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo users are for development only (DEBUG is off)")
        departments = list(Department.objects.order_by("code").values_list("code", flat=True))
        if not departments:
            raise CommandError("load a plan first (python manage.py load_demo)")
        lead_departments = ["analysis"] if "analysis" in departments else departments[:1]
        people = [
            ("admin", "admin", []),
            ("reviewer", "reviewer", []),
            ("lead", "lead", lead_departments),
            # A performance officer who enters every department's return, so one person
            # can run a whole quarter of the demo (Q4 2022/23) to publication.
            ("coordinator", "lead", departments),
            ("viewer", "viewer", []),
        ]
        self.stdout.write("Demo log-ins (development only):")
        for username, role, codes in people:
            user_provision(
                username=username,
                role=role,
                department_codes=codes,
                password=DEMO_PASSWORD,
                # So a newcomer sees the notifications in the console under `make run`.
                email=f"{username}@example.org",
                validate=False,
            )
            extra = f" departments {', '.join(codes)}" if codes else ""
            self.stdout.write(f"  {username:<11} password {DEMO_PASSWORD}  ({role}{extra})")
