"""A member's personal data: downloaded whole (portal and API), and erased everywhere on request (portal, API, and
staff in the admin with a reason), keeping the ledger and purchases whole under an anonymous member."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from feedback.models import FeedbackRecord, Review, Survey, SurveyAnswer, SurveyQuestion
from feedback.services import AnswerIn, feedback_record, review_create, review_reviewer_name, surveys
from gamification.models import Challenge
from gamification.services.challenges import Event, challenge_event_record
from loyalty import ledger
from loyalty.models import LedgerEntry
from loyalty.selectors import ledger_mismatches
from loyalty.services import PurchaseIn, purchase_record
from members.models import Member, User
from members.services import member_erase, personal_data_export
from rewards.models import Voucher
from rewards.services import reward_redeem, voucher_use
from tests.factories import MemberFactory, RewardFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT, ERASURE = "/api/v1/me/export/", "/api/v1/me/erasure/"


def history(member, *, purchases=1):
    """A member with something in every app: purchases, points, a used and an unused voucher, a review, a survey
    answer with text, a feedback record, challenge progress."""
    now = timezone.now()
    for i in range(purchases):
        purchase_record(data=PurchaseIn(member_id=member.pk, order_id=f"P-{member.pk}-{i}", amount=Decimal("20"),
                                        occurred_at=now - timedelta(days=40), currency="EUR"), now=now)
    ledger.points_credit(member=member, points=1000, kind="bonus", description="gift", idempotency_key=f"g{member.pk}")
    reward = RewardFactory(cost_points=100)
    used, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal", idempotency_scope="t",
                            idempotency_key=f"u{member.pk}")
    voucher_use(code=used.voucher.code, order_id="SHOP-1")
    unused, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal", idempotency_scope="t",
                              idempotency_key=f"n{member.pk}")
    review_create(member=member, sku=f"SKU-{member.pk}", rating=5, title="Great tea", text="My name is Ann Smith.")
    survey = Survey.objects.create(title="How did we do?", trigger=Survey.Trigger.ALWAYS_OPEN, is_active=True)
    question = SurveyQuestion.objects.create(survey=survey, order=1, kind="text", text="Anything else?")
    nps = SurveyQuestion.objects.create(survey=survey, order=2, kind="nps", text="Recommend us?")
    surveys.survey_response_submit(survey=survey, member=member, answers=[
        AnswerIn(question_id=question.pk, text="Call me on 555 0100"), AnswerIn(question_id=nps.pk, score=9)])
    feedback_record(channel="portal", category="service", text="I am Ann, my order was late.", member=member)
    challenge = Challenge.objects.create(title="Shop twice", starts_at=now - timedelta(days=50),
                                         ends_at=now + timedelta(days=50), goal="purchases", target=2)
    challenge_event_record(event=Event(kind="purchase", key="purchase:x", member_id=member.pk,
                                       occurred_at=now), now=now)
    return {"unused": unused.voucher, "used": used.voucher, "challenge": challenge}


def test_the_export_holds_every_section(api_client, member):
    history(member)
    response = api_client.get(EXPORT)
    assert response.status_code == 200
    data = response.json()
    assert data["format"] == "fidelio-personal-data/1"
    assert data["profile"]["member_number"] == member.member_number and data["login"]["email"] == member.user.email
    assert len(data["purchases"]) == 1 and data["purchases"][0]["amount"] == "20.00"
    assert any(e["kind"] == "redeem" for e in data["points_history"])
    assert len(data["redemptions"]) == 2 and {r["voucher"]["status"] for r in data["redemptions"]} == {"used", "issued"}
    assert data["feedback"]["reviews"][0]["text"] == "My name is Ann Smith."
    assert {a["text"] for s in data["feedback"]["survey_answers"] for a in s["answers"]} >= {"Call me on 555 0100"}
    assert data["feedback"]["feedback"][0]["text"] == "I am Ann, my order was late."
    assert data["challenges"]["challenges"][0]["challenge"] == "Shop twice"
    assert data["back_office"]["scores"] is None  # before the first rollup


def test_the_export_costs_the_same_queries_whatever_the_history():
    small, large = MemberFactory(), MemberFactory()
    history(small, purchases=1)
    history(large, purchases=12)

    def queries(member):
        with CaptureQueriesContext(connection) as ctx:
            personal_data_export(member=member)
        return len(ctx.captured_queries)

    # Not a page (a JSON download): one query per section of the export and the prefetches of its rows (16 with the
    # offers section); what matters is that the history does not change it.
    assert queries(small) == queries(large) <= 16


def test_the_portal_download_is_a_json_file(client, member):
    client.force_login(member.user)
    response = client.get("/profile/data/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["profile"]["member_number"] == member.member_number


def test_erasure_through_the_api_needs_the_password(api_client, member):
    things = history(member)
    balance = Member.objects.get(pk=member.pk).points_balance
    refused = api_client.post(ERASURE, {"password": "wrong"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "password_incorrect"
    assert Member.objects.get(pk=member.pk).erased_at is None
    assert Voucher.objects.get(pk=things["unused"].pk).status == "issued"
    assert Member.objects.get(pk=member.pk).points_balance == balance


def test_erasure_removes_the_personal_data_everywhere_and_keeps_the_accounts(api_client, member, password):
    things = history(member)
    user_id, email = member.user_id, member.user.email
    balance = Member.objects.get(pk=member.pk).points_balance
    assert api_client.post(ERASURE, {"password": password}, format="json").status_code == 204

    erased = Member.objects.get(pk=member.pk)
    assert erased.erased_at is not None and erased.erasure_reason == "requested by the member"
    assert (erased.email, erased.first_name, erased.last_name, erased.display_name, erased.birthday,
            erased.external_id, erased.marketing_consent, erased.user_id) == ("", "", "", "", None, None, False, None)
    assert erased.leaderboard_visibility == "hidden"
    assert not User.objects.filter(pk=user_id).exists() and not User.objects.filter(email=email).exists()
    # The unused voucher is cancelled and its points came back; the used one stays used.
    assert Voucher.objects.get(pk=things["unused"].pk).status == "cancelled"
    assert Voucher.objects.get(pk=things["used"].pk).status == "used"
    assert erased.points_balance == balance + 100
    # Free texts gone, scores and ratings kept; the review stays, by "Former member".
    assert not SurveyAnswer.objects.filter(response__member=erased).exclude(text="").exists()
    assert SurveyAnswer.objects.get(response__member=erased, kind="nps").score == 9
    assert FeedbackRecord.objects.get(member=erased).text == ""
    review = Review.objects.get(member=erased)
    assert review_reviewer_name(review=review) == "Former member"
    # The ledger and purchases are whole; the session is over.
    assert LedgerEntry.objects.filter(member=erased).exists()
    assert ledger_mismatches() == {"members": [], "lots": []}
    call_command("check_ledger")
    assert api_client.get("/api/v1/me/").status_code in (401, 403)


def test_reviews_can_be_removed_instead(member, settings):
    settings.FIDELIO_ERASURE_REVIEWS = "remove"
    review_create(member=member, sku="SKU-1", rating=4, title="Fine", text="Fine tea.")
    member_erase(member=member, reason="")
    assert not Review.objects.filter(member=member).exists()


def test_erasing_twice_changes_nothing(member):
    first = member_erase(member=member, reason="")
    again = member_erase(member=member, reason="a second request")
    assert again.erased_at == first.erased_at and again.erasure_reason == "requested by the member"


def test_an_erased_member_cannot_log_in_again(client, member, password):
    email = member.user.email
    member_erase(member=member, reason="")
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_the_portal_deletion_asks_for_the_password_then_says_goodbye(client, member, password):
    client.force_login(member.user)
    assert client.get("/profile/delete/").status_code == 200
    wrong = client.post("/profile/delete/", {"password": "nope"})
    assert wrong.status_code == 200 and "The password is not correct." in wrong.content.decode()
    assert Member.objects.get(pk=member.pk).erased_at is None
    done = client.post("/profile/delete/", {"password": password})
    assert done.status_code == 200 and 'data-testid="goodbye"' in done.content.decode()
    assert Member.objects.get(pk=member.pk).erased_at is not None
    assert client.get("/profile/").status_code == 302  # logged out


def _staff(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_staff_erase_in_the_admin_with_a_reason(client, member):
    manager = _staff(PROGRAM_MANAGER)
    client.force_login(manager)
    changelist = "/admin/members/member/"
    asked = client.post(changelist, {"action": "erase_personal_data", "_selected_action": [member.pk]})
    assert asked.status_code == 200 and "reason" in asked.content.decode()
    no_reason = client.post(changelist, {"action": "erase_personal_data", "_selected_action": [member.pk],
                                         "confirm": "yes", "reason": ""})
    assert no_reason.status_code == 200 and Member.objects.get(pk=member.pk).erased_at is None
    done = client.post(changelist, {"action": "erase_personal_data", "_selected_action": [member.pk],
                                    "confirm": "yes", "reason": "Request by e-mail of 5 Dec 2026"})
    assert done.status_code == 302
    erased = Member.objects.get(pk=member.pk)
    assert erased.erased_by == manager and erased.erasure_reason == "Request by e-mail of 5 Dec 2026"


def test_support_agents_cannot_erase(client, member):
    client.force_login(_staff(SUPPORT_AGENT))
    response = client.post("/admin/members/member/", {"action": "erase_personal_data", "_selected_action": [member.pk],
                                                       "confirm": "yes", "reason": "x"})
    assert Member.objects.get(pk=member.pk).erased_at is None
    assert response.status_code in (200, 302, 403)


def test_the_profile_saves_what_the_member_may_change(client, member):
    client.force_login(member.user)
    assert client.get("/profile/").status_code == 200
    form = {"first_name": "Ann", "last_name": "Nowak", "display_name": "Ann N", "leaderboard_visibility": "name",
            "birthday": "1990-05-17", "language": "pl", "marketing_consent": "on"}
    response = client.post("/profile/", form)
    assert response.status_code == 302
    saved = Member.objects.get(pk=member.pk)
    assert (saved.first_name, saved.display_name, saved.birthday.isoformat(), saved.language) == (
        "Ann", "Ann N", "1990-05-17", "pl")
    assert saved.marketing_consent and saved.marketing_consent_at and saved.marketing_consent_wording
    assert response.cookies["django_language"].value == "pl"
    # The birthday is given once; a later form cannot change it.
    client.post("/profile/", {**form, "birthday": "1991-01-01"})
    assert Member.objects.get(pk=member.pk).birthday.isoformat() == "1990-05-17"


@pytest.mark.parametrize("change, field", [({"birthday": "2999-01-01"}, "birthday"),
                                            ({"birthday": "1800-01-01"}, "birthday"),
                                            ({"display_name": "<b>me</b>"}, "display_name"),
                                            ({"language": "xx"}, "language"),
                                            ({"first_name": "x" * 81}, "first_name")])
def test_bad_profile_input_keeps_the_form_and_writes_nothing(client, member, change, field):
    client.force_login(member.user)
    form = {"first_name": "Ann", "last_name": "", "display_name": "", "leaderboard_visibility": "pseudonym",
            "birthday": "", "language": "en", **change}
    response = client.post("/profile/", form)
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    saved = Member.objects.get(pk=member.pk)
    assert (saved.first_name, saved.birthday, saved.language) == ("", None, "")


def test_birthday_through_the_api_only_while_unset(api_client, member):
    assert api_client.patch("/api/v1/me/", {"birthday": "1985-02-03"}, format="json").status_code == 200
    locked = api_client.patch("/api/v1/me/", {"birthday": "1986-02-03"}, format="json")
    assert locked.status_code == 409 and locked.json()["code"] == "birthday_locked"
    future = api_client.patch("/api/v1/me/", {"birthday": "2999-01-01"}, format="json")
    assert future.status_code in (400, 409)
    assert Member.objects.get(pk=member.pk).birthday.isoformat() == "1985-02-03"
