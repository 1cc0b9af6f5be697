"""Rebuild every challenge's events and progress from the source data (purchases, returns, referrals)."""

from django.core.management.base import BaseCommand

from gamification.services.challenges import challenges_recompute


class Command(BaseCommand):
    help = ("Rebuild challenge progress from confirmed purchases (net of returns) and confirmed referrals, "
            "through the same counting as the live path. Completions and rewards already granted stay.")

    def handle(self, *args, **options):
        result = challenges_recompute()
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"Recomputed: {result['events']} source events counted."))
