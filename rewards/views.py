"""Portal pages for rewards: catalog, reward page, redeem (with a confirmation step), my vouchers (code, QR
code, expiry) and cancelling a voucher. Also the safe serving of reward images."""

from __future__ import annotations

import uuid
from pathlib import Path

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.exceptions import DomainError
from config.idempotency import idempotency_key_validate
from members.views import member_required
from rewards import selectors
from rewards.models import Redemption, Reward
from rewards.services import reward_redeem, voucher_cancel

_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def reward_image(request, name: str):
    """A reward image, by its random name only, with a fixed image content type and headers that stop a
    browser from sniffing or running anything in it (nginx can serve MEDIA_ROOT the same way)."""
    path = Path(settings.MEDIA_ROOT) / "rewards" / name
    if not path.is_file():
        raise Http404(_("No such image."))
    response = FileResponse(path.open("rb"), content_type=_IMAGE_TYPES[path.suffix])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "public, max-age=604800, immutable"  # random names: a new image is a new URL
    return response


@member_required
def catalog(request):
    member = request.member
    kind = request.GET.get("kind") or ""
    if kind not in Reward.Kind.values:
        kind = ""
    affordable = request.GET.get("affordable") == "1"
    qs = selectors.reward_list_available(kind=kind or None, affordable_for=member if affordable else None)
    page = Paginator(qs, 24).get_page(request.GET.get("page"))
    eligibility = selectors.reward_eligibility_many(member=member, rewards=list(page))
    rows = [(reward, eligibility[reward.pk]) for reward in page]
    query = (f"&kind={kind}" if kind else "") + ("&affordable=1" if affordable else "")
    return render(request, "portal/rewards.html", {
        "member": member, "page": page, "rows": rows, "kinds": Reward.Kind.choices, "kind": kind,
        "affordable": affordable, "filtered": bool(kind or affordable), "query": query,
    })


def _available_reward(reward_id: int) -> Reward:
    reward = selectors.reward_list_available().filter(pk=reward_id).first()
    if reward is None:
        raise Http404(_("This reward is not in the catalog."))
    return reward


@member_required
def reward_detail(request, reward_id: int):
    member = request.member
    reward = _available_reward(reward_id)
    eligibility = selectors.reward_eligibility_many(member=member, rewards=[reward])[reward.pk]
    return render(request, "portal/reward.html", {"member": member, "reward": reward, "eligibility": eligibility})


@login_required
@transaction.non_atomic_requests  # the service's own transaction is the outermost: a refusal can be shown
@require_http_methods(["GET", "POST"])
@member_required
def redeem(request, reward_id: int):
    """GET: the confirmation step (with a fresh idempotency key in the form). POST: redeem, once per key."""
    member = request.member
    reward = _available_reward(reward_id)
    if request.method == "GET":
        eligibility = selectors.reward_eligibility_many(member=member, rewards=[reward])[reward.pk]
        return render(request, "portal/redeem_confirm.html", {
            "member": member, "reward": reward, "eligibility": eligibility, "idempotency_key": uuid.uuid4().hex,
            "balance_after": member.points_balance - reward.cost_points,
        })
    try:
        key = idempotency_key_validate(request.POST.get("idempotency_key"), required=True)
        redemption, created = reward_redeem(
            member_id=member.pk, reward_id=reward.pk, source=Redemption.Source.PORTAL,
            idempotency_scope=f"member:{member.pk}", idempotency_key=key,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("portal:reward", reward_id=reward.pk)
    if created:
        messages.success(request, _("Done! %(name)s is yours. Show this voucher at checkout.") % {"name": reward.name})
    return redirect("portal:voucher", voucher_id=redemption.voucher.pk)


@member_required
def vouchers(request):
    member = request.member
    page = Paginator(selectors.voucher_list(member=member), 25).get_page(request.GET.get("page"))
    return render(request, "portal/vouchers.html", {"member": member, "page": page})


def _own_voucher(member, voucher_id: int):
    voucher = selectors.voucher_get_for_member(member=member, voucher_id=voucher_id)
    if voucher is None:
        raise Http404(_("No such voucher."))
    return voucher


@member_required
def voucher_detail(request, voucher_id: int):
    member = request.member
    voucher = _own_voucher(member, voucher_id)
    qr = None
    if voucher.status == voucher.Status.ISSUED and not voucher.is_expired():
        # Rendered here as inline SVG (no JavaScript, no image request). Its only input is the voucher code,
        # drawn from our own alphabet, so the markup is safe to embed.
        qr = mark_safe(segno.make(voucher.code, error="m").svg_inline(scale=5, dark="#1f2937", omitsize=True))  # noqa: S308
    return render(request, "portal/voucher.html", {"member": member, "voucher": voucher, "qr": qr})


@login_required
@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
@member_required
def voucher_cancel_view(request, voucher_id: int):
    member = request.member
    voucher = _own_voucher(member, voucher_id)
    if request.method == "GET":
        return render(request, "portal/voucher_cancel.html", {"member": member, "voucher": voucher})
    try:
        voucher_cancel(voucher_id=voucher.pk, member_id=member.pk, reason="Cancelled by the member")
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The voucher is cancelled and its points are back in your balance."))
    return redirect("portal:voucher", voucher_id=voucher.pk)
