"""The points engine: purchases, returns, the append-only ledger, earn lots and earning rules.

Only `loyalty.ledger` writes `LedgerEntry`, `PointsLot` and the member's denormalised point counters.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member


class Purchase(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("purchase status", "Pending")
        CONFIRMED = "confirmed", pgettext_lazy("purchase status", "Confirmed")
        PARTLY_RETURNED = "partly_returned", pgettext_lazy("purchase status", "Partly returned")
        RETURNED = "returned", pgettext_lazy("purchase status", "Returned")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="purchases")
    source = models.CharField(
        _("source"), max_length=40, help_text=_("The system the order comes from, e.g. 'shop' or 'pos'.")
    )
    order_id = models.CharField(_("order ID"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    occurred_at = models.DateTimeField(_("occurred at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    awards_points = models.BooleanField(
        _("awards points"), default=True, help_text=_("False for history imported without points.")
    )
    points_earned = models.IntegerField(
        _("points earned"), default=0, help_text=_("Points this purchase earned, all rules applied.")
    )
    points_pending = models.IntegerField(
        _("points pending"), default=0, help_text=_("Of those, still waiting for the return window.")
    )
    points_reversed = models.IntegerField(
        _("points reversed"), default=0, help_text=_("Taken back by returns (pending or credited).")
    )
    returned_amount = models.DecimalField(
        _("returned amount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    confirm_after = models.DateTimeField(
        _("confirm after"), help_text=_("End of the return window: points become spendable.")
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    earn_breakdown = models.TextField(_("earning breakdown"), blank=True)
    request_hash = models.CharField(_("request hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "order_id"], name="purchase_source_order_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="purchase_amount_positive"),
            models.CheckConstraint(
                condition=Q(returned_amount__gte=0) & Q(returned_amount__lte=F("amount")),
                name="purchase_returned_within_amount",
            ),
            models.CheckConstraint(condition=Q(points_earned__gte=0), name="purchase_points_non_negative"),
            models.CheckConstraint(
                condition=Q(points_pending__gte=0) & Q(points_pending__lte=F("points_earned") - F("points_reversed")),
                name="purchase_pending_within_earned",
            ),
            models.CheckConstraint(
                condition=Q(points_reversed__gte=0) & Q(points_reversed__lte=F("points_earned")),
                name="purchase_reversed_within_earned",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "occurred_at"], name="purchase_member_time"),
            models.Index(fields=["confirm_after"], condition=Q(confirmed_at__isnull=True), name="purchase_due"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.order_id}"


class PurchaseItem(models.Model):
    purchase = models.ForeignKey(Purchase, verbose_name=_("purchase"), on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("purchase item")
        verbose_name_plural = _("purchase items")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="item_price_non_negative"),
        ]
        indexes = [models.Index(fields=["sku"], name="purchaseitem_sku")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class Return(models.Model):
    purchase = models.ForeignKey(Purchase, verbose_name=_("purchase"), on_delete=models.PROTECT, related_name="returns")
    source = models.CharField(_("source"), max_length=40)
    return_id = models.CharField(_("return ID"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    points_reversed = models.IntegerField(
        _("points reversed"), default=0, help_text=_("Points this return took back (pending or credited).")
    )
    shortfall = models.IntegerField(
        _("shortfall"), default=0, help_text=_("Points that could not be taken back (balance too low).")
    )
    request_hash = models.CharField(_("request hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "return_id"], name="return_source_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="return_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.return_id}"


class LedgerEntry(models.Model):
    """One signed movement of spendable points. Append-only: a database trigger refuses UPDATE and DELETE."""

    class Kind(models.TextChoices):
        EARN = "earn", pgettext_lazy("points history entry", "Earned")
        BONUS = "bonus", pgettext_lazy("points history entry", "Bonus")
        REDEEM = "redeem", pgettext_lazy("points history entry", "Redeemed")
        EXPIRE = "expire", pgettext_lazy("points history entry", "Expired")
        ADJUST = "adjust", pgettext_lazy("points history entry", "Adjustment")
        REVERSAL = "reversal", pgettext_lazy("points history entry", "Reversal")
        REFERRAL = "referral", pgettext_lazy("points history entry", "Referral")
        BIRTHDAY = "birthday", pgettext_lazy("points history entry", "Birthday")
        CHALLENGE = "challenge", pgettext_lazy("points history entry", "Challenge")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    points = models.IntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=500)
    reference = models.CharField(
        _("reference"), max_length=200, blank=True, help_text=_("What caused it, e.g. purchase:shop:1001.")
    )
    purchase = models.ForeignKey(
        Purchase, verbose_name=_("purchase"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_record = models.ForeignKey(
        Return, verbose_name=_("return record"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shortfall = models.IntegerField(
        _("shortfall"), default=0, help_text=_("Points a debit could not take (balance too low).")
    )
    balance_after = models.IntegerField(_("balance after"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("ledger entry")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"),
            models.CheckConstraint(condition=Q(shortfall__gte=0), name="ledger_shortfall_non_negative"),
        ]
        indexes = [models.Index(fields=["member", "-created_at", "-id"], name="ledger_member_newest")]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.kind} ({self.member_id})"


class PointsLot(models.Model):
    """Points credited together and expiring together; debits consume the oldest lots first."""

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(LedgerEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="lot")
    points = models.IntegerField(_("points"))
    remaining = models.IntegerField(_("remaining"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    expiry_notified_at = models.DateTimeField(_("expiry notified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["expires_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="lot_points_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")), name="lot_remaining_within_points"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "expires_at"], condition=Q(remaining__gt=0), name="lot_open_by_member"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_open_by_expiry"),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.points}"


class EarningRule(models.Model):
    """A rule staff edit in the admin. How rules combine is in docs/points.md (and `points_for_purchase`)."""

    class RuleType(models.TextChoices):
        BASE_RATE = "base_rate", _("Base rate (points per unit of currency)")
        MULTIPLIER = "multiplier", _("Multiplier")
        BONUS = "bonus", _("Flat bonus points per purchase")

    class Scope(models.TextChoices):
        ALL = "all", _("Whole purchase")
        CATEGORY = "category", _("Items of a category")
        SKU = "sku", _("Items with a SKU")

    name = models.CharField(_("name"), max_length=120)
    rule_type = models.CharField(_("rule type"), max_length=12, choices=RuleType.choices)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    scope_value = models.CharField(
        _("scope value"), max_length=100, blank=True, help_text=_("The category or SKU for scoped rules.")
    )
    rate = models.DecimalField(
        _("rate"),
        max_digits=8, decimal_places=4, default=Decimal("1"),
        help_text=_("Base rate: points per unit of currency. Multiplier: the factor (2 = double points)."),
    )
    bonus_points = models.PositiveIntegerField(
        _("bonus points"), default=0, help_text=_("Bonus rules: points added per purchase.")
    )
    min_amount = models.DecimalField(
        _("min amount"),
        max_digits=12, decimal_places=2, default=Decimal("0"), help_text=_("Bonus rules: minimum purchase amount.")
    )
    starts_at = models.DateTimeField(
        _("starts at"), null=True, blank=True, help_text=_("Campaign start; empty = always.")
    )
    ends_at = models.DateTimeField(
        _("ends at"), null=True, blank=True, help_text=_("Campaign end (exclusive); empty = open.")
    )
    weekdays = models.CharField(
        _("weekdays"),
        max_length=20, blank=True,
        help_text=_("Only on these weekdays in program time, 0=Monday … 6=Sunday, comma-separated (5,6 = weekends)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["rule_type", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="rule_rate_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="rule_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(scope="all") | ~Q(scope_value=""), name="rule_scoped_needs_value"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LotDraw(models.Model):
    """How many points a debit took from one lot, so that reversing the debit (a cancelled redemption) puts
    the points back into the lots they came from, with their original expiry."""

    entry = models.ForeignKey(LedgerEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="draws")
    lot = models.ForeignKey(PointsLot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="draws")
    points = models.IntegerField(_("points"))

    class Meta:
        verbose_name = _("lot draw")
        verbose_name_plural = _("lot draws")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="lotdraw_points_positive"),
            models.UniqueConstraint(fields=["entry", "lot"], name="lotdraw_entry_lot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id} by entry {self.entry_id}"
