import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from measures.arithmetic.periods import PeriodError, parse_period
from reports import selectors
from reports.publishing import PublishBlocked, report_publish
from reports.views import reporting_quarter


class Command(BaseCommand):
    help = "Publish a plan's quarterly report with the same checks as the UI; print its URL."

    def add_arguments(self, parser):
        parser.add_argument("plan", help="plan code, e.g. pcp-2021-25")
        parser.add_argument("period", help="the quarter, e.g. 2022/23-Q3 (or its last month)")
        parser.add_argument("--user", help="admin publishing it (default: the first admin)")
        parser.add_argument(
            "--override",
            action="append",
            default=[],
            metavar="KEY=REASON",
            help="publish despite a headline mismatch (KEY as printed), with a reason",
        )

    def handle(self, *args, plan, period, user, override, **options):
        plan_obj = selectors.plan_by_code(plan)
        if plan_obj is None:
            raise CommandError(f"no plan {plan!r}")
        try:
            quarter = reporting_quarter(parse_period(period))
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc
        User = get_user_model()
        actor = (
            User.objects.filter(username=user).first()
            if user
            else User.objects.filter(is_superuser=True).order_by("pk").first()
        )
        if actor is None:
            raise CommandError("no admin user to publish as (create one, or pass --user)")
        overrides = dict(item.split("=", 1) for item in override if "=" in item)
        try:
            version = report_publish(
                plan=plan_obj, period=quarter, actor=actor, overrides=overrides
            )
        except PublishBlocked as exc:
            for problem in exc.problems:
                key = f" [override key: {problem.key}]" if problem.overridable else ""
                self.stderr.write(f"- {problem.text}{key}")
            self.stderr.write("not published")
            sys.exit(1)
        self.stdout.write(f"{settings.SITE_URL.rstrip('/')}{version.get_absolute_url()}")
