import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from measures.accounts import user_provision
from measures.models import Profile


class Command(BaseCommand):
    help = "Create or update a user with a role; the password comes from PCP_PASSWORD or a prompt."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Profile.Role.values)
        parser.add_argument("--department", action="append", default=[], dest="departments")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, departments, email, **options):
        password = os.environ.get("PCP_PASSWORD")
        if not password:
            if not os.isatty(0):
                raise CommandError("set PCP_PASSWORD or run in a terminal to be prompted")
            password = getpass.getpass(f"Password for {username}: ")
        try:
            user, created = user_provision(
                username=username,
                role=role,
                department_codes=departments,
                password=password,
                email=email,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "created" if created else "updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.username} ({role})"))
