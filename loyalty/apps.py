from django.apps import AppConfig


def _welcome_bonus(sender, member, via, **kwargs):
    from loyalty.services import welcome_bonus_credit

    if via in ("signup", "api", "shop"):  # imported history earns no welcome bonus
        welcome_bonus_credit(member=member)


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Points and gamification"

    def ready(self):
        from members.signals import member_created

        member_created.connect(_welcome_bonus, dispatch_uid="loyalty.welcome_bonus")

        from loyalty.leaderboards import board_visibility_changed
        from members.signals import member_leaderboard_visibility_changed

        member_leaderboard_visibility_changed.connect(board_visibility_changed,
                                                      dispatch_uid="loyalty.leaderboard_visibility")

        # The memoised list of active challenges follows every change staff make to them.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from loyalty.challenges import challenges_changed
        from loyalty.models import Challenge

        for signal in (post_save, post_delete):
            signal.connect(challenges_changed, sender=Challenge, dispatch_uid=f"loyalty.challenges.{signal}")
        m2m_changed.connect(challenges_changed, sender=Challenge.audience_tiers.through,
                            dispatch_uid="loyalty.challenges.audience")
