from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from members.models import Scope
from members.services import integration_token_create


class Command(BaseCommand):
    help = "Create an API token for an integration client (shop server, POS, chat tool) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a name for the client, e.g. 'webshop' or 'pos-store-12'")
        parser.add_argument(
            "--scopes", default=None,
            help=f"comma-separated scopes the token may use (default: all). Known: {', '.join(Scope.values)}",
        )
        parser.add_argument("--expires-in-days", type=int, default=None,
                            help="the token stops working after this many days (default: never)")

    def handle(self, *args, name, scopes, expires_in_days, **options):
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            token, raw = integration_token_create(name=name, scopes=scopes, expires_at=expires_at)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        granted = ", ".join(token.scopes)
        scope_note = (f"Scopes: all ({granted}); pass --scopes to grant fewer." if scopes in (None, "")
                      else f"Scopes: {granted}.")
        expiry_note = f"Expires: {token.expires_at:%Y-%m-%d %H:%M} UTC." if token.expires_at else "Expires: never."
        self.stderr.write(
            f"Token for {token.name!r} created. It is shown only now; store it in the client's secrets.\n"
            f"{scope_note}\n{expiry_note}\n"
            f"Use it as the header  Authorization: Bearer <token>"
        )
        self.stdout.write(raw)
