"""Points-engine endpoints: members with their points, purchases, returns, the ledger.

Integration endpoints take a token (IsIntegration); /me/ endpoints take a customer session (IsMember)
and only ever read the requesting member.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttling import member_write_limit
from loyalty import selectors
from loyalty.models import LedgerEntry, Purchase, Return
from loyalty.serializers import PurchaseInSerializer, purchase_fields_fast, purchase_input
from loyalty.services import (
    ItemIn,
    PurchaseIn,
    ledger_entry_member_description,
    purchase_record,
    purchase_return,
    purchases_record_batch,
)
from members.api import MeUpdateSerializer, TierSerializer
from members.models import Member, Scope
from members.permissions import IsIntegration, IsMember
from members.selectors import member_find, member_id_find, member_list
from members.services import member_create, member_profile_update, referral_apply

# ------------------------------------------------------------------------------------------- serializers


@extend_schema_field({
    "oneOf": [{"type": "integer", "description": "points basis: whole points"},
              {"type": "string", "format": "decimal", "pattern": r"^-?\d{0,12}(?:\.\d{0,2})?$",
               "description": "spend basis: an amount"}],
})
class PointsOrAmountField(serializers.DecimalField):
    """Whole points (an integer) on the points basis, an amount (a decimal string) on the spend basis: the
    serializer's to_representation turns the points basis into integers; the schema says both."""


class TierProgressSerializer(serializers.Serializer):
    """Points basis: qualifying/threshold/needed are whole points (integers); spend basis: decimal strings."""

    basis = serializers.ChoiceField(choices=["points", "spend"])
    window_months = serializers.IntegerField()
    qualifying = PointsOrAmountField(max_digits=14, decimal_places=2)
    next_tier = serializers.CharField(allow_null=True)
    threshold = PointsOrAmountField(max_digits=14, decimal_places=2, allow_null=True)
    needed = PointsOrAmountField(max_digits=14, decimal_places=2, allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance["basis"] == "points":
            for key in ("qualifying", "threshold", "needed"):
                if instance.get(key) is not None:
                    data[key] = int(instance[key])
        return data


class ExpiringSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    until = serializers.DateTimeField()
    first_expiry = serializers.DateTimeField(allow_null=True)


class MemberSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_number = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    tier = TierSerializer(allow_null=True)
    points_balance = serializers.IntegerField()
    pending_points = serializers.IntegerField()
    lifetime_points = serializers.IntegerField()
    referral_code = serializers.CharField()
    created_at = serializers.DateTimeField()


class RfmSerializer(serializers.Serializer):
    r = serializers.IntegerField(allow_null=True)
    f = serializers.IntegerField(allow_null=True)
    m = serializers.IntegerField(allow_null=True)
    segment = serializers.CharField(allow_null=True)
    as_of = serializers.DateField()


class ClvSerializer(serializers.Serializer):
    historic = serializers.DecimalField(max_digits=14, decimal_places=2)
    predicted_12m = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    expected_purchases_12m = serializers.FloatField(allow_null=True)
    p_alive = serializers.FloatField(allow_null=True)


class MemberDetailSerializer(MemberSummarySerializer):
    birthday = serializers.DateField(allow_null=True)
    tier_progress = serializers.SerializerMethodField()
    expiring_soon = serializers.SerializerMethodField()
    rfm = serializers.SerializerMethodField(help_text="RFM scores (1-5, 5 best) and segment; null before the "
                                                      "first rollup.")
    clv = serializers.SerializerMethodField(help_text="Historic and predicted customer lifetime value.")

    @extend_schema_field(TierProgressSerializer)
    def get_tier_progress(self, member) -> dict:
        return TierProgressSerializer(selectors.tier_progress_get(member=member)).data

    @extend_schema_field(ExpiringSerializer)
    def get_expiring_soon(self, member) -> dict:
        return ExpiringSerializer(selectors.points_expiring_get(member_id=member.pk)).data

    @extend_schema_field(RfmSerializer(allow_null=True))
    def get_rfm(self, member) -> dict | None:
        # The back office's MemberScore, through the reverse one-to-one (member_get select_related()s it).
        score = getattr(member, "score", None)
        if score is None:
            return None
        return {"r": score.r_score, "f": score.f_score, "m": score.m_score, "segment": score.segment or None,
                "as_of": score.as_of}

    @extend_schema_field(ClvSerializer(allow_null=True))
    def get_clv(self, member) -> dict | None:
        score = getattr(member, "score", None)
        if score is None:
            return None
        return ClvSerializer({"historic": score.clv_historic, "predicted_12m": score.clv_12m,
                              "expected_purchases_12m": score.expected_purchases_12m, "p_alive": score.p_alive}).data


class MeSerializer(MemberDetailSerializer):
    rfm = None  # staff targeting data: not shown to the member
    clv = None
    display_name = serializers.CharField()
    marketing_consent = serializers.BooleanField()
    leaderboard_visibility = serializers.ChoiceField(choices=Member.LeaderboardVisibility.choices)


class MemberCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    referral_code = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class LedgerEntrySerializer(serializers.ModelSerializer):
    """Members' and integrations' view of an entry: the description never names the staff author."""

    order_id = serializers.CharField(source="purchase.order_id", default=None, allow_null=True)
    description = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "created_at", "kind", "points", "balance_after", "description", "reference", "order_id",
                  "shortfall"]

    def get_description(self, entry) -> str:
        return ledger_entry_member_description(entry=entry)


class PurchaseOutSerializer(serializers.Serializer):
    """A plain Serializer (not a ModelSerializer): no model introspection on the hot path."""

    id = serializers.IntegerField()
    order_id = serializers.CharField()
    source = serializers.CharField()
    member = serializers.IntegerField(source="member_id")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    points = serializers.IntegerField(source="points_earned")
    status = serializers.CharField()
    points_pending = serializers.IntegerField()
    confirm_after = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)


def purchase_out(p: Purchase) -> dict:
    """PurchaseOutSerializer's output, built directly (the hot path; a test pins them together)."""
    iso = serializers.DateTimeField().to_representation
    return {
        "id": p.pk, "order_id": p.order_id, "source": p.source, "member": p.member_id,
        "amount": f"{p.amount:.2f}", "currency": p.currency, "occurred_at": iso(p.occurred_at),
        "points": p.points_earned, "status": p.status, "points_pending": p.points_pending,
        "confirm_after": iso(p.confirm_after), "confirmed_at": iso(p.confirmed_at) if p.confirmed_at else None,
    }


class ReturnInSerializer(serializers.Serializer):
    return_id = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    source = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,40}$", required=False)


class ReturnOutSerializer(serializers.ModelSerializer):
    order_id = serializers.CharField(source="purchase.order_id")

    class Meta:
        model = Return
        fields = ["id", "return_id", "order_id", "amount", "points_reversed", "shortfall", "created_at"]


class ReturnCreateOutSerializer(ReturnOutSerializer):
    """The return as posted, with the member's balance after it (schema only: ReturnCreateApi adds it)."""

    balance = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta(ReturnOutSerializer.Meta):
        fields = [*ReturnOutSerializer.Meta.fields, "balance"]


class BatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["created", "replayed", "error"])
    id = serializers.IntegerField(required=False)
    order_id = serializers.CharField(required=False)
    source = serializers.CharField(required=False)
    points = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    field = serializers.CharField(required=False)


class BatchOutSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())


class BatchInSerializer(serializers.Serializer):
    purchases = serializers.ListField(child=serializers.JSONField(), allow_empty=False,
                                      max_length=settings.FIDELIO_BATCH_MAX_ITEMS)


# -------------------------------------------------------------------------------------------------- helpers
def member_id_for_purchase(attrs: dict) -> int:
    """The member's id as given (no query: purchase_record's row lock is the existence check and refuses an
    unknown id), or looked up by e-mail (one query)."""
    if attrs.get("member"):
        return attrs["member"]
    return member_id_find(email=attrs["member_email"], field="member_email")


def purchase_in(attrs: dict, member_id: int) -> PurchaseIn:
    return PurchaseIn(
        member_id=member_id, order_id=attrs["order_id"], amount=attrs["amount"], occurred_at=attrs["occurred_at"],
        currency=attrs.get("currency", ""), source=attrs.get("source", ""),
        items=tuple(ItemIn(**item) for item in attrs.get("items", [])),
    )


def member_get(member_id: int) -> Member:
    """The member the URL names, with what MemberDetailSerializer reads; unknown: 404 member_not_found."""
    return member_find(member_id=member_id, select_related=("tier", "score"))


# -------------------------------------------------------------------------------------------- members (int.)
class MemberListCreateApi(ListAPIView):
    """Find members (by `email` or `external_id`) or enrol one."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ, "POST": Scope.MEMBERS_WRITE}
    error_statuses = {"POST": (404, 409)}  # an unknown referral code; member_exists
    serializer_class = MemberSummarySerializer

    def get_queryset(self):
        params = self.request.query_params
        return member_list(email=params.get("email") or None,
                           external_id=params.get("external_id") or None).order_by("id")

    @extend_schema(parameters=[OpenApiParameter("email", str), OpenApiParameter("external_id", str)],
                   tags=["integration"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberDetailSerializer}, tags=["integration"])
    def post(self, request):
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        email = v["email"].lower()
        clash = member_list(email=email).values_list("pk", flat=True).first()
        if clash is None and v["external_id"]:
            clash = member_list(external_id=v["external_id"]).values_list("pk", flat=True).first()
        if clash is not None:
            return Response({"code": "member_exists", "detail": "A member with this e-mail or external id exists.",
                             "field": "email", "id": clash}, status=status.HTTP_409_CONFLICT)
        with transaction.atomic():
            member = member_create(
                email=email, first_name=v["first_name"], last_name=v["last_name"], birthday=v["birth_date"],
                external_id=v["external_id"] or None, referral_code=v["referral_code"] or None, via="api",
            )
        return Response(MemberDetailSerializer(member_get(member.pk)).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}

    @extend_schema(responses=MemberDetailSerializer, tags=["integration"])
    def get(self, request, member_id: int):
        return Response(MemberDetailSerializer(member_get(member_id)).data)


class MemberLedgerApi(ListAPIView):
    """A member's ledger, newest first."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return selectors.ledger_list(member=member_get(self.kwargs["member_id"])).select_related("purchase")

    @extend_schema(tags=["integration"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# ------------------------------------------------------------------------------------------------ purchases
class PurchaseCreateApi(APIView):
    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.PURCHASES_WRITE}
    error_statuses = {"POST": (409,)}  # order_conflict

    @extend_schema(request=PurchaseInSerializer, responses={201: PurchaseOutSerializer, 200: PurchaseOutSerializer},
                   tags=["integration"])
    def post(self, request):
        attrs = purchase_fields_fast(request.data)
        if attrs is None:
            data = purchase_input(request.data)
            data.is_valid(raise_exception=True)
            attrs = data.validated_data
        purchase, created = purchase_record(data=purchase_in(attrs, member_id_for_purchase(attrs)))
        return Response(purchase_out(purchase), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PurchaseBatchApi(APIView):
    """Up to 500 purchases at once (POS catching up). One result per item; a bad item rejects only itself."""

    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.PURCHASES_WRITE}

    @extend_schema(request=BatchInSerializer, responses=BatchOutSerializer, tags=["integration"])
    def post(self, request):
        data = BatchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = purchases_record_batch(items=data.validated_data["purchases"])
        counts = {"created": 0, "replayed": 0, "error": 0}
        for r in results:
            counts[r["result"]] += 1
        return Response({"results": results, "counts": counts}, status=status.HTTP_200_OK)


class ReturnCreateApi(APIView):
    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.PURCHASES_WRITE}
    error_statuses = {"POST": (409,)}  # return_conflict

    @extend_schema(request=ReturnInSerializer, tags=["integration"],
                   responses={201: ReturnCreateOutSerializer, 200: ReturnCreateOutSerializer})
    def post(self, request, order_id: str):
        data = ReturnInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record, created = purchase_return(order_id=order_id, return_id=v["return_id"], amount=v["amount"],
                                          source=v.get("source", ""))
        body = ReturnOutSerializer(record).data
        body["balance"] = Member.objects.filter(purchases=record.purchase_id).values_list(
            "points_balance", flat=True).first()
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# ------------------------------------------------------------------------------------------------ customers
class MeApi(APIView):
    """The logged-in member with points, tier progress and what expires soon (session authentication)."""

    permission_classes = [IsMember]

    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        return Response(MeSerializer(request.member).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer, tags=["me"])
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_profile_update(member=request.member, **data.validated_data)
        return Response(MeSerializer(member_get(request.member.pk)).data)


class MeLedgerApi(ListAPIView):
    permission_classes = [IsMember]
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return selectors.ledger_list(member=self.request.member).select_related("purchase")

    @extend_schema(tags=["me"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReferralInSerializer(serializers.Serializer):
    referral_code = serializers.CharField(max_length=16)


class MeReferralApi(APIView):
    """Enter a friend's referral code after signing up (once)."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (404, 409)}  # invalid_referral_code; already_referred

    @extend_schema(request=ReferralInSerializer, responses=MeSerializer, tags=["me"])
    def post(self, request):
        data = ReferralInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_write_limit(member_id=request.member.pk, action="referral")
        referral_apply(member=request.member, code=data.validated_data["referral_code"])
        return Response(MeSerializer(member_get(request.member.pk)).data)
