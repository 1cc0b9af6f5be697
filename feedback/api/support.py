"""`POST /api/v1/feedback/`: feedback from an integration (a chat tool, the shop's contact form)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.idempotency import idempotency_key_validate
from feedback.models import TEXT_MAX, FeedbackRecord
from feedback.services import feedback_record
from members.models import Scope
from members.permissions import IsIntegration
from members.selectors import member_find


class FeedbackInSerializer(serializers.Serializer):
    member = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    member_email = serializers.EmailField(required=False)
    channel = serializers.ChoiceField(choices=FeedbackRecord.Channel.choices, default=FeedbackRecord.Channel.CHAT)
    kind = serializers.ChoiceField(choices=FeedbackRecord.Kind.choices, default=FeedbackRecord.Kind.COMPLAINT)
    category = serializers.ChoiceField(choices=FeedbackRecord.Category.choices)
    sentiment = serializers.ChoiceField(choices=FeedbackRecord.Sentiment.choices,
                                        default=FeedbackRecord.Sentiment.NEUTRAL)
    text = serializers.CharField(max_length=TEXT_MAX)
    order_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class FeedbackOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeedbackRecord
        fields = ["id", "member", "channel", "kind", "category", "sentiment", "text", "order_id", "status", "due_at",
                  "created_at"]


class FeedbackCreateApi(APIView):
    """Record feedback. The response deadline follows the category. An optional `Idempotency-Key` (kept per
    token) makes a retry with the same body return the first record (200); another body under the same key is
    409 `idempotency_conflict`."""

    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.FEEDBACK_WRITE}
    error_statuses = {"POST": (409,)}  # idempotency_conflict

    @extend_schema(request=FeedbackInSerializer, responses={201: FeedbackOutSerializer, 200: FeedbackOutSerializer},
                   parameters=[OpenApiParameter(
                       "Idempotency-Key", str, OpenApiParameter.HEADER,
                       description="Optional; per token. Same key and body again: the first record (200); "
                                   "another body: 409 idempotency_conflict.")], tags=["integration"])
    def post(self, request):
        key = idempotency_key_validate(request.headers.get("Idempotency-Key"), required=False) or None
        data = FeedbackInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        member = None
        if v.get("member"):
            member = member_find(member_id=v["member"], field="member", select_related=())
        elif v.get("member_email"):
            member = member_find(email=v["member_email"], field="member_email", select_related=())
        record, created = feedback_record(
            member=member, channel=v["channel"], kind=v["kind"], category=v["category"], sentiment=v["sentiment"],
            text=v["text"], order_id=v["order_id"], idempotency_scope=f"token:{request.user.token.pk}",
            idempotency_key=key,
        )
        return Response(FeedbackOutSerializer(record).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
