from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _welcome_bonus(sender, member, via, **kwargs):
    from loyalty.services import welcome_bonus_credit

    if via in ("signup", "api", "shop"):  # imported history earns no welcome bonus
        welcome_bonus_credit(member=member)


def _referral_only_before_first_confirmed_purchase(sender, member, referrer, **kwargs):
    """members.referral_apply's hook: a referral counts only before the member's first confirmed purchase
    (the referral bonus is paid on a first confirmed purchase; a later link would pay it on the next one)."""
    from django.utils.translation import gettext as _

    from config.exceptions import Conflict
    from loyalty.models import Purchase

    if Purchase.objects.filter(member_id=member.pk, confirmed_at__isnull=False).exists():
        raise Conflict(_("Referral codes can be entered only before the first confirmed purchase."),
                       field="referral_code", code="referral_too_late")


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Points")

    def ready(self):
        from members.signals import member_created

        member_created.connect(_welcome_bonus, dispatch_uid="loyalty.welcome_bonus")

        from members.signals import referral_applying

        referral_applying.connect(_referral_only_before_first_confirmed_purchase,
                                  dispatch_uid="loyalty.referral_before_first_purchase")

        # What loyalty holds of a member, in their personal-data export (nothing to erase: purchases and the
        # ledger stay for accounting under the anonymous member).
        from loyalty.selectors import member_ledger_export, member_purchases_export
        from members.services import personal_data_register

        personal_data_register("purchases", member_purchases_export)
        personal_data_register("points_history", member_ledger_export)
