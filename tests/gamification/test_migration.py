"""The move of challenges, participations, events and badges from loyalty to gamification keeps every row.

A database at the migrations before the move (loyalty 0005, rewards 0003) is filled through the historical
models, then migrated forward: the rows, their ids and links, the content types (and so the staff
permissions granted on them) and the nightly leaderboard task come along; new rows continue the old ids. Then
back and forward again: the move is reversible.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import MemberFactory, TierFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("loyalty", "0005_participation_board"), ("rewards", "0003_challenge_reward"), ("gamification", None)]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _migrate(targets):
    """Migrate to `targets` and return the models as the applied migrations leave them (the other apps as far as
    the targets allow: going back also unapplies what depends on the migrations undone)."""
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _fill(old_apps, member, tier):
    Badge = old_apps.get_model("loyalty", "Badge")
    Challenge = old_apps.get_model("loyalty", "Challenge")
    Participation = old_apps.get_model("loyalty", "ChallengeParticipation")
    Event = old_apps.get_model("loyalty", "ChallengeEvent")
    MemberBadge = old_apps.get_model("loyalty", "MemberBadge")
    Reward = old_apps.get_model("rewards", "Reward")
    ChallengeReward = old_apps.get_model("rewards", "ChallengeReward")
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    Permission = old_apps.get_model("auth", "Permission")
    Group = old_apps.get_model("auth", "Group")
    PeriodicTask = old_apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = old_apps.get_model("django_celery_beat", "IntervalSchedule")

    badge = Badge.objects.create(name="Regular", how_to_earn="Shop three times", created_at=T0)
    challenge = Challenge.objects.create(title="Shop three times", starts_at=T0, ends_at=T0 + timedelta(days=30),
                                         goal="purchases", target=Decimal("3"), bonus_points=100, badge=badge,
                                         created_at=T0)
    challenge.audience_tiers.set([tier.pk])
    participation = Participation.objects.create(challenge=challenge, member_id=member.pk, period_start=T0,
                                                 period_end=T0 + timedelta(days=30), joined_at=T0,
                                                 progress=Decimal("2"))
    Event.objects.create(participation=participation, key="purchase:1", value=Decimal("1"), categories=["tea"],
                         occurred_at=T0)
    Event.objects.create(participation=participation, key="purchase:2", value=Decimal("1"), categories=[],
                         occurred_at=T0, undone=True)
    MemberBadge.objects.create(member_id=member.pk, badge=badge, earned_at=T0, challenge=challenge)
    reward = Reward.objects.create(name="Free coffee", kind="gift", cost_points=1)
    ChallengeReward.objects.create(challenge=challenge, reward=reward)
    # What an installation has by then: content types, a staff group holding a permission on challenges, the task.
    challenge_type, _ = ContentType.objects.get_or_create(app_label="loyalty", model="challenge")
    permission, _ = Permission.objects.get_or_create(content_type=challenge_type, codename="change_challenge",
                                                     defaults={"name": "Can change challenge"})
    Group.objects.get_or_create(name="Migration test group")[0].permissions.add(permission)
    every_day, _ = IntervalSchedule.objects.get_or_create(every=86400, period="seconds")
    PeriodicTask.objects.update_or_create(name="migration test rebuild", defaults={
        "task": "loyalty.tasks.leaderboards_rebuild", "interval": every_day})
    return {"badge": badge.pk, "challenge": challenge.pk, "participation": participation.pk,
            "reward": reward.pk, "permission": permission.pk}


def _check(new_apps, ids, member, tier):
    Badge = new_apps.get_model("gamification", "Badge")
    Challenge = new_apps.get_model("gamification", "Challenge")
    Participation = new_apps.get_model("gamification", "ChallengeParticipation")
    Event = new_apps.get_model("gamification", "ChallengeEvent")
    MemberBadge = new_apps.get_model("gamification", "MemberBadge")
    ChallengeReward = new_apps.get_model("rewards", "ChallengeReward")
    Permission = new_apps.get_model("auth", "Permission")
    Group = new_apps.get_model("auth", "Group")
    PeriodicTask = new_apps.get_model("django_celery_beat", "PeriodicTask")

    challenge = Challenge.objects.get(pk=ids["challenge"])
    assert (challenge.title, challenge.badge_id, challenge.target) == ("Shop three times", ids["badge"], 3)
    assert list(challenge.audience_tiers.values_list("pk", flat=True)) == [tier.pk]
    participation = Participation.objects.get(pk=ids["participation"])
    assert (participation.member_id, participation.challenge_id, participation.progress) == (member.pk,
                                                                                           challenge.pk, 2)
    assert sorted(Event.objects.filter(participation=participation).values_list("key", "undone", "categories")) == [
        ("purchase:1", False, ["tea"]), ("purchase:2", True, [])]
    assert MemberBadge.objects.get(member_id=member.pk).badge_id == ids["badge"]
    assert ChallengeReward.objects.get(challenge_id=challenge.pk).reward_id == ids["reward"]
    permission = Permission.objects.get(pk=ids["permission"])
    assert (permission.content_type.app_label, permission.content_type.model) == ("gamification", "challenge")
    assert Group.objects.get(name="Migration test group").permissions.filter(pk=permission.pk).exists()
    assert PeriodicTask.objects.get(name="migration test rebuild").task == "gamification.tasks.leaderboards_rebuild"
    newer = Badge.objects.create(name="Newcomer", how_to_earn="Join", created_at=T0)
    assert newer.pk > ids["badge"]  # the id sequence came along with its table
    newer.delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('loyalty_challenge'), to_regclass('gamification_challenge')")
        assert cursor.fetchone() == (None, "gamification_challenge")


def test_the_move_to_gamification_keeps_every_row_and_is_reversible():
    member, tier = MemberFactory(), TierFactory(name="Gold", rank=3)
    latest = _latest()
    try:
        old_apps = _migrate(BEFORE)
        ids = _fill(old_apps, member, tier)
        _check(_migrate(latest), ids, member, tier)
        old_apps = _migrate(BEFORE)  # and back: the rows return to loyalty's tables
        assert old_apps.get_model("loyalty", "ChallengeEvent").objects.count() == 2
        assert old_apps.get_model("contenttypes", "ContentType").objects.filter(
            app_label="loyalty", model="challenge").exists()
        _check(_migrate(latest), ids, member, tier)
    finally:
        _migrate(latest)
