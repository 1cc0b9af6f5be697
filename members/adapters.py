"""allauth glue: a login gets its member only once its e-mail address is verified.

Sign-up creates the login and nothing else: the referral code given at sign-up waits on the login
(`User.signup_referral_code`). When allauth confirms the address (`email_confirmed`), the member the shop
already knows by that address is claimed, or a new member is created, and the code is applied if
`referral_apply` allows it. Anyone can sign up with someone else's address; only the owner of the mailbox
can confirm it, so only the owner ever gets the member (and its points).

A password reset proves the mailbox too, but not that the person resetting typed the sign-up's referral
code: the waiting code is dropped then.
"""

from __future__ import annotations

import logging
import uuid

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.utils import translation
from django.utils.translation import gettext as _

from members.mail import mail_queue
from members.middleware import MEMBER_LANGUAGE_SESSION_KEY
from members.models import User
from members.selectors import member_language_chosen, member_language_for_email
from members.services import member_create_for_user, member_profile_update

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # A taken address may belong to someone who signed up with it but never verified it: its owner gets in
        # through a password reset (the mail goes to that address), which also ends the stranger's sign-up.
        "email_taken": (
            "An account with this e-mail address exists already. If the address is yours, reset the password "
            "(“Forgot your password?” on the log-in page): the link is sent to that address."
        ),
    }

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        code = form.cleaned_data.get("referral_code") or request.session.pop("referral_code", None) or ""
        user.signup_referral_code = code.strip().upper()[:16]
        user.signup_birthday = form.cleaned_data.get("birthday")
        user.signup_marketing_consent = bool(form.cleaned_data.get("marketing_consent"))
        if commit:
            user.save()
        return user

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's messages as Fidelio's (members.mail): our templates, branded, in the member's language
        (else the page's), delivered after commit through Celery."""
        ctx = {key: value for key, value in context.items() if key not in {"request", "current_site", "user"}}
        ctx["email"] = email
        user = context.get("user")
        ctx["first_name"] = getattr(user, "first_name", "") or ""
        language = member_language_for_email(email=email) or translation.get_language()
        mail_queue(template_prefix, to=email, context=ctx, language=language,
                   key=f"{template_prefix}:{email.lower()}:{uuid.uuid4().hex}")


def on_email_confirmed(sender, request, email_address, **kwargs) -> None:
    """allauth's `email_confirmed`: the verified login gets its member (claimed or created)."""
    user = User.objects.filter(pk=email_address.user_id).first()
    if user is None or user.is_staff or email_address.email.lower() != user.email.lower():
        return  # staff logins are not members; a second address of a login claims nothing
    member, refused = member_create_for_user(user=user, referral_code=user.signup_referral_code or None)
    # What the sign-up gave: the language it was made in, the birthday and the marketing consent (if any).
    language = translation.get_language()
    member_profile_update(
        member=member, language=language if not member.language and language in LANGUAGE_CODES else None,
        birthday=user.signup_birthday if member.birthday is None else None,
        marketing_consent=True if user.signup_marketing_consent else None)
    if user.signup_referral_code or user.signup_birthday or user.signup_marketing_consent:
        User.objects.filter(pk=user.pk).update(signup_referral_code="", signup_birthday=None,
                                               signup_marketing_consent=False)
    if refused and request is not None:
        messages.warning(request, _("Your friend's referral code was not applied: %(reason)s") % {"reason": refused})
    log.info("member %s linked to login %s on e-mail verification", member.pk, user.pk)


def on_password_reset(sender, request, user, **kwargs) -> None:
    """allauth's `password_reset`: drop a referral code waiting from the sign-up (it may be a stranger's)."""
    if user.signup_referral_code:
        User.objects.filter(pk=user.pk).update(signup_referral_code="")


def on_logged_in(sender, request, user, **kwargs) -> None:
    """Django's `user_logged_in`: a member who chose a language gets it on this browser too
    (members.middleware.MemberLanguageMiddleware reads it from the session)."""
    language = member_language_chosen(user=user)
    if language and request is not None and hasattr(request, "session"):
        request.session[MEMBER_LANGUAGE_SESSION_KEY] = language
