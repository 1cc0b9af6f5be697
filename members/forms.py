"""Portal forms of members: sign-up's optional fields (allauth's ACCOUNT_SIGNUP_FORM_CLASS), the profile and the
account's deletion. Labels, help and errors speak the member's language; the services decide the rules."""

from __future__ import annotations

from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.exceptions import DomainError
from members.models import Member
from members.services.accounts import (
    BIRTHDAY_MAX_AGE_YEARS,
    DISPLAY_NAME_MAX,
    MARKETING_CONSENT_WORDING,
    NAME_MAX,
    birthday_validate,
)


class DateInput(forms.DateInput):
    input_type = "date"


def _birthday_bounds() -> dict[str, str]:
    today = timezone.localdate()
    return {"max": today.isoformat(), "min": today.replace(year=today.year - BIRTHDAY_MAX_AGE_YEARS).isoformat()}


# Where an invitation link (members.views.referral_landing) leaves the friend's code for the sign-up form.
REFERRAL_SESSION_KEY = "referral_code"


class SignupForm(forms.Form):
    referral_code = forms.CharField(
        label=_("Friend's referral code (optional)"), max_length=16, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    birthday = forms.DateField(
        label=_("Date of birth (optional)"), required=False, widget=DateInput(),
        help_text=_("We send you a gift on your birthday."),
    )
    marketing_consent = forms.BooleanField(label=MARKETING_CONSENT_WORDING, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birthday"].widget.attrs.update(_birthday_bounds())
        # allauth builds this form without the request; its context variable holds it (allauth.core.context).
        self._request = allauth_context.request
        session = getattr(self._request, "session", None)
        invited = session.get(REFERRAL_SESSION_KEY) if session is not None else None
        if invited:  # the code an invitation link brought: shown filled in, so what is applied is what is seen
            self.initial.setdefault("referral_code", invited)

    def clean_referral_code(self):
        code = self.cleaned_data.get("referral_code", "").strip().upper()
        session = getattr(self._request, "session", None)
        if not code and self.add_prefix("referral_code") in self.data and session is not None:
            # The visitor emptied the filled-in field: the invitation's code must not come back through the
            # session (members.adapters falls back to it when the form has no code).
            session.pop(REFERRAL_SESSION_KEY, None)
        if code and not Member.objects.filter(referral_code=code, erased_at__isnull=True).exists():
            raise forms.ValidationError(_("No member has this referral code. Check it, or leave it empty."))
        return code

    def clean_birthday(self):
        return _birthday_clean(self.cleaned_data.get("birthday"))

    def signup(self, request, user):
        """allauth calls this after saving the user; the member comes with the verified address (adapters).
        The invitation's code now waits on the login (`User.signup_referral_code`): used once, it leaves the
        session."""
        if hasattr(request, "session"):
            request.session.pop(REFERRAL_SESSION_KEY, None)


def _birthday_clean(value):
    if value is None:
        return None
    try:
        return birthday_validate(value)
    except DomainError as exc:
        raise forms.ValidationError(exc.detail) from None


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX, required=False)
    display_name = forms.CharField(
        label=_("Display name"), max_length=DISPLAY_NAME_MAX, required=False,
        help_text=_("How you appear on leaderboards and reviews, if you choose to."))
    leaderboard_visibility = forms.ChoiceField(
        label=_("Show me on the leaderboards as"), choices=Member.LeaderboardVisibility.choices,
        widget=forms.RadioSelect)
    birthday = forms.DateField(
        label=_("Date of birth"), required=False, widget=DateInput(),
        help_text=_("It brings you a gift every year. Once set, only our team can change it."))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES,
                                 help_text=_("For these pages and every e-mail we send you."))
    marketing_consent = forms.BooleanField(label=MARKETING_CONSENT_WORDING, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birthday"].widget.attrs.update(_birthday_bounds())
        if member.birthday is not None:
            self.fields["birthday"].disabled = True

    def clean_birthday(self):
        return _birthday_clean(self.cleaned_data.get("birthday"))


class AccountDeleteForm(forms.Form):
    password = forms.CharField(label=_("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
