from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender, **kwargs):
    from backoffice.services import periodic_tasks_ensure, staff_groups_sync

    staff_groups_sync()
    periodic_tasks_ensure()  # adds missing periodic tasks only; admin edits are kept


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        # Permissions and beat tables exist only after migrate: grant the staff groups their permissions
        # and load the periodic-task schedule then.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="backoffice.after_migrate")

        # The scores the rollup computes, on the member as integrations see them (GET /api/v1/members/{id}/).
        from backoffice.api import MemberClvField, MemberRfmField
        from loyalty.api.members import member_field_register

        member_field_register("rfm", MemberRfmField)
        member_field_register("clv", MemberClvField)

        # The scores and newsletters in a member's personal-data export; the delivery addresses forgotten on erasure.
        from backoffice.selectors.metrics import member_backoffice_export
        from backoffice.services.newsletters import newsletter_deliveries_erase
        from members.services import personal_data_register
        from members.signals import member_erasing

        personal_data_register("back_office", member_backoffice_export)

        # Offers' audiences by RFM segment, P(alive) and predicted CLV: the scores live here, above campaigns.
        from backoffice.models import MemberScore
        from backoffice.services.newsletters import members_narrow_by_scores
        from campaigns.services.offers import audience_score_filter_register

        audience_score_filter_register(members_narrow_by_scores, segments=list(MemberScore.Segment.choices))
        member_erasing.connect(newsletter_deliveries_erase, dispatch_uid="backoffice.newsletter_deliveries_erase")
