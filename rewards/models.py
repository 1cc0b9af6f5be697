"""The rewards catalog, redemptions and the vouchers they issue."""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.models import TimeStampedModel
from loyalty.models import LedgerEntry
from members.models import Member, Tier

# Voucher codes: no 0/O, 1/I/L, so a code read aloud at a till or typed from paper cannot be mistaken.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31^12 ≈ 7.9e17 codes (~59 bits): unguessable at any request rate a shop allows
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]


def voucher_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def voucher_code_display(code: str) -> str:
    """ABCD-EFGH-JKMN: grouped for reading; the API accepts codes with or without the dashes."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def reward_image_path(instance: Reward, filename: str) -> str:
    """A random file name: the uploader's name never reaches the file system or a URL."""
    return f"rewards/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def validate_image_size(file) -> None:
    limit = settings.FIDELIO_REWARD_IMAGE_MAX_BYTES
    if file.size > limit:
        raise ValidationError(_("The image is %(size)d KB; the limit is %(limit)d KB."), code="image_too_large",
                              params={"size": file.size // 1024, "limit": limit // 1024})


class Reward(TimeStampedModel):
    class Kind(models.TextChoices):
        FIXED_DISCOUNT = "fixed_discount", _("Fixed discount")
        PERCENT_DISCOUNT = "percent_discount", _("Percent discount")
        FREE_PRODUCT = "free_product", _("Free product")
        FREE_SHIPPING = "free_shipping", _("Free shipping")
        GIFT = "gift", _("Gift or experience")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(
        _("image"),
        upload_to=reward_image_path, blank=True, validators=[FileExtensionValidator(IMAGE_EXTENSIONS),
                                                             validate_image_size],
        help_text=_("JPEG, PNG or WebP, at most 2 MB."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FIXED_DISCOUNT)
    value = models.DecimalField(
        _("value"),
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Money off (fixed discount, in the program currency) or percent off (percent discount); "
                  "empty where it does not apply."),
    )
    cost_points = models.PositiveIntegerField(
        _("cost points"), help_text=_("Points a member spends on it (more than zero).")
    )
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Units left. Empty = unlimited.")
    )
    limit_per_member = models.PositiveIntegerField(
        _("limit per member"),
        null=True, blank=True, help_text=_("How many times one member may redeem it. Empty = no limit.")
    )
    limit_period_days = models.PositiveIntegerField(
        _("limit period days"),
        null=True, blank=True,
        help_text=_("Count the limit over this many days (e.g. 30). Empty = over the member's whole history."),
    )
    minimum_tier = models.ForeignKey(
        Tier, verbose_name=_("minimum tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    voucher_valid_days = models.PositiveIntegerField(
        _("voucher valid days"),
        null=True, blank=True, default=90, help_text=_("Vouchers expire this many days after issue. Empty = never.")
    )
    is_birthday_reward = models.BooleanField(
        _("birthday reward"),
        default=False, help_text=_("Given free to every member on their birthday (one reward at most).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    category = models.CharField(
        _("category"), max_length=100, blank=True, db_default="",
        help_text=_("The product category it is about: members who buy most in it see it first under “For you”."),
    )

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["sort_order", "cost_points", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(cost_points__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_non_negative"),
            models.CheckConstraint(condition=Q(value__isnull=True) | Q(value__gte=0), name="reward_value_non_negative"),
            models.CheckConstraint(
                condition=~Q(kind="percent_discount") | Q(value__isnull=True) | Q(value__lte=100),
                name="reward_percent_at_most_100",
            ),
            models.CheckConstraint(condition=Q(limit_per_member__isnull=True) | Q(limit_per_member__gt=0),
                                   name="reward_limit_positive"),
            models.CheckConstraint(condition=Q(limit_period_days__isnull=True) | Q(limit_period_days__gt=0),
                                   name="reward_limit_period_positive"),
            models.CheckConstraint(condition=Q(voucher_valid_days__isnull=True) | Q(voucher_valid_days__gt=0),
                                   name="reward_voucher_days_positive"),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True) | Q(available_until__isnull=True)
                | Q(available_until__gt=models.F("available_from")),
                name="reward_available_window_ordered",
            ),
            models.UniqueConstraint(fields=["is_birthday_reward"], condition=Q(is_birthday_reward=True),
                                    name="reward_one_birthday_reward"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.kind in (self.Kind.FIXED_DISCOUNT, self.Kind.PERCENT_DISCOUNT) and self.value is None:
            errors["value"] = _("A discount needs a value.")
        if self.kind == self.Kind.PERCENT_DISCOUNT and self.value is not None and not 0 < self.value <= 100:
            errors["value"] = _("A percent discount is between 0 and 100.")
        if self.available_from and self.available_until and self.available_until <= self.available_from:
            errors["available_until"] = _("The end must be after the start.")
        if self.limit_period_days and not self.limit_per_member:
            errors["limit_period_days"] = _("A period needs a per-member limit.")
        if errors:
            raise ValidationError(errors)

    def is_available(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.is_active and (self.available_from is None or self.available_from <= now)
                and (self.available_until is None or now < self.available_until))


class Redemption(models.Model):
    """A member spent points (or got a free birthday reward) and received one voucher."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Member (portal or app)")
        INTEGRATION = "integration", _("Shop integration")
        BIRTHDAY = "birthday", _("Birthday reward")
        CHALLENGE = "challenge", _("Challenge completed")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions")
    points_spent = models.IntegerField(_("points spent"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemption",
    )
    idempotency_scope = models.CharField(
        _("idempotency scope"), max_length=64, help_text=_("Who the key belongs to: member:ID, token:ID.")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_spent__gte=0), name="redemption_points_non_negative"),
            models.UniqueConstraint(fields=["idempotency_scope", "idempotency_key"],
                                    name="redemption_idempotency_unique"),
        ]
        indexes = [models.Index(fields=["member", "reward", "-created_at"], name="redemption_member_reward")]

    def __str__(self) -> str:
        return f"{self.reward} for {self.member_id}"


class Voucher(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("voucher status", "Issued")
        USED = "used", pgettext_lazy("voucher status", "Used")
        EXPIRED = "expired", pgettext_lazy("voucher status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("voucher status", "Cancelled")

    redemption = models.OneToOneField(
        Redemption, verbose_name=_("redemption"), on_delete=models.PROTECT, related_name="voucher"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="vouchers")
    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="vouchers")
    code = models.CharField(_("code"), max_length=CODE_LENGTH, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Reward.Kind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_order_id = models.CharField(_("used in order"), max_length=100, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=500, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="used") | (Q(used_at__isnull=False) & ~Q(used_order_id="")),
                name="voucher_used_has_order",
            ),
            models.CheckConstraint(condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                                   name="voucher_cancelled_has_time"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="issued"), name="voucher_issued_expiry"),
            models.Index(fields=["member", "-created_at"], name="voucher_member_newest"),
        ]

    def __str__(self) -> str:
        return voucher_code_display(self.code)

    @property
    def code_display(self) -> str:
        return voucher_code_display(self.code)

    def is_expired(self, now=None) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.status == self.Status.ISSUED and self.expires_at is not None
            and self.expires_at <= (now or timezone.now())
        )


class ChallengeReward(models.Model):
    """The reward a challenge's completion hands out as a free voucher (besides its points and badge)."""

    challenge = models.OneToOneField(
        "gamification.Challenge", verbose_name=_("challenge"), on_delete=models.CASCADE, related_name="voucher_reward"
    )
    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("challenge reward")
        verbose_name_plural = _("challenge rewards")

    def __str__(self) -> str:
        return f"{self.reward} for completing {self.challenge}"
