"""Public reviews: a member hidden from the leaderboards appears under a neutral label, with no name and
no part of their member number; the others keep their display name or pseudonym."""

import pytest

from feedback.services import reviews
from members.models import Member
from tests.factories import MemberFactory
from tests.feedback.test_reviews import buy

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/SKU-9/reviews/"


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_REVIEW_BONUS_POINTS = 0


def approved_review(member, staff_user, *, bought=True):
    if bought:
        buy(member, "SKU-9")
    review = reviews.review_create(member=member, sku="SKU-9", rating=4, title="Nice", text="Does the job.")
    reviews.review_approve(review_id=review.pk, by=staff_user)
    return review


def reviewer_of(anon_client, review) -> str:
    response = anon_client.get(URL)
    assert response.status_code == 200
    return {r["id"]: r for r in response.json()["results"]}[review.pk]["reviewer"]


def hide(member, *, display_name="Hannah Secret"):
    Member.objects.filter(pk=member.pk).update(display_name=display_name, leaderboard_visibility="hidden")
    member.refresh_from_db()


def test_hidden_member_shows_a_neutral_label(anon_client, member, staff_user):
    hide(member)
    review = approved_review(member, staff_user)
    response = anon_client.get(URL)
    body = response.content.decode()
    assert reviewer_of(anon_client, review) == "Verified customer"
    # no pseudonym ("Member 1234"), no member number, no name anywhere in the answer
    assert "Member " not in body and member.member_number not in body
    assert "Hannah" not in body and member.email not in body


def test_hidden_member_without_a_verified_purchase_is_just_a_customer(anon_client, member, staff_user):
    hide(member)
    review = approved_review(member, staff_user, bought=False)
    assert reviewer_of(anon_client, review) == "Customer"
    assert "Member " not in anon_client.get(URL).content.decode()


def test_named_and_pseudonymous_members_keep_what_they_show(anon_client, staff_user):
    named, pseudonym = MemberFactory(), MemberFactory()
    Member.objects.filter(pk=named.pk).update(display_name="Ann", leaderboard_visibility="name")
    Member.objects.filter(pk=pseudonym.pk).update(display_name="Bob", leaderboard_visibility="pseudonym")
    pseudonym.refresh_from_db()
    a, b = approved_review(named, staff_user), approved_review(pseudonym, staff_user)
    assert reviewer_of(anon_client, a) == "Ann"
    assert reviewer_of(anon_client, b) == f"Member {pseudonym.member_number[-4:]}"


def test_a_logged_in_member_sees_the_same_label(api_client, member, other_member, staff_user):
    hide(other_member)
    review = approved_review(other_member, staff_user)
    assert reviewer_of(api_client, review) == "Verified customer"
