from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backoffice.services import demo_seed
from backoffice.services.demo import LOCAL_MAIL_BACKENDS
from members.models import Member


class Command(BaseCommand):
    help = ("Create (or complete) the demo program: tiers, rewards, ~50 members with their history, challenges, "
            "surveys, reviews, support feedback, a newsletter, a metric rollup and demo logins. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="run even with DEBUG off (the demo logins have a published password)")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates logins with a known password and is for development: DEBUG is "
                               "off here. Pass --force if you really want the demo program on this server.")
        logins = demo_seed()
        self.stdout.write(self.style.SUCCESS(f"Demo program ready: {Member.objects.count()} members."))
        if settings.EMAIL_BACKEND not in LOCAL_MAIL_BACKENDS:
            self.stdout.write(f"The demo newsletter is a draft: mail goes through {settings.EMAIL_BACKEND} here, and "
                              "the demo sends mail only to the console or memory. Send it from the admin if you like.")
        self.stdout.write("Demo logins (portal http://127.0.0.1:8000/, back office http://127.0.0.1:8000/admin/):")
        for login in logins:
            extra = f"  member {login.member_number}" if login.member_number else ""
            self.stdout.write(f"  {login.role:34} {login.email:32} password: {login.password}{extra}")
