"""Portal pages owned by members."""

from django.contrib import messages
from django.shortcuts import redirect, render

from members.models import Member
from members.selectors import member_for_user


def member_or_empty_page(request):
    """(the logged-in user's member, None), or (None, the "not a loyalty member" page) for a login without
    one (staff accounts): the start of every member portal page."""
    member = member_for_user(user=request.user)
    if member is None:
        return None, render(request, "portal/home.html", {"member": None})
    return member, None


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
