"""Challenges and badges: progress from events, each event once, completion rewarded once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from gamification.models import Badge, Challenge, ChallengeEvent, ChallengeParticipation, MemberBadge
from gamification.services.challenges import Event, challenge_event_record, challenge_join
from loyalty.models import LedgerEntry
from members.models import Member
from tests.factories import MemberFactory, ShopMemberFactory
from tests.gamification.conftest import T0, buy, purchase_return

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _at_once(settings):
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0  # purchases are confirmed when posted: their events count at once


def challenge(**kw):
    badge = kw.pop("badge", None)
    defaults = {"title": "Shop three times", "starts_at": T0 - DAY, "ends_at": T0 + 60 * DAY, "goal": "purchases",
                "target": Decimal("3"), "bonus_points": 100, "badge": badge}
    return Challenge.objects.create(**{**defaults, **kw})


def participation(c, member):
    return ChallengeParticipation.objects.get(challenge=c, member=member)


def test_completion_pays_points_and_a_badge_once(member):
    badge = Badge.objects.create(name="Regular", how_to_earn="Shop three times in March")
    c = challenge(badge=badge)
    for i in range(4):
        buy(member, "10", at=T0 + i * DAY)
    p = participation(c, member)
    assert p.progress == 4 and p.completed_at is not None
    assert LedgerEntry.objects.filter(kind="challenge", member=member).count() == 1
    assert LedgerEntry.objects.get(kind="challenge").points == 100 and p.reward_entry_id is not None
    assert MemberBadge.objects.get(member=member).badge == badge
    call_command("check_ledger")


def test_an_event_delivered_twice_counts_once(member):
    c = challenge()
    event = Event(kind="purchase", key="purchase:999", member_id=member.pk, occurred_at=T0, value=Decimal("5"))
    challenge_event_record(event=event, now=T0)
    challenge_event_record(event=event, now=T0)
    assert participation(c, member).progress == 1
    assert ChallengeEvent.objects.count() == 1


def test_a_return_lowers_progress_but_a_completed_challenge_keeps_its_reward(member):
    c = challenge(target=Decimal("2"))
    first = buy(member, "10", at=T0)
    purchase_return(order_id=first.order_id, return_id="R1", amount=Decimal("10"), now=T0 + DAY)
    assert participation(c, member).progress == 0
    second = buy(member, "10", at=T0 + 2 * DAY)
    buy(member, "10", at=T0 + 3 * DAY)
    assert participation(c, member).completed_at is not None
    purchase_return(order_id=second.order_id, return_id="R2", amount=Decimal("10"), now=T0 + 4 * DAY)
    p = participation(c, member)
    assert p.progress == 1 and p.completed_at is not None  # documented: completion and reward stay
    assert LedgerEntry.objects.filter(kind="challenge").count() == 1


def test_spend_and_partial_returns(member):
    c = challenge(goal="spend", target=Decimal("100.00"))
    order = buy(member, "80", at=T0)
    buy(member, "15", at=T0 + DAY)
    assert participation(c, member).progress == Decimal("95.00")
    purchase_return(order_id=order.order_id, return_id="R1", amount=Decimal("30"), now=T0 + 2 * DAY)
    assert participation(c, member).progress == Decimal("65.00")
    buy(member, "35", at=T0 + 3 * DAY)
    assert participation(c, member).completed_at is not None


def test_distinct_categories(member):
    c = challenge(goal="categories", target=Decimal("3"))
    item = {"sku": "A", "quantity": 1, "unit_price": Decimal("5")}
    buy(member, "5", at=T0, items=[{**item, "category": "coffee"}])
    buy(member, "5", at=T0 + DAY, items=[{**item, "category": "coffee"}, {**item, "category": "tea"}])
    assert participation(c, member).progress == 2
    buy(member, "5", at=T0 + 2 * DAY, items=[{**item, "category": "cups"}])
    assert participation(c, member).completed_at is not None


def test_streak_of_consecutive_weeks(member):
    c = challenge(goal="streak", target=Decimal("3"), ends_at=T0 + 90 * DAY)
    buy(member, "5", at=T0)  # week 1
    buy(member, "5", at=T0 + 7 * DAY)  # week 2
    buy(member, "5", at=T0 + 21 * DAY)  # week 4: the run restarts
    assert participation(c, member).progress == 2
    buy(member, "5", at=T0 + 28 * DAY)
    buy(member, "5", at=T0 + 35 * DAY)  # weeks 4, 5, 6
    assert participation(c, member).completed_at is not None


def test_weekly_challenges_start_afresh_each_week(member):
    c = challenge(recurrence="weekly", target=Decimal("2"))
    buy(member, "5", at=T0)  # Monday
    buy(member, "5", at=T0 + 7 * DAY)  # next Monday: another period
    periods = ChallengeParticipation.objects.filter(challenge=c, member=member).order_by("period_start")
    assert [p.progress for p in periods] == [1, 1]
    buy(member, "5", at=T0 + 8 * DAY)
    assert periods.last().completed_at is not None and periods.first().completed_at is None


def test_audience_and_opt_in(member, tiers):
    gold_only = challenge(title="Gold club")
    gold_only.audience_tiers.set([tiers["Gold"]])
    opt_in = challenge(title="Join first", enrolment="opt_in", target=Decimal("1"))
    buy(member, "5", at=T0)  # Bronze, not joined
    assert not ChallengeParticipation.objects.exists()
    challenge_join(challenge_id=opt_in.pk, member=Member.objects.get(pk=member.pk), now=T0 + DAY)
    buy(member, "5", at=T0 + 2 * DAY)
    assert participation(opt_in, member).completed_at is not None
    from gamification.exceptions import ChallengeClosed, ChallengeNotOpen, NotInAudience

    with pytest.raises(NotInAudience):
        challenge_join(challenge_id=gold_only.pk, member=Member.objects.get(pk=member.pk), now=T0 + DAY)
    later = challenge(title="Later", enrolment="opt_in", starts_at=T0 + 100 * DAY, ends_at=T0 + 120 * DAY)
    with pytest.raises(ChallengeNotOpen):
        challenge_join(challenge_id=later.pk, member=member, now=T0)
    with pytest.raises(ChallengeClosed):
        challenge_join(challenge_id=later.pk, member=member, now=T0 + 200 * DAY)


def test_referrals_count_for_the_referrer(settings):
    from members.services import referral_apply

    c = challenge(goal="referrals", target=Decimal("1"))
    referrer = MemberFactory()
    friend = ShopMemberFactory()
    referral_apply(member=friend, code=referrer.referral_code)
    buy(friend, "20", at=T0)
    assert participation(c, referrer).completed_at is not None


def test_recompute_gives_the_live_result(member, other_member):
    c1 = challenge(target=Decimal("5"))
    c2 = challenge(title="Spend", goal="spend", target=Decimal("1000"))
    orders = [buy(m, str(10 + i), at=T0 + i * DAY) for i in range(4) for m in (member, other_member)]
    purchase_return(order_id=orders[0].order_id, return_id="R1", amount=Decimal("10"), now=T0 + 5 * DAY)
    purchase_return(order_id=orders[3].order_id, return_id="R2", amount=Decimal("5"), now=T0 + 5 * DAY)

    def state():
        return sorted(
            (p.challenge_id, p.member_id, p.progress, p.completed_at is not None,
             tuple(sorted((e.key, e.value, e.undone is False) for e in p.events.all() if not e.undone)))
            for p in ChallengeParticipation.objects.filter(challenge__in=[c1, c2]).prefetch_related("events")
        )

    live = state()
    call_command("recompute_challenges", verbosity=0)
    assert state() == live
    call_command("recompute_challenges", verbosity=0)
    assert state() == live


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_complete_and_reward_once():
    c = challenge(target=Decimal("5"), bonus_points=50)
    member = ShopMemberFactory()
    barrier = threading.Barrier(10)

    def deliver(i):
        try:
            barrier.wait()
            # 10 distinct purchases and each delivered twice: 10 events, completion at the 5th
            for _ in range(2):
                challenge_event_record(event=Event(kind="purchase", key=f"purchase:{i}", member_id=member.pk,
                                                   occurred_at=T0), now=T0)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(deliver, range(10)))
    p = participation(c, member)
    assert p.progress == 10 and p.completed_at is not None
    assert LedgerEntry.objects.filter(kind="challenge").count() == 1
    assert Member.objects.get(pk=member.pk).points_balance == 50


@pytest.mark.django_db(transaction=True)
def test_progress_alone_commits_without_waiting_for_the_disk_a_completion_waits():
    """After the purchase's commit, an event runs in a transaction of its own: when it only moves progress
    (recomputable), that commit does not wait for the WAL flush; when it completes a challenge (points, badge,
    voucher) it does. Inside a caller's transaction the caller's commit is left alone."""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    challenge(target=Decimal("2"), bonus_points=30)
    member = ShopMemberFactory()

    def record(n):
        with CaptureQueriesContext(connection) as queries:
            done = challenge_event_record(event=Event(kind="purchase", key=f"purchase:{n}", member_id=member.pk,
                                                      occurred_at=T0), now=T0)
        return done, any("synchronous_commit" in q["sql"] for q in queries.captured_queries)

    assert record(1) == ([], True)  # progress only: the commit does not wait
    completed, relaxed = record(2)
    assert completed and not relaxed  # the completion credits points: a waiting commit
    assert Member.objects.get(pk=member.pk).points_balance == 30
    with transaction.atomic():
        assert record(3) == ([], False)  # the caller's transaction: untouched


# -------------------------------------------------------------------------------------- API, portal, admin
def test_me_challenges_join_and_badges_over_http(api_client, member, anon_client, token_client):
    badge = Badge.objects.create(name="First steps", icon="👣", how_to_earn="Finish any challenge")
    Badge.objects.create(name="Locked one", how_to_earn="Shop 50 times")
    auto = challenge(title="Auto", target=Decimal("1"), badge=badge)
    from django.utils import timezone

    now = timezone.now()
    opt = challenge(title="Opt", enrolment="opt_in", starts_at=now - DAY, ends_at=now + 10 * DAY)
    closed = challenge(title="Closed", enrolment="opt_in", starts_at=now - 10 * DAY, ends_at=now - DAY)
    buy(member, "5", at=T0)
    rows = {r["title"]: r for r in api_client.get("/api/v1/me/challenges/").json()}
    assert "Closed" not in rows and rows["Opt"]["joined"] is False
    joined = api_client.post(f"/api/v1/me/challenges/{opt.pk}/join/")
    assert joined.status_code == 200 and joined.json()["joined"] is True
    assert api_client.post(f"/api/v1/me/challenges/{opt.pk}/join/").status_code == 200  # idempotent
    refused = api_client.post(f"/api/v1/me/challenges/{closed.pk}/join/")
    assert refused.status_code == 409 and refused.json()["code"] == "challenge_closed"
    assert api_client.post("/api/v1/me/challenges/999999/join/").json()["code"] == "challenge_not_found"
    badges = {b["name"]: b for b in api_client.get("/api/v1/me/badges/").json()}
    assert badges["First steps"]["earned"] is True and badges["Locked one"]["earned"] is False
    assert badges["Locked one"]["how_to_earn"] == "Shop 50 times"
    assert auto.pk
    for client in (anon_client, token_client):
        assert client.get("/api/v1/me/challenges/").status_code in (401, 403)
        assert client.post(f"/api/v1/me/challenges/{opt.pk}/join/").status_code in (401, 403)


def test_portal_challenges_page(client, member):
    from django.utils import timezone

    now = timezone.now()
    c = challenge(title="<b>Bold</b> title", enrolment="opt_in", starts_at=now - DAY, ends_at=now + 3 * DAY)
    client.force_login(member.user)
    page = client.get("/challenges/").content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; title" in page and "left" in page and "No badges to collect" in page
    response = client.post(f"/challenges/{c.pk}/join/", follow=True)
    assert "You&#x27;re in!" in response.content.decode() or "You're in!" in response.content.decode()
    assert ChallengeParticipation.objects.filter(challenge=c, member=member).exists()


def test_admin_lists_challenge_statistics(client, staff_user, member, other_member, django_assert_max_num_queries):
    c = challenge(target=Decimal("1"), bonus_points=70)
    buy(member, "5", at=T0)
    ChallengeParticipation.objects.create(challenge=c, member=other_member, period_start=c.starts_at,
                                          period_end=c.ends_at)
    client.force_login(staff_user)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/gamification/challenge/").content.decode()
    assert "1 (50 %)" in page and ">70<" in page
    assert client.get(f"/admin/gamification/challenge/{c.pk}/change/").status_code == 200
    assert client.get("/admin/gamification/badge/").status_code == 200


def test_completion_can_hand_out_a_reward_voucher_once(member):
    from rewards.models import ChallengeReward, Reward, Voucher

    c = challenge(target=Decimal("2"), bonus_points=0)
    reward = Reward.objects.create(name="Free tote", kind="gift", cost_points=900, stock=5)
    ChallengeReward.objects.create(challenge=c, reward=reward)
    for i in range(3):
        buy(member, "5", at=T0 + i * DAY)
    voucher = Voucher.objects.get(member=member)
    assert voucher.reward == reward and voucher.redemption.points_spent == 0
    assert voucher.redemption.source == "challenge"
    assert Reward.objects.get(pk=reward.pk).stock == 4
    call_command("recompute_challenges", verbosity=0)
    assert Voucher.objects.filter(member=member).count() == 1


def test_challenge_leaderboard_ranks_progress_with_chosen_names(api_client, member, anon_client, client,
                                                                django_assert_max_num_queries):
    from django.utils import timezone

    now = timezone.now()
    c = challenge(title="Spend race", goal="spend", target=Decimal("1000"), starts_at=now - 5 * DAY,
                  ends_at=now + 5 * DAY)
    runners = [ShopMemberFactory() for _ in range(3)]
    Member.objects.filter(pk=runners[0].pk).update(display_name="Speedy", leaderboard_visibility="name")
    Member.objects.filter(pk=runners[2].pk).update(leaderboard_visibility="hidden")
    for who, amount in ((runners[0], "300"), (runners[1], "300"), (runners[2], "900"), (member, "100")):
        buy(who, amount, at=now - DAY, now=now)
    with django_assert_max_num_queries(4):  # the challenge, the board (+ the request's savepoint pair)
        board = anon_client.get(f"/api/v1/leaderboards/challenges/{c.pk}/").json()
    names = [(r["rank"], r["name"]) for r in board["results"]]
    assert names[0] == (1, "Speedy") and names[1][0] == 1 and names[1][1].startswith("Member ")
    assert names[2][0] == 3 and len(names) == 3  # the hidden member is left out
    assert "me" not in board
    mine = api_client.get(f"/api/v1/leaderboards/challenges/{c.pk}/").json()
    assert mine["me"]["rank"] == 3 and [r["is_me"] for r in mine["results"]] == [False, False, True]
    assert anon_client.get("/api/v1/leaderboards/challenges/999999/").json()["code"] == "challenge_not_found"
    Member.objects.filter(pk=member.pk).update(display_name="<i>me</i>", leaderboard_visibility="name")
    client.force_login(member.user)
    page = client.get(f"/challenges/{c.pk}/leaderboard/").content.decode()
    assert "You are <strong>#3</strong>" in page and "&lt;i&gt;me&lt;/i&gt;" in page and "<i>me</i>" not in page


def test_me_shows_and_changes_leaderboard_visibility(api_client, member):
    assert api_client.get("/api/v1/me/").json()["leaderboard_visibility"] == "pseudonym"
    changed = api_client.patch("/api/v1/me/", {"leaderboard_visibility": "hidden"}, format="json")
    assert changed.status_code == 200 and changed.json()["leaderboard_visibility"] == "hidden"
    refused = api_client.patch("/api/v1/me/", {"display_name": "<script>x</script>"}, format="json")
    assert refused.status_code == 400
    assert Member.objects.get(pk=member.pk).display_name == ""


def test_review_and_survey_events_drive_their_goals(member):
    """The feedback app reports approved reviews and answered surveys through challenge_event_record."""
    reviews = challenge(title="Review two products", goal="reviews", target=Decimal("2"))
    surveys = challenge(title="Answer a survey", goal="surveys", target=Decimal("1"), bonus_points=25)
    for key in ("review:1", "review:1", "review:2"):
        challenge_event_record(event=Event(kind="review", key=key, member_id=member.pk, occurred_at=T0), now=T0)
    challenge_event_record(event=Event(kind="survey", key="survey:9", member_id=member.pk, occurred_at=T0), now=T0)
    assert participation(reviews, member).progress == 2 and participation(reviews, member).completed_at
    assert participation(surveys, member).completed_at is not None
    assert Member.objects.get(pk=member.pk).points_balance == 100 + 25
