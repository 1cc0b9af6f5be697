"""Purchases and returns from the shop's systems (integration token): one purchase, a batch, a return."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Purchase, Return
from loyalty.selectors import points_balance_get
from loyalty.serializers import PurchaseInSerializer, purchase_fields_fast, purchase_input
from loyalty.services import ItemIn, PurchaseIn, purchase_record, purchase_return, purchases_record_batch
from members.models import Scope
from members.permissions import IsIntegration
from members.selectors import member_id_find


class PurchaseOutSerializer(serializers.Serializer):
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


_iso = serializers.DateTimeField().to_representation


def purchase_out(p: Purchase) -> dict:
    """PurchaseOutSerializer's output, built directly: the purchase post's answer without DRF's per-request
    field copies (kept for the speed target, docs/decisions.md "A thin API layer"). A test compares it with the
    serializer's output field by field for purchases in every state, so a field added there cannot be missed."""
    return {
        "id": p.pk, "order_id": p.order_id, "source": p.source, "member": p.member_id,
        "amount": f"{p.amount:.2f}", "currency": p.currency, "occurred_at": _iso(p.occurred_at),
        "points": p.points_earned, "status": p.status, "points_pending": p.points_pending,
        "confirm_after": _iso(p.confirm_after), "confirmed_at": _iso(p.confirmed_at) if p.confirmed_at else None,
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


class PurchaseCreateApi(APIView):
    permission_classes = [IsIntegration]
    token_scopes = {"POST": Scope.PURCHASES_WRITE}
    error_statuses = {"POST": (409,)}  # order_conflict

    @extend_schema(request=PurchaseInSerializer, responses={201: PurchaseOutSerializer, 200: PurchaseOutSerializer},
                   tags=["integration"])
    def post(self, request):
        attrs = purchase_fields_fast(request.data)  # the common body without DRF's machinery, else:
        if attrs is None:
            data = purchase_input(request.data)  # PurchaseInSerializer, without its items field when there are none
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
        body["balance"] = points_balance_get(member_id=record.purchase.member_id)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


