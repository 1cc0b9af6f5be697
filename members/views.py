"""Portal pages owned by members: the home page."""

from django.shortcuts import render

from members.selectors import member_for_user, tier_next


def home(request):
    """Guests see what the program offers; members see their number, balance and tier."""
    if not request.user.is_authenticated:
        return render(request, "portal/welcome.html")
    member = member_for_user(user=request.user)
    return render(
        request,
        "portal/home.html",
        {"member": member, "next_tier": tier_next(tier=member.tier) if member else None},
    )
