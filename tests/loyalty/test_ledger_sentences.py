"""What members read for each ledger entry (portal points history, the ledger APIs, the personal-data export): a
sentence in their language built from the entry's kind and links, never the stored arithmetic (which staff keep
seeing in the ledger admin), never a staff member's name, and a bounded number of queries per page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from django.utils.translation import pgettext

from feedback.models import Survey, SurveyQuestion
from feedback.services import AnswerIn, feedback_record, review_create, surveys
from feedback.services.reviews import review_approve
from feedback.services.support import feedback_goodwill
from gamification.models import Challenge
from gamification.services.challenges import Event, challenge_event_record
from loyalty import ledger
from loyalty.models import EarningRule, LedgerEntry
from loyalty.rules import earning_rules_changed
from loyalty.selectors import (
    LEDGER_SUBJECTS,
    LEDGER_TEXT_RELATED,
    ledger_entries_describe,
    ledger_entry_member_description,
    ledger_list,
    member_ledger_export,
)
from loyalty.services import (
    PurchaseIn,
    lots_expire_due,
    points_adjust,
    purchase_record,
    purchase_return,
    welcome_bonus_credit,
)
from members.models import Member
from members.services import referral_apply
from rewards.models import Reward
from rewards.services import reward_redeem, voucher_cancel
from tests.factories import MemberFactory, RewardFactory, UserFactory
from tests.loyalty.conftest import buy

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
DAY = timedelta(days=1)
STAFF_EMAIL = "ops.lead@staff.fidelio.test"
ARITHMETIC = ("×", "→", "pt/EUR", "pt/", " = ")

# The apps register the translated names of rewards, challenges and surveys (rewards/, gamification/, feedback/
# apps.py): one query per subject on a page that holds such entries, whatever the page's length.
NAMES = 3


@pytest.fixture(autouse=True)
def _english():
    """English unless a test says otherwise (a request may leave its language active in the thread)."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff(db):
    return UserFactory(email=STAFF_EMAIL, is_staff=True, is_superuser=True)


@pytest.fixture
def agent(db):
    from backoffice.roles import SUPPORT_AGENT
    from backoffice.services import staff_groups_sync

    staff_groups_sync()
    user = UserFactory(email="agent.smith@staff.fidelio.test", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    return user


def history(member: Member, *, staff, agent, extra_purchases: int = 0) -> dict[str, LedgerEntry]:
    """Every kind of entry, each written by the service that writes it in production (birthday: no service
    writes one yet, so the ledger's own credit does). Returns one entry per case, by name."""
    now = timezone.now()
    EarningRule.objects.get_or_create(name="Big basket bonus", rule_type=EarningRule.RuleType.BONUS, bonus_points=50,
                                      min_amount=Decimal("100"))
    EarningRule.objects.get_or_create(name="Tea time", rule_type=EarningRule.RuleType.MULTIPLIER, rate=Decimal("2"),
                                      scope=EarningRule.Scope.CATEGORY, scope_value="tea")
    earning_rules_changed()
    old = buy(member, "80.00", order_id=f"OLD-{member.pk}", at=now - 400 * DAY, now=now - 385 * DAY)
    lots_expire_due(now=now - 20 * DAY)  # the old lot expired 35 days ago
    plain = buy(member, "42.00", order_id=f"W-{member.pk}-1", at=now - 40 * DAY, now=now - 20 * DAY)
    big = buy(member, "191.80", order_id=f"W-{member.pk}-2", at=now - 40 * DAY, now=now - 20 * DAY,
              items=[{"sku": "T1", "category": "tea", "unit_price": Decimal("91.80")},
                     {"sku": "C1", "category": "cups", "unit_price": Decimal("100.00")}])
    for i in range(extra_purchases):
        buy(member, f"{10 + i}.50", order_id=f"X-{member.pk}-{i}", at=now - 40 * DAY, now=now - 20 * DAY)
    purchase_return(order_id=big.order_id, return_id=f"R-{member.pk}", amount=Decimal("50.00"), source="shop",
                    now=now - 19 * DAY)
    reward = RewardFactory(name=f"Coffee mug {member.pk}", cost_points=100)
    kept, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope=f"member:{member.pk}", idempotency_key="keep", now=now - 18 * DAY)
    cancelled, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                                 idempotency_scope=f"member:{member.pk}", idempotency_key="cancel",
                                 now=now - 18 * DAY)
    voucher_cancel(voucher_id=cancelled.voucher.pk, reason="changed my mind", member_id=member.pk,
                   now=now - 17 * DAY)
    friend = MemberFactory()
    referral_apply(member=friend, code=member.referral_code)
    buy(friend, "10.00", order_id=f"F-{friend.pk}", at=now - 40 * DAY, now=now - 16 * DAY)
    ledger.points_credit(member=member, points=30, kind=Kind.BIRTHDAY, description="Birthday bonus",
                         idempotency_key=f"birthday:{member.pk}", reference="birthday", now=now - 15 * DAY)
    challenge = Challenge.objects.create(title=f"First steps {member.pk}", starts_at=now - 60 * DAY,
                                         ends_at=now + 60 * DAY, goal="purchases", target=Decimal("1"),
                                         bonus_points=70)
    challenge_event_record(event=Event(kind="purchase", key=f"purchase:c{member.pk}", member_id=member.pk,
                                       occurred_at=now - 14 * DAY), now=now - 14 * DAY)
    challenge.is_active = False  # the next history (another member) completes a challenge of its own
    challenge.save(update_fields=["is_active"])
    welcome_bonus_credit(member=member)
    survey = Survey.objects.create(title=f"How did we do {member.pk}?", trigger=Survey.Trigger.ALWAYS_OPEN,
                                   is_active=True, bonus_points=15)
    question = SurveyQuestion.objects.create(survey=survey, order=1, kind="nps", text="Recommend us?")
    surveys.survey_response_submit(survey=survey, member=member, answers=[AnswerIn(question_id=question.pk, score=9)],
                                   now=now - 13 * DAY)
    review = review_create(member=member, sku="T1", rating=5, title="Lovely", text="Fresh tea",
                           product_name="Green tea", now=now - 12 * DAY)
    review_approve(review_id=review.pk, by=staff, now=now - 12 * DAY)
    points_adjust(member=member, points=30, reason="Late parcel", author=staff, now=now - 11 * DAY)
    ledger.points_credit(member=member, points=20, kind=Kind.ADJUST, reference="staff", author=staff,
                         description=f"Adjustment by {staff.email}: Broken voucher", idempotency_key=f"old:{member.pk}",
                         now=now - 10 * DAY)  # the text adjustments had before 2026-12-01 (the ledger keeps it)
    record, _ = feedback_record(channel="portal", category="delivery", text="Late again", member=member)
    feedback_goodwill(record_id=record.pk, points=10, agent=agent, now=now - 9 * DAY)
    points_adjust(member=member, points=-5, reason="Double credit", author=staff, now=now - 8 * DAY)

    entries = {e.idempotency_key: e for e in LedgerEntry.objects.filter(member=member)}
    pick = {
        "expire": next(e for e in entries.values() if e.kind == Kind.EXPIRE),
        "earn": entries[f"earn:purchase:{plain.pk}"],
        "earn_bonus": entries[f"earn:purchase:{big.pk}"],
        "return": next(e for e in entries.values() if e.kind == Kind.REVERSAL and e.return_record_id),
        "redeem": kept.ledger_entry,
        "cancel": entries[f"cancel:voucher:{cancelled.voucher.pk}"],
        "referrer": next(e for e in entries.values() if e.kind == Kind.REFERRAL),
        "referred": LedgerEntry.objects.get(member=friend, kind=Kind.REFERRAL),
        "birthday": entries[f"birthday:{member.pk}"],
        "challenge": next(e for e in entries.values() if e.kind == Kind.CHALLENGE),
        "welcome": entries[f"welcome:{member.pk}"],
        "survey": next(e for e in entries.values() if e.reference.startswith("survey:")),
        "review": entries[f"review:{review.pk}"],
        "adjust": next(e for e in entries.values() if e.description == "Adjustment by our team: Late parcel"),
        "adjust_old": entries[f"old:{member.pk}"],
        "goodwill": entries[f"goodwill:feedback:{record.pk}"],
        "adjust_debit": next(e for e in entries.values() if e.kind == Kind.ADJUST and e.points < 0),
    }
    assert old.points_earned == 80 and pick["expire"].points == -80
    return pick


@pytest.fixture
def program(settings):
    settings.FIDELIO_WELCOME_BONUS = 25
    settings.FIDELIO_REVIEW_BONUS_POINTS = 40
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14


@pytest.fixture
def cases(program, member, staff, agent):
    return history(member, staff=staff, agent=agent)


def sentences(member: Member) -> dict[int, str]:
    entries = ledger_entries_describe(entries=ledger_list(member=member).select_related(*LEDGER_TEXT_RELATED))
    return {e.pk: e.member_description for e in entries}


# ------------------------------------------------------------------------------------------------ sentences
def test_each_kind_reads_as_a_sentence(cases, member):
    with translation.override("en"):
        text = {name: ledger_entry_member_description(entry=entry) for name, entry in cases.items()}
    earn, big = cases["earn"].purchase, cases["earn_bonus"].purchase
    assert text["earn"] == f"Purchase {earn.order_id} of €42.00"
    assert text["earn_bonus"] == f"Purchase {big.order_id} of €191.80, including the bonus: Big basket bonus"
    assert text["return"] == f"Return of €50.00 from order {big.order_id}"
    assert text["redeem"] == f"Reward: Coffee mug {member.pk}"
    assert text["cancel"] == f"Reward cancelled, points given back: Coffee mug {member.pk}"
    lot_day = timezone.localtime(cases["expire"].created_at - 365 * DAY)
    assert text["expire"] == f"Points from {lot_day:%B} {lot_day.day}, {lot_day.year} expired"
    assert text["referrer"] == "Referral bonus: a friend you invited made their first purchase"
    assert text["referred"] == "Referral bonus: a welcome gift for joining through a friend"
    assert text["birthday"] == "Happy birthday: a gift from us"
    assert text["challenge"] == f"Challenge completed: First steps {member.pk}"
    assert text["welcome"] == "Welcome bonus for joining"
    assert text["survey"] == f"Thank you for answering “How did we do {member.pk}?”"
    assert text["review"] == "Bonus for your review of Green tea"
    assert text["adjust"] == "Adjustment by our team: Late parcel"
    assert text["adjust_old"] == "Adjustment by our team: Broken voucher"
    assert text["adjust_debit"] == "Adjustment by our team: Double credit"
    assert text["goodwill"] == f"Goodwill points for your feedback #{cases['goodwill'].reference.split(':')[1]}"
    assert {e.kind for e in cases.values()} == set(Kind.values)  # every kind is covered


def test_no_sentence_shows_arithmetic_or_a_staff_member(cases, member):
    for language in ("en", "pl", "cs", "ru", "el"):
        with translation.override(language):
            texts = sentences(member)
        for text in texts.values():
            assert not any(mark in text for mark in ARITHMETIC), text
            assert STAFF_EMAIL not in text and "ops.lead" not in text and "agent.smith" not in text, text
    # the stored descriptions keep the breakdown and the old author for staff
    assert "pt/EUR" in cases["earn_bonus"].description and STAFF_EMAIL in cases["adjust_old"].description


def test_the_list_and_the_single_entry_agree(cases, member):
    listed = sentences(member)
    mine = [e for e in cases.values() if e.member_id == member.pk]  # all but the referred friend's bonus
    assert len(mine) == len(cases) - 1
    assert all(listed[e.pk] == ledger_entry_member_description(entry=e) for e in mine)


@pytest.mark.parametrize("language, amount", [
    ("pl", "1\xa0234,50\xa0zł"), ("cs", "1\xa0234,50\xa0PLN"), ("en", "PLN1,234.50"), ("el", "1.234,50\xa0PLN"),
])
def test_amounts_follow_the_language(settings, member, language, amount):
    settings.FIDELIO_CURRENCY = "PLN"
    now = timezone.now()
    purchase, _ = purchase_record(data=PurchaseIn(member_id=member.pk, order_id="PL-1", amount=Decimal("1234.50"),
                                                  occurred_at=now - 30 * DAY, currency="PLN"), now=now)
    entry = LedgerEntry.objects.get(purchase=purchase)
    with translation.override(language):  # the sentence in the language, the amount as the language writes it
        sentence = pgettext("points history", "Purchase %(order)s of %(amount)s") % {"order": "PL-1", "amount": amount}
        assert ledger_entry_member_description(entry=entry) == sentence


def test_the_api_answers_in_the_readers_language(settings, token_client, member):
    settings.FIDELIO_CURRENCY = "PLN"
    now = timezone.now()
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id="PL-2", amount=Decimal("1234.50"),
                                    occurred_at=now - 30 * DAY, currency="PLN"), now=now)
    rows = token_client.get(f"/api/v1/members/{member.pk}/ledger/", HTTP_ACCEPT_LANGUAGE="pl").json()["results"]
    with translation.override("pl"):
        sentence = pgettext("points history", "Purchase %(order)s of %(amount)s")
    assert rows[0]["description"] == sentence % {"order": "PL-2", "amount": "1\xa0234,50\xa0zł"}
    assert rows[0]["description"].startswith("Zakup")


def test_bonus_rule_names_are_read_whole_and_only_when_they_add_up(member):
    now = timezone.now()
    for name, points in (("Mother's Day, + 5 'extra'", 7), ("Spring = 3", 11)):
        EarningRule.objects.create(name=name, rule_type=EarningRule.RuleType.BONUS, bonus_points=points)
    earning_rules_changed()
    purchase = buy(member, "20.00", order_id="B-1", at=now - 30 * DAY, now=now)
    entry = LedgerEntry.objects.get(purchase=purchase)
    with translation.override("en"):
        text = ledger_entry_member_description(entry=entry)
    assert text in {"Purchase B-1 of €20.00, including the bonuses: Mother's Day, + 5 'extra' and Spring = 3",
                    "Purchase B-1 of €20.00, including the bonuses: Spring = 3 and Mother's Day, + 5 'extra'"}


def test_a_breakdown_that_cannot_be_read_still_says_there_was_a_bonus(member):
    EarningRule.objects.create(name="Big basket bonus", rule_type=EarningRule.RuleType.BONUS, bonus_points=50)
    earning_rules_changed()
    purchase = buy(member, "20.00", order_id="B-2", at=timezone.now() - 30 * DAY, now=timezone.now())
    entry = LedgerEntry.objects.select_related("purchase").get(purchase=purchase)
    entry.purchase.earn_breakdown = entry.purchase.earn_breakdown.replace("→ 70 points", "→ 71 points")  # as read
    assert ledger_entry_member_description(entry=entry) == "Purchase B-2 of €20.00, including a bonus"


def test_a_cancelled_reward_whose_points_expired_meanwhile_says_so(member, settings):
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14
    now = timezone.now()
    buy(member, "60.00", order_id="E-1", at=now - 360 * DAY, now=now - 345 * DAY)  # its lot expires in 5 days
    buy(member, "90.00", order_id="E-2", at=now - 30 * DAY, now=now - 15 * DAY)
    reward = RewardFactory(name="Tote bag", cost_points=100, voucher_valid_days=None)
    redemption, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                                  idempotency_scope="member", idempotency_key="lapse", now=now)
    voucher_cancel(voucher_id=redemption.voucher.pk, reason="", member_id=member.pk, now=now + 10 * DAY)
    entry = LedgerEntry.objects.get(kind=Kind.REVERSAL, member=member)
    assert entry.points == 40
    assert ledger_entry_member_description(entry=entry) == (
        "Reward cancelled: Tote bag (60 points had expired and were not given back)")


def test_rows_without_their_links_fall_back_to_the_stored_text(member):
    ledger.points_credit(member=member, points=5, kind=Kind.BONUS, description="Summer gift",
                         idempotency_key="gift:1")
    ledger.points_credit(member=member, points=6, kind=Kind.EARN, description="Order 17: 6 EUR × 1 pt/EUR = 6",
                         reference="purchase:shop:17", idempotency_key="earn:old:17")
    ledger.points_credit(member=member, points=7, kind=Kind.ADJUST, description="Benchmark funding",
                         idempotency_key="bench:1")
    texts = set(sentences(member).values())
    assert texts == {"Summer gift", "Purchase 17", "Benchmark funding"}


def test_registered_names_replace_the_stored_ones(cases, member, monkeypatch, django_assert_num_queries):
    """An app above registers its names (translated content): one query for the whole list."""
    calls = []

    def reward_names(ids):
        calls.append(ids)
        return {pk: name.upper() for pk, name in Reward.objects.filter(pk__in=ids).values_list("pk", "name")}

    for subject in list(LEDGER_SUBJECTS):  # only this registration counts here
        monkeypatch.delitem(LEDGER_SUBJECTS, subject)
    monkeypatch.setitem(LEDGER_SUBJECTS, "reward", reward_names)
    entries = list(ledger_list(member=member).select_related(*LEDGER_TEXT_RELATED))
    with django_assert_num_queries(2):  # the expired lots' dates, the reward names
        texts = {e.pk: e.member_description for e in ledger_entries_describe(entries=entries)}
    assert len(calls) == 1
    assert texts[cases["redeem"].pk] == f"Reward: COFFEE MUG {member.pk}"
    assert texts[cases["cancel"].pk] == f"Reward cancelled, points given back: COFFEE MUG {member.pk}"


# ------------------------------------------------------------------------------------------- where they show
def _many(staff, agent, extra):
    member = MemberFactory()
    history(member, staff=staff, agent=agent, extra_purchases=extra)
    return member


@pytest.fixture
def crowded(program, staff, agent):
    """A member whose first page of 25 holds entries of most kinds (and the second page the rest)."""
    member = _many(staff, agent, 10)
    assert LedgerEntry.objects.filter(member=member).count() > 25
    return member


def test_portal_history_shows_sentences_in_bounded_queries(crowded, client, django_assert_max_num_queries):
    client.force_login(crowded.user)
    client.get("/points/")  # the session and the process-memoised values, as on any later page
    for page in ("1", "2"):
        # session, user, member, then the entries: their count, the page (with purchases, returns and the
        # reversed entries joined), the expired lots' dates when the page has any; the pending purchases
        with django_assert_max_num_queries(9 + NAMES):
            response = client.get("/points/", {"page": page})
        assert response.status_code == 200
        body = response.content.decode()
        assert STAFF_EMAIL not in body and "agent.smith" not in body
        assert not any(mark in body for mark in ("×", "→", "pt/EUR"))
    assert len(client.get("/points/").context["page"].object_list) == 25
    both = "".join(client.get("/points/", {"page": page}).content.decode() for page in ("1", "2"))
    assert "Adjustment by our team: Broken voucher" in both and f"Reward: Coffee mug {crowded.pk}" in both
    assert "Points from " in both and "Return of €50.00 from order" in both


def test_a_full_portal_page_costs_no_more_queries_than_a_short_one(program, client, staff, agent):
    small, large = _many(staff, agent, 0), _many(staff, agent, 20)
    assert LedgerEntry.objects.filter(member=small).count() < 25 < LedgerEntry.objects.filter(member=large).count()

    def count(member, page):
        client.force_login(member.user)
        client.get("/points/")
        with CountQueries() as queries:
            assert client.get("/points/", {"page": page}).status_code == 200
        return queries.count

    every_kind = count(small, "1")  # one page with every kind
    assert count(large, "1") <= every_kind and count(large, "2") <= every_kind


def test_integration_ledger_list_in_bounded_queries(crowded, token_client, django_assert_max_num_queries):
    url = f"/api/v1/members/{crowded.pk}/ledger/"
    token_client.get(url)  # the token's look-up, as on any later request
    # the member, the count, the page (purchases, returns, reversed entries joined), the expired lots' dates
    with django_assert_max_num_queries(6 + NAMES):
        response = token_client.get(url, {"page_size": 50})
    rows = response.json()["results"]
    assert len(rows) == LedgerEntry.objects.filter(member=crowded).count() > 25
    assert any(row["description"].endswith("including the bonus: Big basket bonus") for row in rows)
    assert not any(mark in row["description"] for row in rows for mark in ARITHMETIC)
    assert STAFF_EMAIL not in response.content.decode()


def test_a_large_api_page_costs_the_same_queries(program, token_client, staff, agent):
    small, large = _many(staff, agent, 0), _many(staff, agent, 20)

    def count(member):
        token_client.get(f"/api/v1/members/{member.pk}/ledger/")
        with CountQueries() as queries:
            response = token_client.get(f"/api/v1/members/{member.pk}/ledger/", {"page_size": 50})
        assert len(response.json()["results"]) == LedgerEntry.objects.filter(member=member).count()
        return queries.count

    assert count(small) == count(large)


def test_members_own_ledger_api_uses_the_sentences(cases, api_client, member, django_assert_max_num_queries):
    api_client.get("/api/v1/me/ledger/")
    # loyalty.api.me joins only the purchase: the returns and the reversed entries cost one query each
    with django_assert_max_num_queries(10 + NAMES):
        rows = api_client.get("/api/v1/me/ledger/", {"page_size": 50}).json()["results"]
    texts = {row["id"]: row["description"] for row in rows}
    assert texts[cases["challenge"].pk] == f"Challenge completed: First steps {member.pk}"
    assert not any(mark in text for text in texts.values() for mark in ARITHMETIC)


def test_the_export_holds_the_sentences(cases, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(2 + NAMES):  # the entries with their links, the expired lots' dates
        exported = member_ledger_export(member)
    texts = {row["description"] for row in exported}
    assert f"Reward: Coffee mug {member.pk}" in texts and "Adjustment by our team: Broken voucher" in texts
    assert not any(mark in text for text in texts for mark in ARITHMETIC)
    assert not any(STAFF_EMAIL in text for text in texts)


def test_staff_ledger_admin_keeps_the_stored_breakdown(cases, client, staff):
    client.force_login(staff)
    body = client.get("/admin/loyalty/ledgerentry/", {"q": cases["earn_bonus"].idempotency_key}).content.decode()
    assert "pt/EUR" in body and "Big basket bonus" in body


class CountQueries:
    """The number of queries run inside the block (pytest-django's fixtures assert one block per test)."""

    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._ctx = CaptureQueriesContext(connection)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        self.count = len(self._ctx.captured_queries)
