"""Portal pages owned by members."""

from django.contrib import messages
from django.shortcuts import redirect

from members.models import Member


def referral_landing(request, code: str):
    """A friend's invitation link: remember the code for sign-up, then show the sign-up page."""
    code = code.strip().upper()
    if Member.objects.filter(referral_code=code).exists():
        request.session["referral_code"] = code
        messages.info(request, "A friend invited you: join now and you both get bonus points after your first "
                               "purchase. (Their code is applied; no need to type it.)")
    else:
        messages.warning(request, "This invitation link is not valid any more. You can still join.")
    return redirect("account_signup")
