from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback, surveys and reviews"

    def ready(self) -> None:
        # A member's reviews, survey answers and feedback in their personal-data export; their free texts erased.
        from feedback.selectors import member_feedback_export
        from feedback.services.privacy import feedback_erase
        from members.services import personal_data_register
        from members.signals import member_erasing

        personal_data_register("feedback", member_feedback_export)
        member_erasing.connect(feedback_erase, dispatch_uid="feedback.erase")
