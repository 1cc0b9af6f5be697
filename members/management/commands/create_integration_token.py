from django.core.management.base import BaseCommand, CommandError

from members.services import integration_token_create


class Command(BaseCommand):
    help = "Create an API token for an integration client (shop server, POS, chat tool) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a name for the client, e.g. 'webshop' or 'pos-store-12'")

    def handle(self, *args, name, **options):
        try:
            token, raw = integration_token_create(name=name)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"Token for {token.name!r} created. It is shown only now; store it in the client's secrets.\n"
            f"Use it as the header  Authorization: Bearer <token>"
        )
        self.stdout.write(raw)
