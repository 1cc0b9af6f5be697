import sys

from django.core.management.base import BaseCommand

from loyalty.selectors import ledger_mismatches
from members.models import Member


class Command(BaseCommand):
    help = ("Verify every member's balance against the ledger and the open lots, pending points against "
            "unconfirmed purchases, and each lot against its entry. Exits 1 on any mismatch.")

    def handle(self, *args, **options):
        found = ledger_mismatches()
        for row in found["members"]:
            self.stderr.write(
                f"member {row['member_id']} ({row['member_number']}): balance {row['balance']}, "
                f"ledger sum {row['ledger_sum']}, lots remaining {row['lots_remaining']}, "
                f"pending {row['pending']} vs purchases {row['pending_from_purchases']}"
            )
        for row in found["lots"]:
            self.stderr.write(
                f"lot {row['lot_id']}: points {row['points']} remaining {row['remaining']} "
                f"entry points {row['entry_points']} (member {row['member_id']} / entry member "
                f"{row['entry_member_id']})"
            )
        problems = len(found["members"]) + len(found["lots"])
        if problems:
            self.stderr.write(self.style.ERROR(f"check_ledger: {problems} mismatch(es)."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(
            f"check_ledger: {Member.objects.count()} members, balances, lots and pending points all consistent."
        ))
