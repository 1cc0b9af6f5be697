"""Staff-entered texts of the campaigns app, per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import Offer


@register(Offer)
class OfferTranslation(TranslationOptions):
    fields = ("name", "description")
