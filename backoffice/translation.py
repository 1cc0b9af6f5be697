"""Staff-entered texts of the back office, per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from backoffice.models import Newsletter


@register(Newsletter)
class NewsletterTranslation(TranslationOptions):
    fields = ("subject", "body_markdown")
