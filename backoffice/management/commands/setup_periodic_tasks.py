from django.core.management.base import BaseCommand

from backoffice.services import periodic_tasks_ensure


class Command(BaseCommand):
    help = "Load Fidelio's periodic tasks into django-celery-beat (adds missing ones; --reset restores code defaults)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="overwrite admin edits with the defaults in code")

    def handle(self, *args, reset=False, **options):
        changed = periodic_tasks_ensure(reset=reset)
        verb = "reset" if reset else "created"
        self.stdout.write(f"Periodic tasks {verb}: {', '.join(changed) if changed else 'none (all present)'}")
