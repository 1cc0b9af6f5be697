"""Purchase input validation shared by the purchase endpoint (loyalty.api.purchases), the batch
(loyalty.services.batch) and the CSV import."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers


class ItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class PurchaseBaseSerializer(serializers.Serializer):
    member = serializers.IntegerField(required=False, min_value=1, help_text="The member's id.")
    member_email = serializers.EmailField(required=False)
    order_id = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    occurred_at = serializers.DateTimeField()
    source = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,40}$", required=False)

    def validate(self, attrs):
        if not attrs.get("member") and not attrs.get("member_email"):
            raise serializers.ValidationError({"member": "Give the member's id or member_email."})
        return attrs


class PurchaseInSerializer(PurchaseBaseSerializer):
    items = ItemSerializer(many=True, required=False, max_length=1000)


def purchase_input(data) -> PurchaseBaseSerializer:
    """The purchase serializer for this body: without the nested items field when there are no items
    (building the nested list serializer is most of DRF's per-request cost)."""
    if isinstance(data, dict) and "items" not in data:
        return PurchaseBaseSerializer(data=data)
    return PurchaseInSerializer(data=data)
