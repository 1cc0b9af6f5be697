"""Portal pages: the member's home (balance, pending, tier progress, expiring points) and points history."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render

from config.periods import local_midnight
from loyalty import selectors
from loyalty.forms import ActivityFilterForm
from members.portal import home_sections
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
            # When the next pending points become spendable (the end of the earliest return window).
            next_pending=(selectors.purchases_pending_list(member=member).only("confirm_after", "points_pending")
                          .first() if member.pending_points else None),
            sections=home_sections(member=member),
        )
    return render(request, "portal/home.html", context)


@member_required
def points_history(request):
    member = request.member
    entries = selectors.ledger_list(member=member).select_related(*selectors.LEDGER_TEXT_RELATED)
    form = ActivityFilterForm(request.GET)
    query, filtered = "", False
    if form.is_valid():  # a bad filter shows its error and the whole history
        data = form.cleaned_data
        if data["kind"]:
            entries = entries.filter(kind=data["kind"])
        if data["since"]:
            entries = entries.filter(created_at__gte=local_midnight(data["since"]))
        if data["until"]:
            entries = entries.filter(created_at__lt=local_midnight(data["until"] + timedelta(days=1)))
        given = {name: request.GET[name] for name in ("kind", "since", "until") if data.get(name)}
        query, filtered = ("&" + urlencode(given) if given else ""), bool(given)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    # What members read (e.member_description): a sentence in their language, never a staff member's name.
    page.object_list = selectors.ledger_entries_describe(entries=page.object_list)
    pending = selectors.purchases_pending_list(member=member)[:50]
    return render(request, "portal/points.html", {"member": member, "page": page, "pending": pending,
                                                  "form": form, "query": query, "filtered": filtered})
