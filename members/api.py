"""Member serializers shared by the API views (the views that combine members and points live in
loyalty/api.py, which may read both)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from members.models import Member
from members.services import DISPLAY_NAME_MAX


class TierSerializer(serializers.Serializer):
    name = serializers.CharField()
    rank = serializers.IntegerField()
    earn_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)


class MeUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=DISPLAY_NAME_MAX, allow_blank=True, required=False,
                                         trim_whitespace=True)
    marketing_consent = serializers.BooleanField(required=False)
    leaderboard_visibility = serializers.ChoiceField(choices=Member.LeaderboardVisibility.choices, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False,
                                       help_text="Pages, e-mails and error texts in this language.")
