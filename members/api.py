"""Member serializers shared by the API views (the views that combine members and points live in loyalty/api,
which may read both), and the member's privacy endpoints: their data export and the account's erasure."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttling import member_write_limit
from members.exceptions import PasswordIncorrect
from members.models import Member
from members.permissions import IsMember
from members.services import DISPLAY_NAME_MAX, member_erase, personal_data_export


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
    first_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    last_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    birthday = serializers.DateField(required=False, help_text="Only while unset (409 birthday_locked after).")


# ------------------------------------------------------------------------------------------------ privacy
class MeExportApi(APIView):
    """Everything held of the logged-in member as one JSON document: profile and consents, purchases, points
    history, redemptions and vouchers, reviews, survey answers, feedback, challenges, scores, newsletters."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["me"])
    def get(self, request):
        return Response(personal_data_export(member=request.member))


class ErasureInSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, help_text="The account's password.")


class MeErasureApi(APIView):
    """Delete the logged-in member's account: personal data anonymised everywhere, unused vouchers cancelled, the
    login deleted and the session ended; points history and purchases stay, anonymous, for accounting.
    Wrong password: 403 `password_incorrect`."""

    permission_classes = [IsMember]

    @extend_schema(request=ErasureInSerializer, responses={204: None}, tags=["me"])
    def post(self, request):
        data = ErasureInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_write_limit(member_id=request.member.pk, action="erasure")
        if not request.user.check_password(data.validated_data["password"]):
            raise PasswordIncorrect(_("The password is not correct."), field="password")
        member_erase(member=request.member, reason="")
        request.session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)
