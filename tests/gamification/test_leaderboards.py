"""Leaderboards: weekly, monthly and all-time boards in Redis, fed by the ledger after commit, rebuilt from it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django_redis import get_redis_connection

from config.exceptions import DomainError
from gamification.selectors import leaderboards
from gamification.services import leaderboards as board_writes
from gamification.tasks import leaderboards_rebuild
from loyalty.ledger import Credit, points_credit, points_credit_many, points_debit, points_reverse
from loyalty.models import LedgerEntry
from members.models import Member
from members.services import member_profile_update
from tests.factories import ShopMemberFactory

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
Visibility = Member.LeaderboardVisibility
T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday of ISO week 2026-W10, March
_keys = itertools.count()


def redis():
    return get_redis_connection("default")


def credit(member, points, *, kind=Kind.EARN, at=T0, key=None):
    return points_credit(member=member, points=points, kind=kind, description="test", now=at,
                         idempotency_key=key or f"lb-test:{next(_keys)}")


def board(name="weekly", *, now=T0, limit=100, viewer=None):
    return leaderboards.board_top(period=leaderboards.period_get(name=name, now=now), limit=limit,
                                  viewer_id=viewer.pk if viewer else None)


def around(member, name="weekly", *, now=T0):
    member.refresh_from_db()
    return leaderboards.board_around(period=leaderboards.period_get(name=name, now=now), member=member)


def points_of(result):
    return [(row["name"], row["points"], row["rank"]) for row in result["results"]]


def pseudonym(member):
    return f"Member {member.member_number[-4:]}"


def raw_boards(now=T0):
    """Every board key's content and the hidden set, straight from Redis."""
    r = redis()
    out = {}
    for name in leaderboards.PERIODS:
        key = leaderboards.period_get(name=name, now=now).key
        out[name] = r.zrange(key, 0, -1, withscores=True)
    out["hidden"] = sorted(r.smembers(leaderboards.hidden_key()))
    return out


# ------------------------------------------------------------------------------------------------ periods
def test_weekly_board_follows_program_time_week_boundaries(member, other_member, django_capture_on_commit_callbacks):
    # Europe/Berlin (UTC+1 in winter): Monday 2026-03-02 00:00 local is Sunday 23:00 UTC.
    sunday_late = datetime(2026, 3, 1, 22, 59, 59, tzinfo=UTC)
    monday_early = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        credit(member, 100, at=sunday_late)
        credit(other_member, 40, at=monday_early)
    assert leaderboards.period_get(name="weekly", now=sunday_late).label == "2026-W09"
    assert leaderboards.period_get(name="weekly", now=monday_early).label == "2026-W10"
    assert points_of(board(now=sunday_late)) == [(pseudonym(member), 100, 1)]
    assert points_of(board(now=monday_early)) == [(pseudonym(other_member), 40, 1)]
    # Sunday March 1st 23:59:59 local is March already: both are on March's board, and on all-time.
    assert points_of(board("monthly", now=monday_early)) == [(pseudonym(member), 100, 1),
                                                            (pseudonym(other_member), 40, 2)]
    assert [r["points"] for r in board("all-time")["results"]] == [100, 40]


def test_monthly_board_follows_program_time_across_the_dst_change(member, django_capture_on_commit_callbacks):
    # Summer time starts 2026-03-29: April 1st 00:00 in Berlin (UTC+2) is March 31st 22:00 UTC.
    march_last = datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC)
    april_first = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        credit(member, 7, at=march_last)
        credit(member, 11, at=april_first)
    april = leaderboards.period_get(name="monthly", now=april_first)
    assert april.label == "2026-04"
    assert april.starts_at == april_first
    assert points_of(board("monthly", now=march_last)) == [(pseudonym(member), 7, 1)]
    assert points_of(board("monthly", now=april_first)) == [(pseudonym(member), 11, 1)]
    # Same ISO week (Monday March 30th): both entries.
    assert points_of(board("weekly", now=april_first)) == [(pseudonym(member), 18, 1)]
    week_key = leaderboards.period_get(name="weekly", now=april_first).key
    assert week_key.endswith(":lb:week:2026-W14")
    assert 0 < redis().ttl(week_key) <= leaderboards.PERIOD_TTL
    assert redis().ttl(leaderboards.period_get(name="all-time").key) == -1  # all-time never expires


# ------------------------------------------------------------------------------------------ what counts
def test_only_earn_bonus_and_challenge_credits_count_and_nothing_lowers_a_rank(
    member, other_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        earn = credit(member, 100)
        credit(member, 20, kind=Kind.BONUS)
        credit(member, 5, kind=Kind.CHALLENGE)
        for kind in (Kind.ADJUST, Kind.REFERRAL, Kind.BIRTHDAY):
            credit(member, 1000, kind=kind)
        credit(other_member, 110)
        # Spending, expiring and reversing do not lower the board.
        points_debit(member=member, points=1100, kind=Kind.REDEEM, description="reward", now=T0,
                     idempotency_key="lb-redeem")
        points_reverse(entry=earn, description="return", idempotency_key="lb-reverse", now=T0)
    assert points_of(board()) == [(pseudonym(member), 125, 1), (pseudonym(other_member), 110, 2)]
    member.refresh_from_db()
    assert member.points_balance == 3125 - 1100 - 100


def test_a_replayed_credit_counts_once(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credit(member, 30, key="same")
        credit(member, 30, key="same")
        points_credit_many(credits=[Credit(member_id=member.pk, points=30, kind=Kind.EARN, description="x",
                                           idempotency_key="same")], now=T0)
    assert points_of(board()) == [(pseudonym(member), 30, 1)]


def test_a_rolled_back_credit_never_reaches_redis(member, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        credit(member, 50)
        raise RuntimeError("roll back")
    assert callbacks == []
    assert board()["results"] == []
    assert board()["members"] == 0


def test_credits_many_feed_the_boards_after_commit(member, other_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        points_credit_many(credits=[
            Credit(member_id=member.pk, points=10, kind=Kind.EARN, description="a", idempotency_key="m1"),
            Credit(member_id=other_member.pk, points=15, kind=Kind.BONUS, description="b", idempotency_key="m2"),
            Credit(member_id=member.pk, points=99, kind=Kind.ADJUST, description="c", idempotency_key="m3"),
        ], now=T0)
        assert board()["results"] == []  # nothing before commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert points_of(board()) == [(pseudonym(other_member), 15, 1), (pseudonym(member), 10, 2)]


# ------------------------------------------------------------------------------------------ top N, names
def test_top_n_ranks_ties_equally_and_honours_the_limit(django_capture_on_commit_callbacks):
    members = [ShopMemberFactory() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for m, points in zip(members, [50, 80, 80, 10, 30], strict=True):
            credit(m, points)
    result = board()
    assert [(row["points"], row["rank"]) for row in result["results"]] == [(80, 1), (80, 1), (50, 3), (30, 4),
                                                                           (10, 5)]
    assert result["members"] == 5 and result["period"] == "weekly" and result["label"] == "2026-W10"
    assert [row["points"] for row in board(limit=2)["results"]] == [80, 80]
    with pytest.raises(DomainError):
        board(limit=101)


def test_names_are_the_chosen_display_name_or_a_pseudonym(django_capture_on_commit_callbacks):
    named, unnamed, pseudo = ShopMemberFactory(), ShopMemberFactory(), ShopMemberFactory()
    member_profile_update(member=named, display_name="Robin", leaderboard_visibility=Visibility.NAME)
    member_profile_update(member=unnamed, leaderboard_visibility=Visibility.NAME)  # no display name yet
    member_profile_update(member=pseudo, display_name="Secret Name")  # default: pseudonym
    with django_capture_on_commit_callbacks(execute=True):
        credit(named, 30)
        credit(unnamed, 20)
        credit(pseudo, 10)
    assert [row["name"] for row in board()["results"]] == ["Robin", pseudonym(unnamed), pseudonym(pseudo)]
    assert pseudonym(pseudo) == f"Member {pseudo.member_number[-4:]}" and len(pseudonym(pseudo)) == 11
    assert "Secret Name" not in str(board())


def test_reading_the_top_100_is_one_query(django_capture_on_commit_callbacks, django_assert_max_num_queries):
    members = [ShopMemberFactory() for _ in range(120)]
    with django_capture_on_commit_callbacks(execute=True):
        points_credit_many(credits=[Credit(member_id=m.pk, points=1 + i, kind=Kind.EARN, description="x",
                                           idempotency_key=f"q{i}") for i, m in enumerate(members)], now=T0)
    with django_assert_max_num_queries(1):
        result = board()
    assert len(result["results"]) == 100 and result["members"] == 120
    assert result["results"][0]["points"] == 120 and result["results"][-1]["points"] == 21
    me = members[3]
    with django_assert_max_num_queries(1):
        mine = leaderboards.board_around(period=leaderboards.period_get(name="weekly", now=T0), member=me)
    assert mine["me"]["rank"] == 117


# ---------------------------------------------------------------------------------------- hidden members
def test_hidden_members_are_off_the_public_board_but_see_where_they_would_stand(
    django_capture_on_commit_callbacks,
):
    a, hidden, c = ShopMemberFactory(), ShopMemberFactory(), ShopMemberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        member_profile_update(member=hidden, leaderboard_visibility=Visibility.HIDDEN)
        credit(a, 100)
        credit(hidden, 90)
        credit(c, 80)
    assert points_of(board()) == [(pseudonym(a), 100, 1), (pseudonym(c), 80, 2)]
    assert board()["members"] == 2
    mine = around(hidden)
    assert mine["me"] == {"rank": 2, "points": 90, "name": None, "visibility": "hidden", "on_board": False}
    assert [(row["name"], row["rank"], row["is_me"]) for row in mine["results"]] == [
        (pseudonym(a), 1, False), (None, 2, True), (pseudonym(c), 3, False)]
    # Others never see the hidden member, also not as a neighbour.
    assert all(row["points"] != 90 for row in around(c)["results"])


def test_hiding_and_unhiding_moves_the_member_off_and_back_on(member, other_member,
                                                              django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            credit(member, 60)
            credit(other_member, 50)
            member_profile_update(member=member, leaderboard_visibility=Visibility.HIDDEN)
        assert [row["points"] for row in board()["results"]] == [50]
        assert redis().sismember(leaderboards.hidden_key(), member.pk)
        with django_capture_on_commit_callbacks(execute=True):
            credit(member, 5)  # while hidden: not on the board
        assert [row["points"] for row in board()["results"]] == [50]
        with django_capture_on_commit_callbacks(execute=True):
            member_profile_update(member=member, leaderboard_visibility=Visibility.PSEUDONYM)
        # Back with every counted point from the ledger, hidden time included.
        assert points_of(board()) == [(pseudonym(member), 65, 1), (pseudonym(other_member), 50, 2)]
        assert points_of(board("all-time")) == points_of(board())
        assert not redis().sismember(leaderboards.hidden_key(), member.pk)


def test_a_hidden_member_redis_still_lists_is_filtered_when_reading(member, other_member,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credit(member, 60)
        credit(other_member, 50)
    # Hidden without the live path noticing (an admin edit, a lost Redis write): the database decides.
    Member.objects.filter(pk=member.pk).update(leaderboard_visibility=Visibility.HIDDEN)
    assert points_of(board()) == [(pseudonym(other_member), 50, 1)]
    assert points_of(board(limit=1)) == [(pseudonym(other_member), 50, 1)]  # reads on past the hidden one
    assert [row["is_me"] for row in around(other_member)["results"]] == [True]


# ------------------------------------------------------------------------------------------- around me
@pytest.fixture
def crowd(member, django_capture_on_commit_callbacks):
    """160 members with 10, 20, ... 1600 points this week (set-based), and `member` with 205."""
    others = [ShopMemberFactory() for _ in range(160)]
    with django_capture_on_commit_callbacks(execute=True):
        points_credit_many(credits=[
            Credit(member_id=m.pk, points=10 * (i + 1), kind=Kind.EARN, description="crowd",
                   idempotency_key=f"crowd:{m.pk}") for i, m in enumerate(others)
        ] + [Credit(member_id=member.pk, points=205, kind=Kind.EARN, description="me", idempotency_key="crowd:me")],
            now=T0)
    return others


def test_around_me_far_outside_the_top_100(crowd, member, django_assert_max_num_queries):
    member.refresh_from_db()
    with django_assert_max_num_queries(1):
        mine = leaderboards.board_around(period=leaderboards.period_get(name="weekly", now=T0), member=member)
    assert mine["me"] == {"rank": 141, "points": 205, "name": pseudonym(member), "visibility": "pseudonym",
                          "on_board": True}
    assert [(row["rank"], row["points"], row["is_me"]) for row in mine["results"]] == [
        (136, 250, False), (137, 240, False), (138, 230, False), (139, 220, False), (140, 210, False),
        (141, 205, True),
        (142, 200, False), (143, 190, False), (144, 180, False), (145, 170, False), (146, 160, False)]
    assert mine["members"] == 161
    # At the very top and the very bottom the window is one-sided.
    assert [row["rank"] for row in around(crowd[-1])["results"]] == [1, 2, 3, 4, 5, 6]
    assert [row["rank"] for row in around(crowd[0])["results"]] == [156, 157, 158, 159, 160, 161]


def test_around_me_without_points_this_period_places_the_member_last_unranked(crowd, other_member):
    mine = around(other_member)
    assert mine["me"] == {"rank": None, "points": 0, "name": pseudonym(other_member), "visibility": "pseudonym",
                          "on_board": False}
    assert [(row["points"], row["rank"]) for row in mine["results"]] == [(50, 157), (40, 158), (30, 159),
                                                                        (20, 160), (10, 161), (0, None)]
    empty = around(other_member, now=T0 + timedelta(days=7))  # next week: nobody has points yet
    assert empty["me"]["rank"] is None and empty["members"] == 0
    assert [row["is_me"] for row in empty["results"]] == [True]


def test_api_around_me(crowd, member, api_client, django_assert_max_num_queries):
    with time_machine.travel(T0, tick=False), django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/leaderboards/weekly/?around=me")
    assert response.status_code == 200
    body = response.json()
    assert body["me"]["rank"] == 141 and body["me"]["points"] == 205
    assert [row["rank"] for row in body["results"]] == list(range(136, 147))
    assert set(body["results"][0]) == {"rank", "name", "points", "is_me"}  # no ids, no member numbers


def test_api_top_is_public_and_marks_the_viewer(crowd, member, api_client, anon_client,
                                                django_assert_max_num_queries):
    with time_machine.travel(T0, tick=False):
        with django_assert_max_num_queries(1):
            public = anon_client.get("/api/v1/leaderboards/weekly/")
        mine = api_client.get("/api/v1/leaderboards/all-time?limit=3")
        monthly = anon_client.get("/api/v1/leaderboards/monthly/?limit=100")
    assert public.status_code == 200
    body = public.json()
    assert len(body["results"]) == 100 and body["members"] == 161
    assert body["label"] == "2026-W10" and body["starts_at"] == "2026-03-02T00:00:00+01:00"
    assert body["results"][0] == {"rank": 1, "name": pseudonym(crowd[-1]), "points": 1600, "is_me": False}
    assert [row["points"] for row in mine.json()["results"]] == [1600, 1590, 1580]
    assert monthly.json()["label"] == "2026-03" and monthly.json()["results"] == body["results"]


# ------------------------------------------------------------------------------------------------ rebuild
def test_rebuilt_boards_equal_the_live_ones(django_capture_on_commit_callbacks):
    members = [ShopMemberFactory() for _ in range(12)]
    hidden = members[0]
    member_profile_update(member=members[1], display_name="Named", leaderboard_visibility=Visibility.NAME)
    with django_capture_on_commit_callbacks(execute=True):
        member_profile_update(member=hidden, leaderboard_visibility=Visibility.HIDDEN)
        for i, m in enumerate(members):
            credit(m, 10 + i * 7)  # this week
            credit(m, 3 + i, kind=Kind.BONUS, at=T0 - timedelta(days=7))  # last week, same month
            credit(m, 100 - i, kind=Kind.CHALLENGE, at=T0 - timedelta(days=40))  # an earlier month
            credit(m, 500, kind=Kind.ADJUST)  # not counted
        points_credit_many(credits=[Credit(member_id=m.pk, points=4 * i + 1, kind=Kind.EARN, description="batch",
                                           idempotency_key=f"rb{i}") for i, m in enumerate(members)], now=T0)
        for i, m in enumerate(members[:6]):
            points_debit(member=m, points=50 + i, kind=Kind.REDEEM, description="spend", now=T0,
                         idempotency_key=f"rb-spend{i}")
        credit(members[5], 1, at=T0 + timedelta(days=30))  # a later month: all-time only
    live = raw_boards()
    tops = {name: board(name) for name in leaderboards.PERIODS}
    assert live["weekly"] and live["monthly"] and live["all-time"]
    assert live["hidden"] == [str(hidden.pk).encode()]

    result = board_writes.boards_rebuild(now=T0)
    assert raw_boards() == live
    assert {name: board(name) for name in leaderboards.PERIODS} == tops
    assert result["week_members"] == 11 and result["hidden"] == 1 and result["replayed"] == 0
    assert result["week"] == "2026-W10" and result["month"] == "2026-03"

    # From an empty Redis too, and a second run changes nothing.
    r = redis()
    r.delete(*[leaderboards.period_get(name=n, now=T0).key for n in leaderboards.PERIODS], leaderboards.hidden_key())
    board_writes.boards_rebuild(now=T0)
    board_writes.boards_rebuild(now=T0)
    assert raw_boards() == live
    assert 0 < r.ttl(leaderboards.period_get(name="weekly", now=T0).key) <= leaderboards.PERIOD_TTL
    assert r.ttl(leaderboards.period_get(name="all-time", now=T0).key) == -1


def test_credits_arriving_during_a_rebuild_are_neither_lost_nor_counted_twice(member, other_member, monkeypatch,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seen = credit(member, 40)
    write = board_writes._write_temporary

    def write_then_credit(r, pairs, hidden):
        write(r, pairs, hidden)
        # Live updates while the rebuild reads: one for an entry its snapshot has (counted by the rebuild
        # already), one for an entry committed after its snapshot (an id the snapshot does not know).
        board_writes.board_credits_record(credits=[(seen.pk, member.pk, 40, T0)])
        board_writes.board_credits_record(credits=[(2**31 - 2, other_member.pk, 25, T0)])

    monkeypatch.setattr(board_writes, "_write_temporary", write_then_credit)
    result = board_writes.boards_rebuild(now=T0)
    assert result["replayed"] == 3  # week, month and all-time of the unseen entry
    assert [(row["name"], row["points"]) for row in board()["results"]] == [(pseudonym(member), 40),
                                                                            (pseudonym(other_member), 25)]
    assert not redis().exists(*leaderboards.journal_keys())


def test_rebuild_task_command_and_lock(member, django_capture_on_commit_callbacks, capsys, settings):
    assert settings.FIDELIO_PERIODIC_TASKS["rebuild leaderboards"]["task"] == "gamification.tasks.leaderboards_rebuild"
    with django_capture_on_commit_callbacks(execute=True):
        credit(member, 12, at=datetime.now(UTC))
    before = raw_boards(now=datetime.now(UTC))
    first = leaderboards_rebuild()
    assert first["all_members"] == 1 and first["replayed"] == 0
    call_command("rebuild_leaderboards")
    assert "rebuild_leaderboards: week" in capsys.readouterr().out
    assert raw_boards(now=datetime.now(UTC)) == before
    redis().set(f"{leaderboards.key_prefix()}:rebuild:lock", "someone else")
    assert board_writes.boards_rebuild() == {"skipped": True}


# ---------------------------------------------------------------------------------------------- API errors
@pytest.mark.parametrize("path", ["/api/v1/leaderboards/daily/", "/api/v1/leaderboards/weekly-ish",
                                  "/api/v1/leaderboards/%3Cscript%3E/"])
def test_unknown_period_is_a_404_with_a_stable_code(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_period" and "weekly, monthly, all-time" in body["detail"]
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "limit=-5"])
def test_bad_limit_is_a_400(anon_client, query):
    response = anon_client.get(f"/api/v1/leaderboards/weekly/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_limit" and response.json()["field"] == "limit"


def test_around_needs_me_and_a_member_session(anon_client, api_client, token_client):
    response = api_client.get("/api/v1/leaderboards/weekly/?around=42")
    assert response.status_code == 400 and response.json()["code"] == "invalid_around"
    for client in (anon_client, token_client):
        response = client.get("/api/v1/leaderboards/weekly/?around=me")
        assert response.status_code in (401, 403)
        assert response.json()["code"] in {"not_authenticated", "permission_denied"}
        assert response.json()["detail"]


# ------------------------------------------------------------------------------------- display names
def test_patch_me_sets_visibility_and_refuses_bad_names(api_client, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch("/api/v1/me/", {"leaderboard_visibility": "hidden"}, format="json")
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.leaderboard_visibility == "hidden"
    assert redis().sismember(leaderboards.hidden_key(), member.pk)
    for payload, code in [({"leaderboard_visibility": "everyone"}, "invalid"),
                          ({"display_name": "<b>x</b>"}, "invalid_display_name"),
                          ({"display_name": "x" * 41}, "invalid")]:
        response = api_client.patch("/api/v1/me/", payload, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == code and response.json()["detail"]
    member.refresh_from_db()
    assert member.display_name == "" and member.leaderboard_visibility == "hidden"


def test_profile_service_refuses_markup_long_names_and_unknown_visibility(member):
    for kwargs in ({"display_name": "a<b"}, {"display_name": "a>b"}, {"display_name": "y" * 41},
                   {"leaderboard_visibility": "public"}):
        with pytest.raises(DomainError):
            member_profile_update(member=member, **kwargs)
    member.refresh_from_db()
    assert member.display_name == "" and member.leaderboard_visibility == Visibility.PSEUDONYM


# ------------------------------------------------------------------------------------------------ portal
def test_portal_page_shows_you_are_here_and_escapes_names(client, member, crowd,
                                                          django_capture_on_commit_callbacks):
    # A name with markup that got in past the validation (say, an old import) is still shown as text.
    Member.objects.filter(pk=crowd[-1].pk).update(display_name="<b>x</b>", leaderboard_visibility=Visibility.NAME)
    client.force_login(member.user)
    with time_machine.travel(T0, tick=False):
        response = client.get("/leaderboards/")
        monthly = client.get("/leaderboards/monthly/")
        missing = client.get("/leaderboards/daily/")
    assert response.status_code == 200 and monthly.status_code == 200 and missing.status_code == 404
    html = response.content.decode()
    assert "You are here" in html and "#141" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert 'class="you"' in html
    assert html.count('<tr class="you"') == 1  # outside the top 100: only in the "around" table


def test_portal_settings_form(client, member, django_capture_on_commit_callbacks):
    client.force_login(member.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/leaderboards/settings/", {"leaderboard_visibility": "name", "display_name": "Alex"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.leaderboard_visibility, member.display_name) == ("name", "Alex")
    response = client.post("/leaderboards/settings/", {"leaderboard_visibility": "hidden",
                                                       "display_name": "<i>Alex</i>"}, follow=True)
    assert "may not contain markup" in response.content.decode()
    member.refresh_from_db()
    assert (member.leaderboard_visibility, member.display_name) == ("name", "Alex")


def test_portal_page_needs_a_login(client):
    response = client.get("/leaderboards/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_a_malformed_limit_is_refused_with_around_me_too(api_client):
    for query in ("?limit=&around=me", "?limit=0", "?limit=abc&around=me"):
        response = api_client.get(f"/api/v1/leaderboards/weekly/{query}")
        assert response.status_code == 400 and response.json()["code"] == "invalid_limit", query
