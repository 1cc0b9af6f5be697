"""Review endpoints, the moderation admin and the portal pages over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from feedback.models import Review
from feedback.services import reviews
from members.models import Member
from tests.factories import MemberFactory, UserFactory
from tests.feedback.test_reviews import buy

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script><b>bold</b>"


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_REVIEW_BONUS_POINTS = 0


def body(**kwargs):
    return {"sku": "SKU-1", "rating": 5, "title": "Great", "text": "Really good.", **kwargs}


# ------------------------------------------------------------------------------------------------- me/reviews
def test_member_writes_a_review(api_client, member):
    buy(member, "SKU-1")
    response = api_client.post("/api/v1/me/reviews/", body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["verified"] is True and data["status"] == "pending" and data["can_edit"] is True
    review = Review.objects.get()
    assert review.member_id == member.pk and data["id"] == review.pk


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"rating": 0}, 400, "invalid_rating", "rating"),
    ({"rating": 6}, 400, "invalid_rating", "rating"),
    ({"rating": "five"}, 400, "invalid", "rating"),
    ({"text": "x" * 5001}, 400, "text_too_long", "text"),
    ({"title": ""}, 400, "title_required", "title"),
])
def test_bad_input_is_a_json_error_and_writes_nothing(api_client, change, status, code, field):
    response = api_client.post("/api/v1/me/reviews/", body(**change), format="json")
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["field"] == field
    assert not Review.objects.exists()


def test_a_review_as_another_member_is_refused(api_client, member, other_member):
    response = api_client.post("/api/v1/me/reviews/", body(member=other_member.pk), format="json")
    assert response.status_code == 403 and response.json()["code"] == "member_mismatch"
    assert not Review.objects.exists()
    ok = api_client.post("/api/v1/me/reviews/", body(member=member.pk), format="json")
    assert ok.status_code == 201 and Review.objects.get().member_id == member.pk


def test_a_second_review_of_the_same_product_is_409(api_client):
    assert api_client.post("/api/v1/me/reviews/", body(), format="json").status_code == 201
    response = api_client.post("/api/v1/me/reviews/", body(title="Again"), format="json")
    assert response.status_code == 409 and response.json()["code"] == "review_exists"
    assert Review.objects.count() == 1


def test_anonymous_and_integration_clients_cannot_write(anon_client, token_client):
    assert anon_client.post("/api/v1/me/reviews/", body(), format="json").status_code in (401, 403)
    assert token_client.post("/api/v1/me/reviews/", body(), format="json").status_code == 403
    assert not Review.objects.exists()


def test_the_one_edit_over_the_api(api_client, member, other_member):
    review_id = api_client.post("/api/v1/me/reviews/", body(), format="json").json()["id"]
    first = api_client.patch(f"/api/v1/me/reviews/{review_id}/", {"rating": 3}, format="json")
    assert first.status_code == 200 and first.json()["rating"] == 3 and first.json()["can_edit"] is False
    second = api_client.patch(f"/api/v1/me/reviews/{review_id}/", {"rating": 1}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "review_already_edited"
    assert Review.objects.get(pk=review_id).rating == 3


def test_an_edit_after_48_hours_is_410(api_client, member):
    review = reviews.review_create(member=member, sku="S", rating=4, title="t", text="x",
                                   now=timezone.now() - timedelta(hours=49))
    response = api_client.patch(f"/api/v1/me/reviews/{review.pk}/", {"rating": 1}, format="json")
    assert response.status_code == 410 and response.json()["code"] == "review_edit_window_closed"


def test_editing_someone_elses_review_is_404(api_client, other_member):
    theirs = reviews.review_create(member=other_member, sku="S", rating=4, title="t", text="x")
    response = api_client.patch(f"/api/v1/me/reviews/{theirs.pk}/", {"text": "hacked"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "review_not_found"
    assert Review.objects.get(pk=theirs.pk).text == "x"


def test_my_reviews_lists_only_mine(api_client, member, other_member):
    mine = reviews.review_create(member=member, sku="A", rating=4, title="t", text="x")
    reviews.review_create(member=other_member, sku="A", rating=4, title="t", text="x")
    assert [r["id"] for r in api_client.get("/api/v1/me/reviews/").json()] == [mine.pk]


# ------------------------------------------------------------------------------------ products/{sku}/reviews
def test_public_product_reviews(anon_client, member, other_member, staff_user):
    Member.objects.filter(pk=member.pk).update(display_name="Ann", leaderboard_visibility="name")
    buy(member, "SKU-1")
    a = reviews.review_create(member=member, sku="SKU-1", rating=5, title="t", text=XSS)
    b = reviews.review_create(member=other_member, sku="SKU-1", rating=4, title="t", text="fine")
    reviews.review_create(member=MemberFactory(), sku="SKU-1", rating=1, title="t", text="pending")
    for r in (a, b):
        reviews.review_approve(review_id=r.pk, by=staff_user)
    with CaptureQueriesContext(connection) as queries:
        response = anon_client.get("/api/v1/products/SKU-1/reviews/")
    assert response.status_code == 200
    data = response.json()
    assert data["review_count"] == 2 == data["count"] and data["average_rating"] == "4.50"
    by_id = {r["id"]: r for r in data["results"]}
    assert set(by_id) == {a.pk, b.pk}
    assert by_id[a.pk]["verified"] is True and by_id[a.pk]["reviewer"] == "Ann"
    assert by_id[b.pk]["verified"] is False and by_id[b.pk]["reviewer"].startswith("Member ")
    assert by_id[a.pk]["text"] == XSS  # JSON carries the text as text; HTML pages escape it
    assert "email" not in by_id[a.pk] and "member" not in by_id[a.pk]
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 3  # the page count, the page (reviewer joined), the summary aggregate


def test_a_product_without_reviews(anon_client):
    data = anon_client.get("/api/v1/products/NOTHING/reviews/").json()
    assert data["review_count"] == 0 and data["average_rating"] is None and data["results"] == []


# -------------------------------------------------------------------------------------------------- admin
def _staff(group):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_program_manager_moderates_and_sees_signals_escaped(client, member):
    review = reviews.review_create(member=member, sku="SKU-1", rating=5, title=XSS, text=XSS)
    client.force_login(_staff(PROGRAM_MANAGER))
    page = client.get("/admin/feedback/review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Unverified purchase" in html and "new_account" in html
    detail = client.get(f"/admin/feedback/review/{review.pk}/change/")
    assert detail.status_code == 200 and "<script>alert" not in detail.content.decode()

    ask = client.post("/admin/feedback/review/", {"action": "reject_reviews", "_selected_action": [review.pk]})
    assert ask.status_code == 200 and b"reason" in ask.content
    missing = client.post("/admin/feedback/review/", {"action": "reject_reviews", "apply": "1", "reason": "",
                                                      "_selected_action": [review.pk]})
    assert missing.status_code == 200 and Review.objects.get(pk=review.pk).status == Review.Status.PENDING
    done = client.post("/admin/feedback/review/", {"action": "reject_reviews", "apply": "1", "reason": "Spam",
                                                   "_selected_action": [review.pk]})
    assert done.status_code == 302
    assert Review.objects.get(pk=review.pk).rejection_reason == "Spam"

    client.post("/admin/feedback/review/", {"action": "approve_reviews", "_selected_action": [review.pk]})
    assert Review.objects.get(pk=review.pk).status == Review.Status.APPROVED


def test_the_moderation_page_queries_do_not_grow_with_the_page(admin_client):
    def count():
        with CaptureQueriesContext(connection) as q:
            assert admin_client.get("/admin/feedback/review/").status_code == 200
        return len(q.captured_queries)

    for i in range(3):
        reviews.review_create(member=MemberFactory(), sku=f"A{i}", rating=3, title="t", text=f"text {i}")
    small = count()
    for i in range(20):
        reviews.review_create(member=MemberFactory(), sku=f"B{i % 3}", rating=3, title="t", text=f"more {i} " * (i + 1))
    assert count() == small


def test_support_agents_cannot_see_reviews(client, member):
    review = reviews.review_create(member=member, sku="S", rating=3, title="t", text="x")
    client.force_login(_staff(SUPPORT_AGENT))
    assert client.get("/admin/feedback/review/").status_code == 403
    assert client.get(f"/admin/feedback/review/{review.pk}/change/").status_code == 403
    response = client.post("/admin/feedback/review/", {"action": "approve_reviews", "_selected_action": [review.pk]})
    assert response.status_code == 403
    assert Review.objects.get(pk=review.pk).status == Review.Status.PENDING


# ------------------------------------------------------------------------------------------------- portal
def test_portal_lists_purchases_and_writes_a_review(client, member):
    buy(member, "SKU-1", name="Blue kettle")
    client.force_login(member.user)
    page = client.get("/reviews/")
    assert page.status_code == 200 and b"Blue kettle" in page.content and b"?sku=SKU-1" in page.content
    form = client.get("/reviews/write/?sku=SKU-1")
    assert form.status_code == 200 and b"Verified purchase" in form.content
    sent = client.post("/reviews/write/?sku=SKU-1", {"rating": "4", "title": XSS, "text": XSS})
    assert sent.status_code == 302
    review = Review.objects.get(member=member)
    assert review.text == XSS and review.verified
    html = client.get("/reviews/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    edit = client.post(f"/reviews/{review.pk}/edit/", {"rating": "2", "title": "t", "text": "changed"})
    assert edit.status_code == 302 and Review.objects.get(pk=review.pk).text == "changed"
    again = client.post(f"/reviews/{review.pk}/edit/", {"rating": "1", "title": "t", "text": "again"}, follow=True)
    assert b"only once" in again.content and Review.objects.get(pk=review.pk).rating == 2


def test_portal_cannot_edit_another_members_review(client, member, other_member):
    theirs = reviews.review_create(member=other_member, sku="S", rating=4, title="t", text="x")
    client.force_login(member.user)
    assert client.get(f"/reviews/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/reviews/{theirs.pk}/edit/", {"rating": "1", "title": "t", "text": "y"}).status_code == 404
    assert Review.objects.get(pk=theirs.pk).text == "x"
