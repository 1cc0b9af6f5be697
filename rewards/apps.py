from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from gamification.models import Challenge
        from gamification.signals import challenge_completed
        from rewards.services import challenge_voucher_issue

        challenge_completed.connect(challenge_voucher_issue, sender=Challenge,
                                    dispatch_uid="rewards.challenge_voucher_issue")

        # A member's redemptions in their personal-data export; their unused vouchers cancelled on erasure.
        from members.services import personal_data_register
        from members.signals import member_erasing
        from rewards.selectors import member_redemptions_export
        from rewards.services.vouchers import vouchers_cancel_on_erasure

        personal_data_register("redemptions", member_redemptions_export)

        # What the member can afford now, on the portal's home page.
        from members.portal import home_section_register
        from rewards.portal import home_rewards

        home_section_register(home_rewards)

        # Reward names in the member's language in their points history (one query a page).
        from loyalty.selectors import ledger_subject_register
        from rewards.models import Reward

        ledger_subject_register("reward", lambda ids: {r.pk: r.name for r in Reward.objects.filter(pk__in=ids)})
        member_erasing.connect(vouchers_cancel_on_erasure, dispatch_uid="rewards.vouchers_cancel_on_erasure")
