from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from measures.importers import headlines_import, load_structured_file

DEMO = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Load the seed report's plan, all its figures (approved) and its Key Headlines."

    def handle(self, *args, **options):
        call_command("import_plan", DEMO / "plan.yaml", stdout=self.stdout, stderr=self.stderr)
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
