from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from allauth.account.signals import email_confirmed, password_reset
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from members import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from members.adapters import on_email_confirmed, on_logged_in, on_password_reset
        from members.models import Tier
        from members.services import tiers_changed

        # Framework events only: any change to a tier clears the cached tier list.
        post_save.connect(tiers_changed, sender=Tier, dispatch_uid="members.tiers_changed.save")
        post_delete.connect(tiers_changed, sender=Tier, dispatch_uid="members.tiers_changed.delete")
        # A login gets its member when its e-mail address is verified, never at sign-up (members.adapters).
        email_confirmed.connect(on_email_confirmed, dispatch_uid="members.on_email_confirmed")
        password_reset.connect(on_password_reset, dispatch_uid="members.on_password_reset")
        # A member's chosen language follows them to any browser they log in on (members.middleware).
        user_logged_in.connect(on_logged_in, dispatch_uid="members.on_logged_in")
