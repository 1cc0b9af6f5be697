"""Portal pages for challenges (progress bars, time left, opt-in) and badges (earned and locked)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.exceptions import DomainError, NotFound
from loyalty.challenges import badges_for_member, challenge_board, challenge_join, challenges_for_member
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
        messages.success(request, "You're in! Your progress counts from now.")
    return redirect("portal:challenges")


@member_required(no_member_redirect="portal:home")
def board(request, challenge_id: int):
    member = request.member
    try:
        board = challenge_board(challenge_id=challenge_id, member=member)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return render(request, "portal/challenge_board.html", {"member": member, "board": board})
