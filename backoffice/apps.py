from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender, **kwargs):
    from backoffice.services import periodic_tasks_ensure, staff_groups_sync

    staff_groups_sync()
    periodic_tasks_ensure()  # adds missing periodic tasks only; admin edits are kept


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        # Permissions and beat tables exist only after migrate: grant the staff groups their permissions
        # and load the periodic-task schedule then.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="backoffice.after_migrate")

        # The scores the rollup computes, on the member as integrations see them (GET /api/v1/members/{id}/).
        from backoffice.api import MemberClvField, MemberRfmField
        from loyalty.api.members import member_field_register

        member_field_register("rfm", MemberRfmField)
        member_field_register("clv", MemberClvField)
