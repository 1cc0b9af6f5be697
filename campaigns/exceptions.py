"""Errors of the campaigns app (codes are part of the API contract)."""

from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict


class OfferNotActivatable(Conflict):
    code = "offer_not_activatable"
    default_detail = _("This offer cannot be activated.")
