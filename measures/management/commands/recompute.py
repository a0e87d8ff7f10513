from django.core.management.base import BaseCommand

from measures.engine.recompute import recompute_run
from measures.models import Measure


class Command(BaseCommand):
    help = "Recompute every derived figure now (or only the measures named)."

    def add_arguments(self, parser):
        parser.add_argument("measures", nargs="*", help="measure codes (default: all)")

    def handle(self, *args, measures, **options):
        ids = None
        if measures:
            found = dict(Measure.objects.filter(code__in=measures).values_list("code", "pk"))
            missing = sorted(set(measures) - set(found))
            if missing:
                self.stderr.write(f"unknown measure(s): {', '.join(missing)}")
                raise SystemExit(1)
            ids = sorted(found.values())
        run = recompute_run(ids)
        self.stdout.write(self.style.SUCCESS(f"recomputed {run.rows} derived figures"))
