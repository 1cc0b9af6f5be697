from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = _("Gamification")

    def ready(self) -> None:
        # What the points engine announces after commit (loyalty.signals): challenges count it, the boards add it.
        from gamification.services.challenges import (
            challenges_on_purchase_confirmed,
            challenges_on_purchase_returned,
            challenges_on_referral_confirmed,
        )
        from gamification.services.leaderboards import board_credits_on_credited, board_visibility_changed
        from loyalty.signals import points_credited, purchase_confirmed, purchase_returned, referral_confirmed
        from members.signals import member_leaderboard_visibility_changed

        purchase_confirmed.connect(challenges_on_purchase_confirmed, dispatch_uid="gamification.purchase_confirmed")
        purchase_returned.connect(challenges_on_purchase_returned, dispatch_uid="gamification.purchase_returned")
        referral_confirmed.connect(challenges_on_referral_confirmed, dispatch_uid="gamification.referral_confirmed")
        points_credited.connect(board_credits_on_credited, dispatch_uid="gamification.points_credited")
        member_leaderboard_visibility_changed.connect(board_visibility_changed,
                                                      dispatch_uid="gamification.leaderboard_visibility")

        # Challenge progress and badges in a member's personal-data export (nothing personal to erase).
        from gamification.selectors.challenges import member_challenges_export
        from members.services import personal_data_register

        personal_data_register("challenges", member_challenges_export)

        # The member's running challenges on the portal's home page.
        from gamification.portal import home_challenges
        from members.portal import home_section_register

        home_section_register(home_challenges)

        # Challenge titles in the member's language in their points history (one query a page).
        from gamification.models import Challenge
        from loyalty.selectors import ledger_subject_register

        ledger_subject_register("challenge",
                                lambda ids: {c.pk: c.title for c in Challenge.objects.filter(pk__in=ids)})

        # The memoised list of active challenges follows every change staff make to them.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from gamification.services.challenges import challenges_changed

        for signal in (post_save, post_delete):
            signal.connect(challenges_changed, sender=Challenge, dispatch_uid=f"gamification.challenges.{signal}")
        m2m_changed.connect(challenges_changed, sender=Challenge.audience_tiers.through,
                            dispatch_uid="gamification.challenges.audience")
