"""Staff-entered texts of the gamification app, per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from gamification.models import Badge, Challenge


@register(Badge)
class BadgeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Challenge)
class ChallengeTranslation(TranslationOptions):
    fields = ("title", "description")
