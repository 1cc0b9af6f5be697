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
