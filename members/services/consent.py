"""Double opt-in for marketing e-mail (FIDELIO_DOUBLE_OPT_IN): giving consent sends a signed link to the member's
address; the consent counts, with its time and the wording agreed to, only once the link is confirmed. Without
double opt-in, `member_profile_update` records the consent at once."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exceptions import DomainError
from members.mail import mail_queue
from members.models import Member

CONSENT_SALT = "members.marketing-consent"
CONSENT_LINK_MAX_AGE = 7 * 24 * 3600  # a week to confirm


class ConsentLinkInvalid(DomainError):
    code = "consent_link_invalid"
    status_code = 400
    default_detail = "This confirmation link is not valid or has expired."


def consent_token_make(*, member: Member, wording: str) -> str:
    return signing.dumps({"m": member.pk, "e": member.email.lower(), "w": wording}, salt=CONSENT_SALT,
                         compress=True)


def consent_confirmation_send(*, member: Member, wording: str) -> None:
    """Mail the confirmation link (after commit, through Celery), in the member's language."""
    if not member.email:
        return
    token = consent_token_make(member=member, wording=wording)
    url = settings.FIDELIO_PUBLIC_URL + reverse("portal:consent-confirm", kwargs={"consent_token": token})
    mail_queue("members/consent_confirm", to=member.email, language=member.language,
               context={"first_name": member.first_name, "confirm_url": url},
               key=f"consent-confirm:{member.pk}:{signing.dumps(token)[-16:]}")


def consent_token_read(*, token: str) -> dict:
    try:
        data = signing.loads(token, salt=CONSENT_SALT, max_age=CONSENT_LINK_MAX_AGE)
    except signing.BadSignature as exc:  # tampered or expired (SignatureExpired is a BadSignature)
        raise ConsentLinkInvalid(_("This confirmation link is not valid or has expired.")) from exc
    return data


@transaction.atomic
def marketing_consent_confirm(*, token: str, now: datetime | None = None) -> Member:
    """Record the consent the link carries (its wording, now). Confirming twice changes nothing; a link for an
    address the member no longer has, or for an erased member, is refused."""
    data = consent_token_read(token=token)
    member = Member.objects.select_for_update().filter(pk=data["m"], erased_at__isnull=True).first()
    if member is None or member.email.lower() != data["e"]:
        raise ConsentLinkInvalid(_("This confirmation link is not valid or has expired."))
    if not member.marketing_consent:
        member.marketing_consent = True
        member.marketing_consent_at = now or timezone.now()
        member.marketing_consent_wording = data["w"]
        member.save(update_fields=["marketing_consent", "marketing_consent_at", "marketing_consent_wording",
                                   "updated_at"])
    return member
