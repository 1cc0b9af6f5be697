"""Purchase input validation shared by the purchase endpoint (loyalty.api.purchases), the batch
(loyalty.services.batch) and the CSV import."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
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
            raise serializers.ValidationError({"member": _("Give the member's id or member_email.")})
        return attrs


class PurchaseInSerializer(PurchaseBaseSerializer):
    items = ItemSerializer(many=True, required=False, max_length=1000)


def purchase_input(data) -> PurchaseBaseSerializer:
    """The purchase serializer for this body: without the nested items field when there are no items
    (building the nested list serializer is most of DRF's per-request cost)."""
    if isinstance(data, dict) and "items" not in data:
        return PurchaseBaseSerializer(data=data)
    return PurchaseInSerializer(data=data)


_AMOUNT = re.compile(r"(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,2})?")
_SOURCE = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_CENT = Decimal("0.01")


def _plain_text(value, *, min_length: int, max_length: int) -> bool:
    return (type(value) is str and value.isascii() and min_length <= len(value) <= max_length
            and "\x00" not in value and value == value.strip())


# The fields purchase_fields_fast reads; a body with any other key goes to the serializer.
FAST_FIELDS = frozenset({"member", "order_id", "amount", "occurred_at", "currency", "source"})


def purchase_fields_fast(data) -> dict | None:
    """PurchaseBaseSerializer's validated_data for the common, well-formed body of a single purchase post,
    or None when the body is anything else (then the serializer runs and reports the errors).

    Kept for the purchase post's speed target (docs/decisions.md, "A thin API layer"): it accepts only bodies
    the serializer accepts and returns what the serializer would (a property test over the serializer's own
    fields pins the two together); everything unusual — items, member_email, any key it does not know, a
    member id as text, a naive time, any doubt — is left to the serializer.
    """
    if type(data) is not dict or not data.keys() <= FAST_FIELDS:
        return None
    member, order_id, amount, occurred_at = (data.get(k) for k in ("member", "order_id", "amount", "occurred_at"))
    if type(member) is not int or member < 1 or member > 2**63 - 1:
        return None
    if not _plain_text(order_id, min_length=1, max_length=100):
        return None
    if type(amount) is not str or not _AMOUNT.fullmatch(amount) or (amount := Decimal(amount)) <= 0:
        return None
    if type(occurred_at) is not str or not occurred_at.isascii():
        return None
    try:
        moment = parse_datetime(occurred_at)
    except ValueError:
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    try:
        moment = moment.astimezone(timezone.get_current_timezone())
    except OverflowError:
        return None
    attrs = {"member": member, "order_id": order_id, "amount": amount.quantize(_CENT), "occurred_at": moment}
    if "currency" in data:
        if not _plain_text(data["currency"], min_length=3, max_length=3):
            return None
        attrs["currency"] = data["currency"]
    if "source" in data:
        if type(data["source"]) is not str or not _SOURCE.fullmatch(data["source"]):
            return None
        attrs["source"] = data["source"]
    return attrs
