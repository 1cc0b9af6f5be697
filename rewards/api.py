"""Rewards endpoints: the catalog, redemptions (member and integration), vouchers, checkout validation."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import DomainError
from config.idempotency import idempotency_key_validate
from members.auth import IntegrationPrincipal
from members.models import Scope
from members.permissions import IsIntegration, IsMember
from members.selectors import member_for_user
from rewards import selectors
from rewards.models import Redemption, Reward, Voucher, voucher_code_display
from rewards.services import reward_redeem, voucher_cancel, voucher_check, voucher_use

# ------------------------------------------------------------------------------------------- serializers


class RewardSerializer(serializers.ModelSerializer):
    minimum_tier = serializers.CharField(source="minimum_tier.name", allow_null=True, default=None)
    image = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    in_stock = serializers.SerializerMethodField()
    affordable = serializers.SerializerMethodField(help_text="Logged-in members only.")
    eligible = serializers.SerializerMethodField(help_text="Logged-in members only.")
    reason = serializers.SerializerMethodField(help_text="Why not eligible (a redemption's refusal code).")
    # Only logged-in members get them (to_representation drops them for guests and integrations).
    schema_optional_fields = ("affordable", "eligible", "reason")

    class Meta:
        model = Reward
        fields = ["id", "name", "description", "image", "kind", "value", "currency", "cost_points", "stock",
                  "in_stock", "minimum_tier", "limit_per_member", "limit_period_days", "available_until",
                  "voucher_valid_days", "affordable", "eligible", "reason"]

    def get_image(self, reward) -> str | None:
        if not reward.image:
            return None
        request = self.context.get("request")
        url = reward.image.url
        return request.build_absolute_uri(url) if request else url

    def get_currency(self, reward) -> str:
        return settings.FIDELIO_CURRENCY

    def get_in_stock(self, reward) -> bool:
        return reward.stock is None or reward.stock > 0

    def _eligibility(self, reward):
        return self.context.get("eligibility", {}).get(reward.pk)

    def get_affordable(self, reward) -> bool | None:
        e = self._eligibility(reward)
        return e.affordable if e else None

    def get_eligible(self, reward) -> bool | None:
        e = self._eligibility(reward)
        return e.eligible if e else None

    def get_reason(self, reward) -> str | None:
        e = self._eligibility(reward)
        return e.reason if e else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "eligibility" not in self.context:  # guests and integrations: public fields only
            for key in ("affordable", "eligible", "reason"):
                data.pop(key)
        return data


class RedemptionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reward = serializers.IntegerField(source="reward_id")
    member = serializers.IntegerField(source="member_id")
    voucher_code = serializers.SerializerMethodField()
    points_spent = serializers.IntegerField()
    balance = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(source="voucher.expires_at", allow_null=True)
    created_at = serializers.DateTimeField()

    def get_voucher_code(self, redemption) -> str:
        return voucher_code_display(redemption.voucher.code)

    def get_balance(self, redemption) -> int:
        """The balance right after this redemption (so a replay answers exactly as the first call did)."""
        if redemption.ledger_entry_id is not None:
            return redemption.ledger_entry.balance_after
        return redemption.member.points_balance


class MeRedemptionInSerializer(serializers.Serializer):
    reward = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class RedemptionInSerializer(MeRedemptionInSerializer):
    member = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class VoucherSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="code_display")
    reward = serializers.IntegerField(source="reward_id")
    reward_name = serializers.CharField(source="reward.name")

    class Meta:
        model = Voucher
        fields = ["id", "code", "reward", "reward_name", "kind", "value", "currency", "status", "expires_at",
                  "used_at", "created_at"]


class VoucherCheckoutSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="code_display")
    reward_name = serializers.CharField(source="reward.name")
    member = serializers.IntegerField(source="member_id")

    class Meta:
        model = Voucher
        fields = ["code", "reward_name", "kind", "value", "currency", "status", "expires_at", "member", "used_at",
                  "used_order_id"]


class VoucherUseInSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=100)


class VoucherCancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER,
    description="Any unique string of up to 255 visible ASCII characters (a UUID). The same key again returns the "
                "first redemption (200); with a different body, 409 idempotency_conflict.",
)


def _redeemed_response(redemption: Redemption, created: bool) -> Response:
    return Response(RedemptionOutSerializer(redemption).data,
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# ----------------------------------------------------------------------------------------------- catalog
class RewardListApi(ListAPIView):
    """The catalog. Anyone may read it; a logged-in member also sees `affordable`, `eligible` and `reason`.
    Filters: `?kind=`, `?affordable=true` (members)."""

    permission_classes = [AllowAny]
    serializer_class = RewardSerializer

    def _member(self):
        user = self.request.user
        if isinstance(user, IntegrationPrincipal) or not user.is_authenticated:
            return None
        return member_for_user(user=user)

    def get_queryset(self):
        kind = self.request.query_params.get("kind")  # present but empty is refused: the enum has no ""
        if kind is not None and kind not in Reward.Kind.values:
            raise DomainError(_("kind must be one of: %(values)s.") % {"values": ", ".join(Reward.Kind.values)},
                              field="kind",
                              code="invalid_filter")
        affordable = self.request.query_params.get("affordable")
        if affordable is None:
            return selectors.reward_list_available(kind=kind)
        if affordable not in ("true", "false"):
            raise DomainError(_("affordable is true or false."), field="affordable", code="invalid_filter")
        member = self._member()
        if member is None:
            raise DomainError(_("The affordable filter is for logged-in members."), field="affordable",
                              code="invalid_filter")
        return selectors.reward_list_available(kind=kind, affordable_for=member, affordable=affordable == "true")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        member = self._member()
        if member is not None and getattr(self, "_page", None) is not None:
            context["eligibility"] = selectors.reward_eligibility_many(member=member, rewards=self._page)
        return context

    def paginate_queryset(self, queryset):
        self._page = super().paginate_queryset(queryset)
        return self._page

    @extend_schema(tags=["rewards"], parameters=[
        OpenApiParameter("kind", str, enum=Reward.Kind.values),
        OpenApiParameter("affordable", bool, description="Logged-in members: only rewards the balance covers."),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# ------------------------------------------------------------------------------------------- redemptions
class MeRedemptionCreateApi(APIView):
    """The logged-in member redeems a reward (session). Idempotency-Key optional (the portal always sends one)."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (404, 409)}  # reward_not_found; stock, tier, limit, balance, idempotency

    @extend_schema(request=MeRedemptionInSerializer, parameters=[IDEMPOTENCY_HEADER],
                   responses={201: RedemptionOutSerializer, 200: RedemptionOutSerializer}, tags=["me"])
    def post(self, request):
        key = idempotency_key_validate(request.headers.get("Idempotency-Key"), required=False)
        body = MeRedemptionInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        redemption, created = reward_redeem(
            member_id=request.member.pk, reward_id=data["reward"], source=Redemption.Source.PORTAL,
            idempotency_scope=f"member:{request.member.pk}", idempotency_key=key,
        )
        return _redeemed_response(redemption, created)


class RedemptionCreateApi(APIView):
    """A shop system redeems a reward for a member (integration token). Idempotency-Key required."""

    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.REDEMPTIONS_WRITE}
    error_statuses = {"POST": (404, 409)}  # reward_not_found; stock, tier, limit, balance, idempotency

    @extend_schema(request=RedemptionInSerializer, parameters=[IDEMPOTENCY_HEADER],
                   responses={201: RedemptionOutSerializer, 200: RedemptionOutSerializer}, tags=["integration"])
    def post(self, request):
        key = idempotency_key_validate(request.headers.get("Idempotency-Key"), required=True)
        body = RedemptionInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        redemption, created = reward_redeem(
            member_id=data["member"], reward_id=data["reward"],
            source=Redemption.Source.INTEGRATION, idempotency_scope=f"token:{request.user.token.pk}",
            idempotency_key=key,
        )
        return _redeemed_response(redemption, created)


# ---------------------------------------------------------------------------------------------- vouchers
class MeVoucherListApi(ListAPIView):
    """The logged-in member's vouchers, newest first. `?status=issued|used|expired|cancelled`."""

    permission_classes = [IsMember]
    serializer_class = VoucherSerializer

    def get_queryset(self):
        qs = selectors.voucher_list(member=self.request.member)
        wanted = self.request.query_params.get("status")
        if wanted is not None:  # present but empty is refused too: the schema's enum has no ""
            if wanted not in Voucher.Status.values:
                raise DomainError(_("status must be one of: %(values)s.")
                                  % {"values": ", ".join(Voucher.Status.values)}, field="status", code="invalid_filter")
            qs = qs.filter(status=wanted)
        return qs

    @extend_schema(tags=["me"], parameters=[OpenApiParameter("status", str, enum=Voucher.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MeVoucherCancelApi(APIView):
    """The member cancels an unused voucher of their own: the points and the unit of stock come back."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (409, 410)}  # voucher_used, voucher_cancelled; voucher_expired

    @extend_schema(request=VoucherCancelInSerializer, responses=VoucherSerializer, tags=["me"])
    def post(self, request, voucher_id: int):
        data = VoucherCancelInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voucher = voucher_cancel(voucher_id=int(voucher_id), member_id=request.member.pk,
                                 reason=data.validated_data["reason"] or "Cancelled by the member")
        return Response(VoucherSerializer(voucher).data)


class VoucherCheckApi(APIView):
    """Checkout: look a voucher up before applying it (no change)."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.VOUCHERS_USE}
    error_statuses = {"GET": (400, 409, 410)}  # invalid_voucher_code; voucher_used, _cancelled; voucher_expired

    @extend_schema(responses=VoucherCheckoutSerializer, tags=["integration"])
    def get(self, request, code: str):
        return Response(VoucherCheckoutSerializer(voucher_check(code=code)).data)


class VoucherUseApi(APIView):
    """Checkout: mark the voucher used for an order. Same order again → 200, idempotent."""

    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.VOUCHERS_USE}
    error_statuses = {"POST": (409, 410)}  # voucher_used, voucher_cancelled; voucher_expired

    @extend_schema(request=VoucherUseInSerializer, responses=VoucherCheckoutSerializer, tags=["integration"])
    def post(self, request, code: str):
        data = VoucherUseInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voucher, _ = voucher_use(code=code, order_id=data.validated_data["order_id"])  # reward loaded with it
        return Response(VoucherCheckoutSerializer(voucher).data, status=status.HTTP_200_OK)
