"""Portal pages owned by campaigns: "For you", the offers made for the member (with "Activate")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.selectors import member_offers, rewards_for_member
from campaigns.services.offers import offer_activate
from config.exceptions import DomainError, NotFound
from loyalty.selectors import points_expiring_get, tier_progress_get
from members.views import member_required


@member_required
def offers(request):
    """"For you": what is true for this member now (tier progress, points about to expire), their offers, and the
    rewards ranked for them (campaigns.selectors.rewards_for_member)."""
    member, now = request.member, timezone.now()
    progress = tier_progress_get(member=member, now=now)
    return render(request, "portal/offers.html", {
        "rows": member_offers(member=member, now=now), "now": now, "progress": progress,
        "expiring": points_expiring_get(member_id=member.pk, now=now),
        "ranked": rewards_for_member(member=member, now=now),
    })


@login_required
@require_POST
@member_required(no_member_redirect="portal:home")
def activate(request, offer_id: int):
    try:
        offer_activate(member=request.member, offer_id=offer_id)
    except NotFound as exc:  # not this member's offer (or held out): the 404 page
        raise Http404(exc.detail) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Activated: your next qualifying purchase gets it."))
    return redirect("portal:offers")
