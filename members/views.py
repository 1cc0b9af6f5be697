"""Portal pages owned by members."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from config.exceptions import DomainError
from config.throttling import member_write_limit
from members.card import member_barcode_svg, member_qr_svg
from members.formatting import number_format
from members.forms import REFERRAL_SESSION_KEY, AccountDeleteForm, ProfileForm
from members.middleware import MEMBER_LANGUAGE_SESSION_KEY
from members.models import Member
from members.selectors import member_for_user
from members.services import language_validate, member_erase, member_profile_update, personal_data_export
from members.services.consent import ConsentLinkInvalid, consent_token_read, marketing_consent_confirm


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
    """A friend's invitation link: remember the code for sign-up (the sign-up form shows it filled in, see
    members.forms.SignupForm), then show the sign-up page. Someone already logged in is not signing up; a code
    that belongs to no member (or to an erased one) is a 404 that still offers to join."""
    code = code.strip().upper()
    if request.user.is_authenticated:
        messages.info(request, _("You are logged in already: invitation links are for people who are not members "
                                 "yet. Share your own link from the referrals page."))
        return redirect("portal:home")
    if not Member.objects.filter(referral_code=code, erased_at__isnull=True).exists():
        # An unknown or erased member's code: 404, and an earlier link's code must not apply silently.
        request.session.pop(REFERRAL_SESSION_KEY, None)
        return render(request, "portal/referral_invalid.html", status=404)
    request.session[REFERRAL_SESSION_KEY] = code
    messages.info(request, " ".join(_referral_invitation_sentences(code)))
    return redirect("account_signup")


def _referral_invitation_sentences(code: str) -> list[str]:
    """What the invited friend reads above the sign-up form: whole sentences, each translated on its own,
    saying only what the configured bonuses make true."""
    sentences = [_("A friend invited you: their referral code %(code)s is filled in below.") % {"code": code}]
    referred, referrer = settings.FIDELIO_REFERRAL_BONUS_REFERRED, settings.FIDELIO_REFERRAL_BONUS_REFERRER
    if referred > 0:
        sentences.append(ngettext(
            "Join now: once your first purchase is confirmed, you get %(count)s bonus point.",
            "Join now: once your first purchase is confirmed, you get %(count)s bonus points.",
            referred) % {"count": number_format(referred)})
    if referrer > 0:
        sentences.append(ngettext(
            "Your friend then gets %(count)s bonus point as a thank-you.",
            "Your friend then gets %(count)s bonus points as a thank-you.",
            referrer) % {"count": number_format(referrer)})
    return sentences


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
            if getattr(member, "consent_confirmation_sent", False):
                messages.info(request, _("We have sent you an e-mail: confirm there that you want our news."))
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


# ------------------------------------------------------------------------------------------------ member card
@member_required
def card(request):
    """The member card to show at the till: program, name, tier, the member number in large type, its QR code
    and Code 128 barcode (images from `card_qr` and `card_barcode`); static/css/card.css prints it card-sized."""
    member = request.member
    name = member.display_name or " ".join(part for part in (member.first_name, member.last_name) if part)
    return render(request, "portal/card.html", {"member": member, "name": name})


def _svg_response(content: bytes) -> HttpResponse:
    """An image only the logged-in member may see, at a URL every member shares: never cached."""
    response = HttpResponse(content, content_type="image/svg+xml")
    response["Content-Disposition"] = "inline"
    add_never_cache_headers(response)
    return response


@member_required(no_member_redirect="portal:home")
def card_qr(request):
    """The QR code of the logged-in member's number (no member id in the URL: nobody else's number)."""
    return _svg_response(member_qr_svg(member_number=request.member.member_number))


@member_required(no_member_redirect="portal:home")
def card_barcode(request):
    """The Code 128 barcode of the logged-in member's number."""
    return _svg_response(member_barcode_svg(member_number=request.member.member_number))


# ------------------------------------------------------------------------------------------------ referrals
REFERRALS_PER_PAGE = 25


def _referred_public_name(friend: Member) -> str:
    """What a member sees of a friend they invited: what the friend shows others (display name or pseudonym,
    as on the leaderboards), never their e-mail address or full name."""
    if friend.is_erased:
        return _("Former member")
    if friend.leaderboard_visibility == Member.LeaderboardVisibility.NAME and friend.display_name:
        return friend.display_name
    return _("Member %(digits)s") % {"digits": friend.member_number[-4:]}


@member_required
def referrals(request):
    """The member's referral code and invitation link, what an invitation earns (the configured bonuses) and
    the friends who joined with it: signed up, or first purchase confirmed (with the bonus paid when one is
    configured). Two queries for any number of friends: the figures and one page of them."""
    member = request.member
    friends = Member.objects.filter(referred_by_id=member.pk)
    figures = friends.aggregate(total=Count("pk"), confirmed=Count("pk", filter=Q(referral_rewarded_at__isnull=False)))
    rows = (friends.annotate(joined_at=Coalesce("user__date_joined", "created_at"))
            .only("pk", "member_number", "display_name", "leaderboard_visibility", "referral_rewarded_at",
                  "erased_at", "created_at")
            .order_by("-joined_at", "-pk"))
    paginator = Paginator(rows, REFERRALS_PER_PAGE)
    paginator.count = figures["total"]  # known already: no second COUNT query
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for friend in page.object_list:
        friend.public_name = _referred_public_name(friend)
    return render(request, "portal/referrals.html", {
        "member": member, "page": page, "figures": figures,
        "share_url": request.build_absolute_uri(reverse("portal:referral", kwargs={"code": member.referral_code})),
        "bonus_referrer": settings.FIDELIO_REFERRAL_BONUS_REFERRER,
        "bonus_referred": settings.FIDELIO_REFERRAL_BONUS_REFERRED,
        "return_window_days": settings.FIDELIO_RETURN_WINDOW_DAYS,
    })


# ------------------------------------------------------------------------------------ double opt-in
def consent_confirm(request, consent_token: str):
    """The link of the double opt-in mail: GET asks (a mail scanner following links confirms nothing), POST
    records the consent. No log-in needed: the signed link is the credential."""
    try:
        consent_token_read(token=consent_token)
    except ConsentLinkInvalid as exc:
        return render(request, "portal/consent_confirm.html", {"error": exc.detail}, status=400)
    if request.method == "POST":
        try:
            marketing_consent_confirm(token=consent_token)
        except ConsentLinkInvalid as exc:
            return render(request, "portal/consent_confirm.html", {"error": exc.detail}, status=400)
        return render(request, "portal/consent_confirm.html", {"confirmed": True})
    return render(request, "portal/consent_confirm.html", {})
