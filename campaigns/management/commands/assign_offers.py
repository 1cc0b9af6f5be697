"""Assign offers now: `manage.py assign_offers [--offer ID]` (what the nightly job does after the rollup)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from campaigns.models import Offer
from campaigns.services.offers import offer_assign, offers_assign_all


class Command(BaseCommand):
    help = ("Assign every running offer (or one) to the members of its audience who do not have it yet, holding out "
            "each offer's random share.")

    def add_arguments(self, parser):
        parser.add_argument("--offer", type=int, help="Only this offer (its id).")

    def handle(self, *args, **options):
        if options["offer"] is not None:
            offer = Offer.objects.filter(pk=options["offer"]).first()
            if offer is None:
                raise CommandError(f"No offer with id {options['offer']}.")
            done = offer_assign(offer=offer)
            self.stdout.write(f"{offer.name}: {done['treatment']} members given the offer, {done['holdout']} held out")
            return
        total = Offer.objects.filter(is_active=True, ends_at__gt=timezone.now()).count()
        with tqdm(total=total, desc="offers", unit="offer", file=self.stderr._out) as bar:
            def step(offer: Offer, done: dict) -> None:
                bar.set_postfix_str(offer.name[:30])
                bar.update(1)

            result = offers_assign_all(progress=step)
        self.stdout.write(f"{result['offers']} offers: {result['treatment']} members given an offer, "
                          f"{result['holdout']} held out")
