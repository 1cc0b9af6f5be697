"""Portal pages owned by members."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from members.models import Member
from members.selectors import member_for_user


def member_required(view=None, *, no_member_redirect: str | None = None):
    """The start of every member portal page: login required (the login page otherwise), then the login's
    member attached as `request.member`. A login without one (a staff account) gets the "not a loyalty member"
    page, or a redirect to the URL name `no_member_redirect` where the page only makes sense for a member.

    Lives in members (the lowest app, which every app may import) rather than in the shared core: it needs
    members' selector and page. A view that also restricts its methods keeps `login_required` above the
    method decorator and this one below it, so the method check still comes before the member check."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            member = member_for_user(user=request.user)
            if member is None:
                if no_member_redirect:
                    return redirect(no_member_redirect)
                return render(request, "portal/home.html", {"member": None})
            request.member = member
            return view_func(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator(view) if view is not None else decorator


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
