"""Portal pages owned by members."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.exceptions import DomainError
from config.throttling import member_write_limit
from members.forms import AccountDeleteForm, ProfileForm
from members.middleware import MEMBER_LANGUAGE_SESSION_KEY
from members.models import Member
from members.selectors import member_for_user
from members.services import language_validate, member_erase, member_profile_update, personal_data_export


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
        messages.info(request, _("A friend invited you: join now and you both get bonus points after your first "
                                 "purchase. (Their code is applied; no need to type it.)"))
    else:
        messages.warning(request, _("This invitation link is not valid any more. You can still join."))
    return redirect("account_signup")


@require_POST
def language_set(request):
    """The language switcher on every page (a plain form: no JavaScript needed). Sets the language cookie and, for a
    logged-in member, remembers the choice (`Member.language`, used for their e-mails too). An unknown language
    changes nothing."""
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    try:
        language = language_validate(request.POST.get("language", ""))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return response
    member = member_for_user(user=request.user)
    if member is not None:
        member_profile_update(member=member, language=language)
    if hasattr(request, "session") and request.user.is_authenticated:
        request.session[MEMBER_LANGUAGE_SESSION_KEY] = language
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    return response


# ------------------------------------------------------------------------------------------------ profile
@member_required
def profile(request):
    """The member's profile: names, display name and leaderboard visibility, birthday (once), language,
    marketing consent; links to the e-mail and password pages; their data and the account's deletion."""
    member = request.member
    initial = {"first_name": member.first_name, "last_name": member.last_name, "display_name": member.display_name,
               "leaderboard_visibility": member.leaderboard_visibility, "birthday": member.birthday,
               "language": member.language or translation.get_language(),
               "marketing_consent": member.marketing_consent}
    form = ProfileForm(request.POST or None, initial=initial, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = member_profile_update(
                member=member, first_name=data["first_name"], last_name=data["last_name"],
                display_name=data["display_name"], leaderboard_visibility=data["leaderboard_visibility"],
                birthday=data["birthday"] if member.birthday is None else None, language=data["language"],
                marketing_consent=data["marketing_consent"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
        else:
            request.session[MEMBER_LANGUAGE_SESSION_KEY] = member.language
            translation.activate(member.language)
            messages.success(request, _("Your profile is saved."))
            response = redirect("portal:profile")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, member.language, max_age=settings.LANGUAGE_COOKIE_AGE,
                                samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE)
            return response
    return render(request, "portal/profile.html", {"member": member, "form": form})


@member_required
def profile_data(request):
    """"Download my data": everything held of the member as one JSON file."""
    member = request.member
    response = JsonResponse(personal_data_export(member=member), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="personal-data-{member.member_number}.json"'
    return response


@member_required
def profile_delete(request):
    """"Delete my account", confirmed with the password: personal data erased, the login deleted, the member
    logged out; then a goodbye page."""
    member = request.member
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_write_limit(member_id=member.pk, action="erasure")
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            if not request.user.check_password(form.cleaned_data["password"]):
                form.add_error("password", _("The password is not correct."))
            else:
                member_erase(member=member, reason="")
                logout(request)
                return render(request, "portal/goodbye.html")
    return render(request, "portal/profile_delete.html", {"member": member, "form": form})
