"""Challenges, participations, events and badges now belong to gamification (its 0001 renamed their tables and
took their rows): loyalty forgets them, in its state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('gamification', '0001_initial'),
        ('loyalty', '0005_participation_board'),
        ('rewards', '0004_challengereward_to_gamification'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='challenge',
                    name='badge',
                ),
                migrations.RemoveField(
                    model_name='memberbadge',
                    name='badge',
                ),
                migrations.RemoveField(
                    model_name='challenge',
                    name='audience_tiers',
                ),
                migrations.RemoveField(
                    model_name='challengeparticipation',
                    name='challenge',
                ),
                migrations.RemoveField(
                    model_name='memberbadge',
                    name='challenge',
                ),
                migrations.RemoveField(
                    model_name='challengeevent',
                    name='participation',
                ),
                migrations.RemoveField(
                    model_name='challengeparticipation',
                    name='member',
                ),
                migrations.RemoveField(
                    model_name='challengeparticipation',
                    name='reward_entry',
                ),
                migrations.RemoveField(
                    model_name='memberbadge',
                    name='member',
                ),
                migrations.DeleteModel(
                    name='Badge',
                ),
                migrations.DeleteModel(
                    name='Challenge',
                ),
                migrations.DeleteModel(
                    name='ChallengeEvent',
                ),
                migrations.DeleteModel(
                    name='ChallengeParticipation',
                ),
                migrations.DeleteModel(
                    name='MemberBadge',
                ),
            ],
        ),
    ]
