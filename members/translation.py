"""Staff-entered texts of the members app, per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from members.models import Tier


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "benefits")
