from django.core.management.base import BaseCommand, CommandError

from measures.engine.recompute import recompute_run
from measures.models import Measure


class Command(BaseCommand):
    help = (
        "Recompute derived figures now: what changed since they were computed (the default, "
        "as nightly: the series whose values changed, every series of a measure whose "
        "definition did), every series of the measures named, or of every measure (--all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("measures", nargs="*", help="measure codes (default: those changed)")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="full",
            help="rebuild every measure's figures, changed or not",
        )

    def handle(self, *args, measures, full, **options):
        if measures and full:
            raise CommandError("name measures or give --all, not both")
        ids = None
        if measures:
            found = dict(Measure.objects.filter(code__in=measures).values_list("code", "pk"))
            missing = sorted(set(measures) - set(found))
            if missing:
                self.stderr.write(f"unknown measure(s): {', '.join(missing)}")
                raise SystemExit(1)
            ids = sorted(found.values())
        # Measures named are recomputed whole, changed or not: that is what naming asks.
        run = recompute_run(ids, full=full or ids is not None)
        series = f", {run.series_recomputed} of them in part" if run.series_recomputed else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"recomputed {run.rows} derived figures of {run.measures_recomputed} "
                f"measure(s){series}"
            )
        )
