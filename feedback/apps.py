from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback, surveys and reviews")

    def ready(self) -> None:
        # A member's reviews, survey answers and feedback in their personal-data export; their free texts erased.
        from feedback.selectors import member_feedback_export
        from feedback.services.privacy import feedback_erase
        from members.services import personal_data_register
        from members.signals import member_erasing

        personal_data_register("feedback", member_feedback_export)
        member_erasing.connect(feedback_erase, dispatch_uid="feedback.erase")

        # Survey titles in the member's language in their points history (one query a page).
        from feedback.models import Survey
        from loyalty.selectors import ledger_subject_register

        ledger_subject_register("survey", lambda ids: {s.pk: s.title for s in Survey.objects.filter(pk__in=ids)})
