from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Rewards"

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
        member_erasing.connect(vouchers_cancel_on_erasure, dispatch_uid="rewards.vouchers_cancel_on_erasure")
