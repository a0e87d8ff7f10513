from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measures.importing.files import load_structured_file
from measures.importing.plan import PlanInvalid, plan_import


class Command(BaseCommand):
    help = "Create or update a plan from a YAML or JSON definition (re-importing changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("-v2", action="store_true", dest="details", help="list every change")

    def handle(self, *args, file: Path, details: bool = False, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            summary = plan_import(data=load_structured_file(file))
        except PlanInvalid as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        if details or options.get("verbosity", 1) > 1:
            for line in summary.details:
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"{file.name}: {summary}"))
