from django.core.management.base import BaseCommand

from backoffice.demo import demo_seed
from members.models import Member


class Command(BaseCommand):
    help = "Create (or complete) the demo program: tiers, rewards, ~50 members and demo logins. Idempotent."

    def handle(self, *args, **options):
        logins = demo_seed()
        self.stdout.write(self.style.SUCCESS(f"Demo program ready: {Member.objects.count()} members."))
        self.stdout.write("Demo logins (portal http://127.0.0.1:8000/, back office http://127.0.0.1:8000/admin/):")
        for login in logins:
            extra = f"  member {login.member_number}" if login.member_number else ""
            self.stdout.write(f"  {login.role:34} {login.email:32} password: {login.password}{extra}")
