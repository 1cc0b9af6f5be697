"""The rewards catalog. Redemptions and vouchers arrive with the rewards issue."""

from __future__ import annotations

from django.db import models

from members.models import Tier, TimeStampedModel


class Reward(TimeStampedModel):
    class Kind(models.TextChoices):
        FIXED_DISCOUNT = "fixed_discount", "Fixed discount"
        PERCENT_DISCOUNT = "percent_discount", "Percent discount"
        FREE_PRODUCT = "free_product", "Free product"
        FREE_SHIPPING = "free_shipping", "Free shipping"
        GIFT = "gift", "Gift or experience"

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FIXED_DISCOUNT)
    value = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text="Money off (fixed discount) or percent (percent discount); empty where it does not apply.",
    )
    cost_points = models.PositiveIntegerField()
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = unlimited.")
    minimum_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "cost_points", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost_points__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(value__gte=0), name="reward_value_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name
