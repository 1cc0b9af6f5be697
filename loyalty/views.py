"""Portal pages: the member's home (balance, pending, tier progress, expiring points) and points history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from loyalty import selectors
from loyalty.selectors import ledger_entry_member_description
from members.selectors import member_for_user
from members.views import member_required


def home(request):
    """Guests see what the program offers; members see where they stand."""
    if not request.user.is_authenticated:
        return render(request, "portal/welcome.html")
    member = member_for_user(user=request.user)
    context = {"member": member}
    if member is not None:
        progress = selectors.tier_progress_get(member=member)
        if progress["threshold"]:
            progress["percent"] = min(100, int(progress["qualifying"] * 100 / progress["threshold"]))
        context.update(
            progress=progress,
            expiring=selectors.points_expiring_get(member_id=member.pk),
            referral_url=request.build_absolute_uri(f"/r/{member.referral_code}/"),
        )
    return render(request, "portal/home.html", context)


@member_required
def points_history(request):
    member = request.member
    page = Paginator(selectors.ledger_list(member=member).select_related("purchase"), 25).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    for entry in page.object_list:  # what members read: staff adjustments name no staff member
        entry.member_description = ledger_entry_member_description(entry=entry)
    pending = selectors.purchases_pending_list(member=member)[:50]
    return render(request, "portal/points.html", {"member": member, "page": page, "pending": pending})
