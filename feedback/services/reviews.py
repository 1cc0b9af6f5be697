"""Product reviews: writing (verified purchase or not), the one edit within 48 hours, moderation (approve with
an optional bonus and a challenge event, reject with a reason), the public listing with its average, and the
authenticity signals moderators see.

Text is stored exactly as written (HTML included) and escaped wherever it is shown; nothing here marks
anything safe.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from config.exceptions import Conflict, DomainError, Gone, NotFound
from feedback.models import TEXT_MAX, Review
from gamification.services.challenges import Event, challenge_event_record
from loyalty.ledger import points_credit
from loyalty.models import LedgerEntry, Purchase, PurchaseItem
from members.models import Member
from members.selectors import member_public_name

EDIT_WINDOW = timedelta(hours=48)
SKU_MAX = Review._meta.get_field("sku").max_length
TITLE_MAX = Review._meta.get_field("title").max_length
PRODUCT_NAME_MAX = Review._meta.get_field("product_name").max_length
REASON_MAX = Review._meta.get_field("rejection_reason").max_length

# Authenticity signals (what moderators see next to each review).
BURST_COUNT = 3  # this many reviews by one member ...
BURST_WINDOW = timedelta(hours=24)  # ... within this long
NEW_ACCOUNT_AGE = timedelta(days=7)  # the member joined less than this before the review
RATING_GAP = 2  # |rating - the member's average of their other reviews| at least this
DUPLICATE_RATIO = 0.9  # difflib ratio of the normalised texts
DUPLICATE_CANDIDATES = 20  # newest other reviews compared per SKU and per member (bounded work)
DUPLICATE_CHARS = 2000  # compare at most this much of each text


# ------------------------------------------------------------------------------------------------ errors
class ReviewExists(Conflict):
    code = "review_exists"
    default_detail = gettext_lazy("You have already reviewed this product; edit your review instead.")


class ReviewNotFound(NotFound):
    code = "review_not_found"
    default_detail = gettext_lazy("No such review.")


class ReviewAlreadyEdited(Conflict):
    code = "review_already_edited"
    default_detail = gettext_lazy("A review can be edited only once, and this one already has been.")


class ReviewEditWindowClosed(Gone):
    code = "review_edit_window_closed"
    default_detail = gettext_lazy("A review can be edited only within 48 hours of writing it.")


class NotYourMember(DomainError):
    code = "member_mismatch"
    status_code = 403
    default_detail = gettext_lazy("You can only write reviews as yourself.")


# ------------------------------------------------------------------------------------------------ helpers
def _clean_text(value, *, field: str, max_length: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise DomainError(gettext("%(field)s must be text.") % {"field": field}, field=field, code=f"invalid_{field}")
    value = value.strip()
    if "\x00" in value:
        raise DomainError(gettext("%(field)s contains a NUL character.") % {"field": field}, field=field,
                          code=f"invalid_{field}")
    if required and not value:
        raise DomainError(gettext("%(field)s is required.") % {"field": field}, field=field, code=f"{field}_required")
    if len(value) > max_length:
        length, limit = len(value), number_format(max_length, force_grouping=True)
        raise DomainError(ngettext("%(field)s is %(count)d character long; at most %(max)s are allowed.",
                                   "%(field)s is %(count)d characters long; at most %(max)s are allowed.", length)
                          % {"field": field, "count": length, "max": limit}, field=field, code=f"{field}_too_long")
    return value


def _clean_rating(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise DomainError(gettext("rating is a whole number from 1 to 5."), field="rating", code="invalid_rating")
    return value


def review_purchase_items(*, member_id: int, sku: str, now: datetime) -> QuerySet[PurchaseItem]:
    """The member's purchase items of `sku` whose return window has passed and that were not fully returned."""
    return PurchaseItem.objects.filter(
        sku=sku, purchase__member_id=member_id,
    ).filter(
        Q(purchase__confirmed_at__isnull=False) | Q(purchase__confirm_after__lte=now),
    ).exclude(purchase__status=Purchase.Status.RETURNED)


def review_is_verified(*, member_id: int, sku: str, now: datetime) -> bool:
    return review_purchase_items(member_id=member_id, sku=sku, now=now).exists()


# ----------------------------------------------------------------------------------------------- services
@transaction.atomic
def review_create(*, member: Member, sku: str, rating, title, text, product_name: str = "",
                  now: datetime | None = None) -> Review:
    """The member reviews a product (once per SKU). Verified when they bought it and its return window has
    passed; otherwise it is shown as unverified. Every review waits for moderation."""
    now = now or timezone.now()
    sku = _clean_text(sku, field="sku", max_length=SKU_MAX)
    rating = _clean_rating(rating)
    title = _clean_text(title, field="title", max_length=TITLE_MAX)
    text = _clean_text(text, field="text", max_length=TEXT_MAX)
    product_name = _clean_text(product_name or "", field="product_name", max_length=PRODUCT_NAME_MAX,
                               required=False)
    if Review.objects.filter(member_id=member.pk, sku=sku).exists():
        raise ReviewExists(field="sku")
    bought_name = (PurchaseItem.objects.filter(sku=sku, purchase__member_id=member.pk).exclude(name="")
                   .values_list("name", flat=True).first())
    try:
        with transaction.atomic():
            return Review.objects.create(
                member_id=member.pk, sku=sku, product_name=bought_name or product_name, rating=rating, title=title,
                text=text, verified=review_is_verified(member_id=member.pk, sku=sku, now=now), created_at=now,
            )
    except IntegrityError as exc:  # a concurrent first review of the same product
        raise ReviewExists(field="sku") from exc


@transaction.atomic
def review_edit(*, member: Member, review_id: int, rating=None, title=None, text=None,
                now: datetime | None = None) -> Review:
    """The member's one edit, within 48 hours of writing the review. It goes back to moderation."""
    now = now or timezone.now()
    review = Review.objects.select_for_update().filter(pk=review_id, member_id=member.pk).first()
    if review is None:
        raise ReviewNotFound()
    if review.edited_at is not None:
        raise ReviewAlreadyEdited()
    if now - review.created_at > EDIT_WINDOW:
        raise ReviewEditWindowClosed()
    if rating is None and title is None and text is None:
        raise DomainError(gettext("Change the rating, the title or the text."), code="nothing_to_change")
    if rating is not None:
        review.rating = _clean_rating(rating)
    if title is not None:
        review.title = _clean_text(title, field="title", max_length=TITLE_MAX)
    if text is not None:
        review.text = _clean_text(text, field="text", max_length=TEXT_MAX)
    review.verified = review_is_verified(member_id=member.pk, sku=review.sku, now=now)
    review.edited_at = now
    review.status = Review.Status.PENDING
    review.rejection_reason = ""
    review.moderated_by = None
    review.moderated_at = None
    review.save(update_fields=["rating", "title", "text", "verified", "edited_at", "status", "rejection_reason",
                               "moderated_by", "moderated_at"])
    return review


@transaction.atomic
def review_approve(*, review_id: int, by, now: datetime | None = None) -> Review:
    """Publish a review. The verified flag is refreshed first (the return window may have passed since, or the
    product gone back). A verified review earns FIDELIO_REVIEW_BONUS_POINTS once (idempotency key
    review:<id>) and counts for review challenges. Approving an approved review changes nothing."""
    now = now or timezone.now()
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise ReviewNotFound()
    if review.status == Review.Status.APPROVED:
        return review
    review.verified = review_is_verified(member_id=review.member_id, sku=review.sku, now=now)
    review.status = Review.Status.APPROVED
    review.rejection_reason = ""
    review.moderated_by = by
    review.moderated_at = now
    bonus = settings.FIDELIO_REVIEW_BONUS_POINTS
    if bonus > 0 and review.verified and review.bonus_entry_id is None:
        review.bonus_entry = points_credit(
            member=review.member_id, points=bonus, kind=LedgerEntry.Kind.BONUS,
            description=f"Review of {review.product_name or review.sku}", idempotency_key=f"review:{review.pk}",
            now=now,
        )
    review.save(update_fields=["verified", "status", "rejection_reason", "moderated_by", "moderated_at",
                               "bonus_entry"])
    challenge_event_record(
        event=Event(kind="review", key=f"review:{review.pk}", member_id=review.member_id, occurred_at=now), now=now,
    )
    return review


@transaction.atomic
def review_reject(*, review_id: int, by, reason: str, now: datetime | None = None) -> Review:
    """Refuse a review with a reason the member sees. (A bonus already paid for an earlier approval stays.)"""
    now = now or timezone.now()
    reason = _clean_text(reason, field="reason", max_length=REASON_MAX)
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise ReviewNotFound()
    review.status = Review.Status.REJECTED
    review.rejection_reason = reason
    review.moderated_by = by
    review.moderated_at = now
    review.save(update_fields=["status", "rejection_reason", "moderated_by", "moderated_at"])
    return review


# ---------------------------------------------------------------------------------------------- selectors
def review_list_approved(*, sku: str) -> QuerySet[Review]:
    return (Review.objects.filter(sku=sku, status=Review.Status.APPROVED)
            .select_related("member").order_by("-created_at", "-pk"))


def review_reviewer_name(*, review: Review) -> str:
    """The reviewer as the public sees them. A member hidden from the leaderboards is a neutral label — no
    name and no part of the member number; the others as on the boards (display name or "Member 1234")."""
    m = review.member
    if m.erased_at is not None:
        return gettext("Former member")
    if m.leaderboard_visibility == Member.LeaderboardVisibility.HIDDEN:
        return gettext("Verified customer") if review.verified else gettext("Customer")
    return member_public_name(display_name=m.display_name, member_number=m.member_number,
                       visibility=m.leaderboard_visibility)


def review_product_summary(*, sku: str) -> dict:
    """Approved reviews of a SKU: {"count": n, "average": float or None}, in one query."""
    row = Review.objects.filter(sku=sku, status=Review.Status.APPROVED).aggregate(count=Count("pk"),
                                                                                 average=Avg("rating"))
    return {"count": row["count"], "average": row["average"]}


def review_list_for_member(*, member: Member) -> QuerySet[Review]:
    return Review.objects.filter(member_id=member.pk).order_by("-created_at", "-pk")


def review_get_for_member(*, member: Member, review_id: int) -> Review:
    review = Review.objects.filter(pk=review_id, member_id=member.pk).first()
    if review is None:
        raise ReviewNotFound()
    return review


@dataclass
class PurchasedProduct:
    sku: str
    name: str
    last_bought_at: datetime
    review: Review | None


def review_purchased_products(*, member: Member) -> tuple[list[PurchasedProduct], list[Review]]:
    """The SKUs the member bought (newest purchase first) with their review of each, and their reviews of
    products they did not buy. Two queries."""
    rows = (PurchaseItem.objects.filter(purchase__member_id=member.pk).values("sku")
            .annotate(last=Max("purchase__occurred_at"), name=Max("name")).order_by("-last", "sku"))
    reviews = {r.sku: r for r in review_list_for_member(member=member)}
    products = [PurchasedProduct(sku=r["sku"], name=r["name"] or "", last_bought_at=r["last"],
                                 review=reviews.pop(r["sku"], None)) for r in rows]
    return products, sorted(reviews.values(), key=lambda r: r.created_at, reverse=True)


# ------------------------------------------------------------------------------------------------ signals
@dataclass(frozen=True)
class Signal:
    code: str
    label: str


SIGNAL_LABELS = {
    "unverified": "Unverified purchase",
    "burst": f"{BURST_COUNT}+ reviews within {int(BURST_WINDOW.total_seconds() // 3600)} h",
    "duplicate": "Duplicate or near-duplicate text",
    "new_account": f"Account less than {NEW_ACCOUNT_AGE.days} days old",
    "rating_outlier": f"Rating {RATING_GAP}+ from the member's usual",
}

_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text[:DUPLICATE_CHARS]).strip().casefold()


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b)
    return (matcher.real_quick_ratio() >= DUPLICATE_RATIO and matcher.quick_ratio() >= DUPLICATE_RATIO
            and matcher.ratio() >= DUPLICATE_RATIO)


def _in_burst(times: list[datetime], moment: datetime) -> bool:
    """Whether some window of BURST_WINDOW holding `moment` holds BURST_COUNT of `times` (sorted)."""
    first = bisect_left(times, moment - BURST_WINDOW)
    last = bisect_right(times, moment)
    for start in times[first:last]:
        if bisect_right(times, start + BURST_WINDOW) - bisect_left(times, start) >= BURST_COUNT:
            return True
    return False


def review_signals(*, reviews: list[Review]) -> dict[int, list[Signal]]:
    """The authenticity signals of a page of reviews, keyed by review id, in at most four queries whatever
    the page size: recent reviews of the page's members (bursts), their rating sums (usual rating), the
    members' join dates (skipped when the page has them loaded) and a bounded set of candidate texts
    (the newest DUPLICATE_CANDIDATES others per SKU and per member)."""
    reviews = [r for r in reviews if r.pk is not None]
    if not reviews:
        return {}
    member_ids = sorted({r.member_id for r in reviews})
    skus = sorted({r.sku for r in reviews})
    pks = [r.pk for r in reviews]

    # Bursts: the page members' reviews around the page's time span.
    earliest = min(r.created_at for r in reviews) - BURST_WINDOW
    latest = max(r.created_at for r in reviews) + BURST_WINDOW
    times: dict[int, list[datetime]] = {}
    for member_id, created in (Review.objects.filter(member_id__in=member_ids, created_at__gte=earliest,
                                                     created_at__lte=latest)
                               .order_by("created_at").values_list("member_id", "created_at")):
        times.setdefault(member_id, []).append(created)

    # The member's usual rating: sums and counts over all their reviews (this one is subtracted below).
    ratings = {row["member_id"]: (row["total"], row["n"]) for row in (
        Review.objects.filter(member_id__in=member_ids).order_by().values("member_id")
        .annotate(total=Sum("rating"), n=Count("pk")))}

    if all(Review.member.is_cached(r) for r in reviews):
        joined = {r.member_id: r.member.created_at for r in reviews}
    else:
        joined = dict(Member.objects.filter(pk__in=member_ids).values_list("pk", "created_at"))

    candidates = list(
        Review.objects.filter(Q(sku__in=skus) | Q(member_id__in=member_ids))
        .annotate(
            by_sku=Window(RowNumber(), partition_by=[F("sku")], order_by=[F("created_at").desc(), F("pk").desc()]),
            by_member=Window(RowNumber(), partition_by=[F("member_id")],
                             order_by=[F("created_at").desc(), F("pk").desc()]),
            snippet=Substr("text", 1, DUPLICATE_CHARS),
        )
        .filter(Q(sku__in=skus, by_sku__lte=DUPLICATE_CANDIDATES + len(pks))
                | Q(member_id__in=member_ids, by_member__lte=DUPLICATE_CANDIDATES + len(pks)))
        .values_list("pk", "sku", "member_id", "snippet")
    )
    normalised = [(pk, sku, member_id, _normalise(snippet)) for pk, sku, member_id, snippet in candidates]

    result: dict[int, list[Signal]] = {}
    for review in reviews:
        codes = []
        if not review.verified:
            codes.append("unverified")
        if _in_burst(times.get(review.member_id, []), review.created_at):
            codes.append("burst")
        mine = _normalise(review.text)
        if mine and any(pk != review.pk and (sku == review.sku or member_id == review.member_id)
                        and _similar(mine, other) for pk, sku, member_id, other in normalised):
            codes.append("duplicate")
        member_joined = joined.get(review.member_id)
        if member_joined is not None and review.created_at - member_joined < NEW_ACCOUNT_AGE:
            codes.append("new_account")
        total, n = ratings.get(review.member_id, (0, 0))
        if n > 1 and abs(review.rating - (total - review.rating) / (n - 1)) >= RATING_GAP:
            codes.append("rating_outlier")
        result[review.pk] = [Signal(code, SIGNAL_LABELS[code]) for code in codes]
    return result
