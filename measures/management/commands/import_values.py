import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from measures.importing.rules import ImportRejected
from measures.importing.values import values_import


class Command(BaseCommand):
    help = (
        "Import values from CSV or XLSX with header measure,area,period,value "
        "[,numerator,denominator,note,source]. All-or-nothing: any bad row rejects the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--approve",
            action="store_true",
            help="mark the imported values approved (admin bulk load)",
        )
        parser.add_argument("--user", help="username recorded in the audit history")
        parser.add_argument("--reason", default="", help="reason recorded in the audit history")

    def handle(self, *args, file: Path, approve: bool, user: str | None, reason: str, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"--user: no user called {user!r}")
        try:
            summary = values_import(path=file, approve=approve, user=actor, reason=reason)
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(f"{file.name}: {error}")
            self.stderr.write(
                f"{file.name}: rejected, {len(exc.errors)} problem(s); nothing was imported"
            )
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"{file.name}: {summary}"))
