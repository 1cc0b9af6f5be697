"""Gamification moves out of loyalty into its own app (docs/decisions.md, "Gamification is its own app").

The tables are renamed (loyalty_challenge -> gamification_challenge, ...) with their rows, constraints and
indexes; Django's state gets the same models under the new app (SeparateDatabaseAndState), and loyalty's
0006 drops them from its state only. The content types follow (so staff permissions and admin history stay
attached) and so does the periodic task of the nightly leaderboard rebuild. Reversible.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

TABLES = ['badge', 'challenge', 'challenge_audience_tiers', 'challengeparticipation', 'challengeevent', 'memberbadge']
MODELS = ("badge", "challenge", "challengeparticipation", "challengeevent", "memberbadge")
TASKS = {"loyalty.tasks.leaderboards_rebuild": "gamification.tasks.leaderboards_rebuild"}


def _renames(old: str, new: str) -> list[str]:
    statements = []
    for table in TABLES:
        statements.append(f"ALTER TABLE {old}_{table} RENAME TO {new}_{table}")
        statements.append(f"ALTER SEQUENCE IF EXISTS {old}_{table}_id_seq RENAME TO {new}_{table}_id_seq")
    return statements


def _content_types(apps, schema_editor, old: str = "loyalty", new: str = "gamification"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label=old, model__in=MODELS).update(app_label=new)


def _content_types_back(apps, schema_editor):
    _content_types(apps, schema_editor, old="gamification", new="loyalty")


def _tasks(apps, schema_editor, back: bool = False):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    db = schema_editor.connection.alias
    for old, new in TASKS.items():
        if back:
            old, new = new, old
        PeriodicTask.objects.using(db).filter(task=old).update(task=new)


def _tasks_back(apps, schema_editor):
    _tasks(apps, schema_editor, back=True)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
        ('loyalty', '0005_participation_board'),
        ('members', '0004_login_claim_on_verification_token_scopes'),
        # After every migration that still names the old tables (rewards' ChallengeReward points at
        # loyalty_challenge until its 0004), so that nothing is created against a table already renamed.
        ('rewards', '0003_challenge_reward'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(_renames("loyalty", "gamification"), reverse_sql=_renames("gamification", "loyalty")),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='Badge',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True)),
                        ('icon', models.CharField(default='★', help_text='An emoji or a short symbol.', max_length=8)),
                        ('description', models.CharField(blank=True, max_length=300)),
                        ('how_to_earn', models.CharField(help_text='Shown while the badge is locked.', max_length=300)),
                        ('sort_order', models.IntegerField(default=0)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ],
                    options={
                        'ordering': ['sort_order', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='Challenge',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=120)),
                        ('description', models.TextField(blank=True)),
                        ('icon', models.CharField(default='🏁', max_length=8)),
                        ('starts_at', models.DateTimeField()),
                        ('ends_at', models.DateTimeField()),
                        ('recurrence', models.CharField(choices=[('none', 'Once (the fixed dates)'), ('weekly', 'Every week'), ('monthly', 'Every month')], default='none', help_text='Weekly or monthly challenges start afresh each period between the dates.', max_length=8)),
                        ('enrolment', models.CharField(choices=[('automatic', 'Automatic'), ('opt_in', 'Opt-in')], default='automatic', max_length=10)),
                        ('goal', models.CharField(choices=[('purchases', 'Number of purchases'), ('spend', 'Amount spent'), ('categories', 'Distinct product categories'), ('reviews', 'Reviews approved'), ('surveys', 'Surveys answered'), ('referrals', 'Referrals confirmed'), ('streak', 'A purchase in N consecutive weeks')], max_length=12)),
                        ('target', models.DecimalField(decimal_places=2, help_text='Count (purchases, categories, reviews…), amount (spend) or weeks (streak).', max_digits=12)),
                        ('bonus_points', models.PositiveIntegerField(default=0)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('audience_tiers', models.ManyToManyField(blank=True, help_text='Empty = every member.', related_name='+', to='members.tier')),
                        ('badge', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='challenges', to='gamification.badge')),
                    ],
                    options={
                        'ordering': ['-starts_at', 'title'],
                    },
                ),
                migrations.CreateModel(
                    name='ChallengeParticipation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period_start', models.DateTimeField()),
                        ('period_end', models.DateTimeField()),
                        ('joined_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('progress', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('challenge', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='participations', to='gamification.challenge')),
                        ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='challenge_participations', to='members.member')),
                        ('reward_entry', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.ledgerentry')),
                    ],
                ),
                migrations.CreateModel(
                    name='ChallengeEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=120)),
                        ('value', models.DecimalField(decimal_places=2, default=1, max_digits=14)),
                        ('categories', models.JSONField(blank=True, default=list)),
                        ('occurred_at', models.DateTimeField()),
                        ('undone', models.BooleanField(default=False, help_text='Undone by a return: no longer counts.')),
                        ('participation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='gamification.challengeparticipation')),
                    ],
                ),
                migrations.CreateModel(
                    name='MemberBadge',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('earned_at', models.DateTimeField()),
                        ('badge', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='holders', to='gamification.badge')),
                        ('challenge', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='gamification.challenge')),
                        ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='badges', to='members.member')),
                    ],
                ),
                migrations.AddConstraint(
                    model_name='challenge',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='challenge_window_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='challenge',
                    constraint=models.CheckConstraint(condition=models.Q(('target__gt', 0)), name='challenge_target_positive'),
                ),
                migrations.AddIndex(
                    model_name='challengeparticipation',
                    index=models.Index(fields=['member', '-period_start'], name='participation_member'),
                ),
                migrations.AddIndex(
                    model_name='challengeparticipation',
                    index=models.Index(fields=['challenge', 'period_start', '-progress'], name='participation_board'),
                ),
                migrations.AddConstraint(
                    model_name='challengeparticipation',
                    constraint=models.UniqueConstraint(fields=('challenge', 'member', 'period_start'), name='participation_unique'),
                ),
                migrations.AddConstraint(
                    model_name='challengeevent',
                    constraint=models.UniqueConstraint(fields=('participation', 'key'), name='challenge_event_once'),
                ),
                migrations.AddConstraint(
                    model_name='memberbadge',
                    constraint=models.UniqueConstraint(fields=('member', 'badge'), name='member_badge_once'),
                ),
            ],
        ),
        migrations.RunPython(_content_types, _content_types_back),
        migrations.RunPython(_tasks, _tasks_back),
    ]
