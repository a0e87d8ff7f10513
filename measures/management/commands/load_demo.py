import datetime
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from measures.arithmetic.periods import parse_period
from measures.engine.recompute import recompute_run
from measures.importing.files import load_structured_file
from measures.importing.headlines import headlines_import
from measures.models import Plan
from measures.returns import services

DEMO = Path(__file__).resolve().parents[2] / "demo"
PUBLISHED = ("2022/23-Q3", datetime.date(2023, 1, 20))
NEXT = ("2022/23-Q4", datetime.date(2023, 4, 21))


class Command(BaseCommand):
    help = (
        "Load the seed report's plan, its report layout, all its figures and Key Headlines "
        "(approved, as in the published Q3 2022/23 report), and open Q4 2022/23 for returns. "
        "Safe to run again."
    )

    def handle(self, *args, **options):
        call_command("import_plan", DEMO / "plan.yaml", stdout=self.stdout, stderr=self.stderr)
        # The report's layout (where Key Headlines go, notes, activities) is the reports app's:
        # its own command loads it, so that measures/ imports nothing of reports/.
        call_command(
            "import_report_layout", DEMO / "report.yaml", stdout=self.stdout, stderr=self.stderr
        )
        # The criminal-justice releases first, with the month each was published (the
        # report's "Data was updated in February 2023…"); values.csv then finds them in place.
        call_command(
            "import_values",
            DEMO / "releases.csv",
            approve=True,
            reason="demo data: national CJS releases",
            stdout=self.stdout,
            stderr=self.stderr,
        )
        call_command(
            "import_values",
            DEMO / "values.csv",
            approve=True,
            reason="demo data: Q3 2022/23 report",
            stdout=self.stdout,
            stderr=self.stderr,
        )
        summary = headlines_import(
            data=load_structured_file(DEMO / "headlines.yaml"), approve=True
        )
        self.stdout.write(self.style.SUCCESS(f"headlines.yaml: {summary}"))
        plan = Plan.objects.get(code="pcp-2021-25")
        notation, deadline = PUBLISHED
        published = services.reporting_period_open(
            plan=plan, period=parse_period(notation), deadline=deadline
        )
        services.reporting_period_mark_approved(
            reporting=published, reason="approved for the published Q3 2022/23 report"
        )
        notation, deadline = NEXT
        services.reporting_period_open(plan=plan, period=parse_period(notation), deadline=deadline)
        self.stdout.write(
            self.style.SUCCESS(f"returns: {PUBLISHED[0]} approved, {NEXT[0]} open for entry")
        )
        # Computed here rather than left to the task queue: the demo is usable at once.
        # Incremental: measures the in-process tasks already computed are not computed again.
        run = recompute_run(None)
        self.stdout.write(
            self.style.SUCCESS(
                f"derived figures: up to date ({run.measures_recomputed} measures recomputed "
                "by this last run, the others as their values loaded)"
            )
        )
