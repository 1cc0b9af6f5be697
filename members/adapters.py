"""allauth glue: every new login gets its member."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from members.services import member_create_for_user


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            code = form.cleaned_data.get("referral_code") or request.session.pop("referral_code", None) or None
            member_create_for_user(user=user, referral_code=code)
        return user

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL
