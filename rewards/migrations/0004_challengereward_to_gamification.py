"""ChallengeReward points at gamification.Challenge (the same table, renamed by gamification 0001): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gamification', '0001_initial'),
        ('rewards', '0003_challenge_reward'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='challengereward',
                    name='challenge',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='voucher_reward', to='gamification.challenge'),
                ),
            ],
        ),
    ]
