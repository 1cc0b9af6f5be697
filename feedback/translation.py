"""Staff-entered texts of the feedback app, per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from feedback.models import Survey, SurveyQuestion


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "intro")


@register(SurveyQuestion)
class SurveyQuestionTranslation(TranslationOptions):
    fields = ("text",)
