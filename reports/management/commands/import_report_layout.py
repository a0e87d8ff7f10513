from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from measures.importing.files import load_structured_file
from measures.importing.plan import PlanInvalid
from reports.layout import LayoutInvalid, report_layout_import


class Command(BaseCommand):
    help = (
        "Create or update a plan's report sections (order, titles, notes, where Key Headlines "
        "go, activities) from a YAML or JSON file; re-importing changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            summary = report_layout_import(data=load_structured_file(file))
        except (LayoutInvalid, PlanInvalid) as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        if options.get("verbosity", 1) > 1:
            for line in summary.details:
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"{file.name}: {summary}"))
