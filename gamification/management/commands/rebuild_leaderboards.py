from django.core.management.base import BaseCommand

from gamification.services.leaderboards import boards_rebuild


class Command(BaseCommand):
    help = ("Recompute this week's, this month's and the all-time leaderboards (and who is hidden) from the "
            "ledger and swap them into Redis atomically. Safe to run at any time.")

    def handle(self, *args, **options):
        result = boards_rebuild()
        if result.get("skipped"):
            self.stdout.write(self.style.WARNING("rebuild_leaderboards: another rebuild is running; nothing done."))
            return
        self.stdout.write(self.style.SUCCESS(
            f"rebuild_leaderboards: week {result['week']} {result['week_members']} members, month {result['month']} "
            f"{result['month_members']}, all-time {result['all_members']}; {result['hidden']} hidden, "
            f"{result['replayed']} live credits replayed, {result['seconds']} s."
        ))
