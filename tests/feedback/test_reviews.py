"""Product reviews: verified purchases, validation, the one edit, moderation with bonus and challenge event,
and the authenticity signals (without N+1)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.exceptions import DomainError
from feedback.models import Review
from feedback.services import reviews
from gamification.models import Challenge, ChallengeEvent
from loyalty.models import LedgerEntry, Purchase
from loyalty.services import ItemIn, PurchaseIn, purchase_record, purchase_return
from members.models import Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14
    settings.FIDELIO_REVIEW_BONUS_POINTS = 0


def buy(member, sku, *, days_ago=30, order=None, name="Widget"):
    """A purchase of `sku` (back-dated purchases past the return window are confirmed at once)."""
    buy.n += 1
    occurred = timezone.now() - timedelta(days=days_ago)
    purchase, _ = purchase_record(data=PurchaseIn(
        member_id=member.pk, order_id=order or f"o{buy.n}", amount=Decimal("20.00"), occurred_at=occurred,
        items=(ItemIn(sku=sku, unit_price=Decimal("20.00"), name=name),),
    ))
    return purchase


buy.n = 0


def write(member, sku="SKU-1", **kwargs):
    data = {"rating": 4, "title": "Good", "text": f"Works well for me {sku} {member.pk}", **kwargs}
    return reviews.review_create(member=member, sku=sku, **data)


def old_account(member, days=60):
    Member.objects.filter(pk=member.pk).update(created_at=timezone.now() - timedelta(days=days))
    member.refresh_from_db()
    return member


# ----------------------------------------------------------------------------------------- verified purchase
def test_a_review_of_an_unbought_product_is_unverified(member):
    review = write(member, "NEVER-BOUGHT")
    assert review.verified is False and review.status == Review.Status.PENDING


def test_a_bought_product_past_its_return_window_is_verified(member):
    purchase = buy(member, "SKU-1", name="Blue kettle")
    assert purchase.confirmed_at is not None
    review = write(member, "SKU-1")
    assert review.verified is True
    assert review.product_name == "Blue kettle"


def test_inside_the_return_window_or_fully_returned_is_not_verified(member, other_member):
    buy(member, "FRESH", days_ago=1)
    assert write(member, "FRESH").verified is False
    purchase = buy(other_member, "BACK", order="ret-1")
    purchase_return(order_id="ret-1", return_id="r1", amount=Decimal("20.00"))
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.RETURNED
    assert write(other_member, "BACK").verified is False


def test_someone_elses_purchase_does_not_verify_my_review(member, other_member):
    buy(other_member, "SKU-1")
    assert write(member, "SKU-1").verified is False


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("field", "value", "code"), [
    ("rating", 0, "invalid_rating"),
    ("rating", 6, "invalid_rating"),
    ("rating", True, "invalid_rating"),
    ("text", "x" * 5001, "text_too_long"),
    ("text", "   ", "text_required"),
    ("title", "", "title_required"),
    ("title", "t" * 121, "title_too_long"),
    ("text", "nul\x00byte", "invalid_text"),
])
def test_bad_input_is_refused_and_nothing_written(member, field, value, code):
    with pytest.raises(DomainError) as exc:
        write(member, **{field: value})
    assert exc.value.code == code and exc.value.field == field
    assert not Review.objects.exists()


def test_text_of_exactly_5000_characters_is_accepted(member):
    assert len(write(member, text="y" * 5000).text) == 5000


def test_html_is_stored_as_text(member):
    review = write(member, text="<script>alert(1)</script> nice")
    assert Review.objects.get(pk=review.pk).text == "<script>alert(1)</script> nice"


def test_a_second_review_of_the_same_product_is_a_conflict(member):
    write(member, "SKU-1")
    with pytest.raises(reviews.ReviewExists) as exc:
        write(member, "SKU-1", title="Again")
    assert exc.value.status_code == 409 and exc.value.code == "review_exists"
    assert Review.objects.count() == 1


# --------------------------------------------------------------------------------------------------- edits
def test_one_edit_within_48_hours_goes_back_to_moderation(member, staff_user):
    review = write(member)
    reviews.review_approve(review_id=review.pk, by=staff_user)
    edited = reviews.review_edit(member=member, review_id=review.pk, rating=2, text="Broke after a week")
    assert (edited.rating, edited.text, edited.title) == (2, "Broke after a week", "Good")
    assert edited.status == Review.Status.PENDING and edited.edited_at is not None
    assert edited.moderated_by is None
    with pytest.raises(reviews.ReviewAlreadyEdited) as exc:
        reviews.review_edit(member=member, review_id=review.pk, rating=3)
    assert exc.value.code == "review_already_edited"
    assert Review.objects.get(pk=review.pk).rating == 2


def test_an_edit_after_48_hours_is_refused(member):
    review = write(member)
    later = review.created_at + timedelta(hours=48, seconds=1)
    with pytest.raises(reviews.ReviewEditWindowClosed) as exc:
        reviews.review_edit(member=member, review_id=review.pk, rating=1, now=later)
    assert exc.value.code == "review_edit_window_closed"
    assert Review.objects.get(pk=review.pk).edited_at is None
    # just inside the window works
    reviews.review_edit(member=member, review_id=review.pk, rating=1, now=review.created_at + timedelta(hours=47))


def test_editing_someone_elses_review_is_not_found(member, other_member):
    review = write(member)
    with pytest.raises(reviews.ReviewNotFound):
        reviews.review_edit(member=other_member, review_id=review.pk, rating=1)
    assert Review.objects.get(pk=review.pk).rating == 4


def test_an_edit_with_bad_input_writes_nothing(member):
    review = write(member)
    with pytest.raises(DomainError) as exc:
        reviews.review_edit(member=member, review_id=review.pk, rating=9)
    assert exc.value.code == "invalid_rating"
    assert Review.objects.get(pk=review.pk).edited_at is None


# ---------------------------------------------------------------------------------------------- moderation
def test_approving_a_verified_review_pays_the_bonus_once(member, staff_user, settings):
    settings.FIDELIO_REVIEW_BONUS_POINTS = 25
    buy(member, "SKU-1")
    before = Member.objects.get(pk=member.pk).points_balance
    review = write(member, "SKU-1")
    assert Member.objects.get(pk=member.pk).points_balance == before  # nothing before approval
    approved = reviews.review_approve(review_id=review.pk, by=staff_user)
    again = reviews.review_approve(review_id=review.pk, by=staff_user)
    assert approved.status == again.status == Review.Status.APPROVED
    entry = LedgerEntry.objects.get(idempotency_key=f"review:{review.pk}")
    assert entry.points == 25 and entry.kind == LedgerEntry.Kind.BONUS
    assert Review.objects.get(pk=review.pk).bonus_entry_id == entry.pk
    assert Member.objects.get(pk=member.pk).points_balance == before + 25
    # rejected then approved again: still one payment
    reviews.review_reject(review_id=review.pk, by=staff_user, reason="Oops")
    reviews.review_approve(review_id=review.pk, by=staff_user)
    assert LedgerEntry.objects.filter(member=member, idempotency_key__startswith="review:").count() == 1


def test_no_bonus_for_unverified_or_when_the_setting_is_zero(member, other_member, staff_user, settings):
    settings.FIDELIO_REVIEW_BONUS_POINTS = 25
    reviews.review_approve(review_id=write(member, "NOT-BOUGHT").pk, by=staff_user)
    settings.FIDELIO_REVIEW_BONUS_POINTS = 0
    buy(other_member, "SKU-1")
    reviews.review_approve(review_id=write(other_member, "SKU-1").pk, by=staff_user)
    assert not LedgerEntry.objects.filter(idempotency_key__startswith="review:").exists()


def test_approval_records_a_review_challenge_event(member, staff_user):
    now = timezone.now()
    challenge = Challenge.objects.create(title="Reviewer", starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=10), goal=Challenge.Goal.REVIEWS,
                                         target=Decimal("2"))
    review = write(member)
    reviews.review_approve(review_id=review.pk, by=staff_user)
    reviews.review_approve(review_id=review.pk, by=staff_user)
    events = ChallengeEvent.objects.filter(participation__challenge=challenge, participation__member=member)
    assert list(events.values_list("key", flat=True)) == [f"review:{review.pk}"]


def test_reject_needs_a_reason(member, staff_user):
    review = write(member)
    with pytest.raises(DomainError) as exc:
        reviews.review_reject(review_id=review.pk, by=staff_user, reason="  ")
    assert exc.value.code == "reason_required"
    rejected = reviews.review_reject(review_id=review.pk, by=staff_user, reason="Off topic")
    assert (rejected.status, rejected.rejection_reason) == (Review.Status.REJECTED, "Off topic")


# ---------------------------------------------------------------------------------------------- selectors
def test_public_list_and_summary_count_only_approved(member, other_member, staff_user):
    a = write(member, "SKU-1", rating=5)
    b = write(other_member, "SKU-1", rating=2)
    write(MemberFactory(), "SKU-1", rating=1)  # pending
    for r in (a, b):
        reviews.review_approve(review_id=r.pk, by=staff_user)
    assert {r.pk for r in reviews.review_list_approved(sku="SKU-1")} == {a.pk, b.pk}
    summary = reviews.review_product_summary(sku="SKU-1")
    assert summary["count"] == 2 and summary["average"] == pytest.approx(3.5)


def test_purchased_products_for_the_portal(member):
    buy(member, "A", name="Apple")
    buy(member, "B", name="Banana", days_ago=20)
    review = write(member, "A")
    other = write(member, "Z")
    products, others = reviews.review_purchased_products(member=member)
    assert [(p.sku, p.name, p.review) for p in products] == [("B", "Banana", None), ("A", "Apple", review)]
    assert others == [other]


# ------------------------------------------------------------------------------------------------- signals
def _codes(review):
    return {s.code for s in reviews.review_signals(reviews=[review])[review.pk]}


def test_a_clean_review_has_no_signals(member):
    old_account(member)
    buy(member, "SKU-1")
    assert _codes(write(member, "SKU-1")) == set()


def test_unverified_and_new_account_signals(member):
    review = write(member, "X")  # the member was created just now
    assert _codes(review) == {"unverified", "new_account"}


def test_burst_signal(member):
    old_account(member)
    now = timezone.now()
    times = [now - timedelta(hours=50), now - timedelta(hours=20), now - timedelta(hours=10), now]
    made = [write(member, f"S{i}", text=f"Distinct text number {i} " * (i + 1), now=t) for i, t in enumerate(times)]
    Review.objects.filter(pk__in=[r.pk for r in made]).update(verified=True)
    for r in made:
        r.refresh_from_db()
    assert "burst" not in _codes(made[0])  # 50 h ago: alone in every 24 h window that holds it
    assert "burst" in _codes(made[1]) and "burst" in _codes(made[3])


def test_duplicate_text_across_members_of_the_same_sku_and_by_the_same_member(member, other_member):
    old_account(member)
    old_account(other_member)
    text = "This kettle boils water really fast and looks great on my counter."
    first = write(member, "K", text=text)
    near = write(other_member, "K", text=text.replace("really", "realy") + "!")
    same_member = write(member, "OTHER-SKU", text=text.upper())
    unrelated = write(other_member, "Z", text="Completely different words about shoes and their laces.")
    assert "duplicate" in _codes(first)
    assert "duplicate" in _codes(near)
    assert "duplicate" in _codes(same_member)
    assert "duplicate" not in _codes(unrelated)


def test_rating_far_from_the_members_usual(member):
    old_account(member)
    for i in range(3):
        write(member, f"G{i}", rating=5, text=f"Lovely product number {i} " * (i + 2))
    low = write(member, "LOW", rating=2, text="Something else entirely here")
    close = write(member, "OK", rating=4, text="Yet another unrelated sentence")
    assert "rating_outlier" in _codes(low)  # 2 vs ~5
    assert "rating_outlier" not in _codes(close)


def test_signals_for_a_page_use_a_fixed_number_of_queries(member):
    def page():
        return list(Review.objects.select_related("member").order_by("-pk"))

    for i in range(3):
        write(MemberFactory(), f"P{i}", text=f"text {i} " * (i + 1))
    rows = page()
    with CaptureQueriesContext(connection) as small:
        reviews.review_signals(reviews=rows)
    for i in range(15):
        write(MemberFactory(), f"Q{i % 4}", text=f"other text {i} " * (i + 1))
        write(member, f"M{i}", text=f"mine {i} " * (i + 1))
    rows = page()
    with CaptureQueriesContext(connection) as big:
        result = reviews.review_signals(reviews=rows)
    assert len(result) == 33
    assert len(small.captured_queries) == len(big.captured_queries) <= 4

