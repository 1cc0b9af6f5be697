from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # Personal offers reach the earn path through loyalty's hook (loyalty.offers).
        from campaigns.services.offers import EARN_OFFER_SOURCE
        from loyalty.offers import earn_offers_register

        earn_offers_register(EARN_OFFER_SOURCE)

        # The memo of live offers follows every change staff make to offers.
        from django.db.models.signals import post_delete, post_save

        from campaigns.models import Offer
        from campaigns.services.offers import offers_changed

        for signal in (post_save, post_delete):
            signal.connect(offers_changed, sender=Offer, dispatch_uid=f"campaigns.offers.{signal}")

        # A member's offers in their personal-data export (nothing personal to erase).
        from campaigns.selectors import member_offers_export
        from members.services import personal_data_register

        personal_data_register("offers", member_offers_export)
