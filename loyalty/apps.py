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
