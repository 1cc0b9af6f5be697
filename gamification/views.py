"""Portal pages for challenges (progress bars, time left, opt-in), badges (earned and locked) and the leaderboards
(this week's, this month's and the all-time top 100 with "you are here", and the small form that sets how the
member appears on them: display name, pseudonym or hidden)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from config.exceptions import DomainError, NotFound
from gamification.selectors import leaderboards
from gamification.selectors.challenges import badges_for_member, challenge_board, challenges_for_member
from gamification.services.challenges import challenge_join
from members.models import Member
from members.services import DISPLAY_NAME_MAX, member_profile_update
from members.views import member_required


@member_required
def challenges(request):
    member = request.member
    return render(request, "portal/challenges.html", {
        "member": member, "rows": challenges_for_member(member=member), "now": timezone.now(),
        "badges": badges_for_member(member=member),
    })


@login_required
@require_POST
@member_required(no_member_redirect="portal:home")
def join(request, challenge_id: int):
    member = request.member
    try:
        challenge_join(challenge_id=challenge_id, member=member)
    except NotFound as exc:  # no such (active) challenge: the 404 page, not a message on the board
        raise Http404(exc.detail) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("You're in! Your progress counts from now."))
    return redirect("portal:challenges")


@member_required(no_member_redirect="portal:home")
def board(request, challenge_id: int):
    member = request.member
    try:
        board = challenge_board(challenge_id=challenge_id, member=member)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return render(request, "portal/challenge_board.html", {"member": member, "board": board})


# ---------------------------------------------------------------------------------------------- leaderboards
class LeaderboardSettingsForm(forms.Form):
    leaderboard_visibility = forms.ChoiceField(
        label=gettext_lazy("Show me on the leaderboards as"), choices=Member.LeaderboardVisibility.choices,
        widget=forms.RadioSelect,
    )
    display_name = forms.CharField(
        label=gettext_lazy("Display name"), max_length=DISPLAY_NAME_MAX, required=False, strip=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["display_name"].help_text = ngettext(  # built per request: in the member's language
            "Up to %(count)d character, no markup.", "Up to %(count)d characters, no markup.", DISPLAY_NAME_MAX,
        ) % {"count": DISPLAY_NAME_MAX}


def _period_label(name: str) -> str:
    """The leaderboard tab's name: Weekly, Monthly, All time."""
    labels = {"weekly": pgettext("leaderboard", "Weekly"), "monthly": pgettext("leaderboard", "Monthly"),
              "all-time": pgettext("leaderboard", "All time")}
    return labels.get(name) or name.replace("-", " ").capitalize()


@member_required
def leaderboard(request, period: str = "weekly"):
    member = request.member
    if period not in leaderboards.PERIODS:
        raise Http404(_("No such leaderboard."))
    board = leaderboards.period_get(name=period)
    top = leaderboards.board_top(period=board, viewer_id=member.pk)
    around = leaderboards.board_around(period=board, member=member)
    in_top = any(row["is_me"] for row in top["results"])
    form = LeaderboardSettingsForm(initial={"leaderboard_visibility": member.leaderboard_visibility,
                                            "display_name": member.display_name})
    return render(request, "portal/leaderboard.html", {
        "member": member, "board": board, "top": top, "around": around, "in_top": in_top, "form": form,
        # program-time dates (the template's date filter would show them in UTC)
        "first_day": board.starts_at.date() if board.starts_at else None,
        "last_day": (board.ends_at - timedelta(days=1)).date() if board.ends_at else None,
        "periods": [(name, _period_label(name)) for name in leaderboards.PERIODS],
    })


@login_required
@require_POST
@member_required(no_member_redirect="portal:home")
def leaderboard_settings(request):
    member = request.member
    form = LeaderboardSettingsForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("portal:leaderboards")
    try:
        member_profile_update(member=member, display_name=form.cleaned_data["display_name"],
                              leaderboard_visibility=form.cleaned_data["leaderboard_visibility"])
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Saved: the leaderboards show you the new way."))
    return redirect("portal:leaderboards")
