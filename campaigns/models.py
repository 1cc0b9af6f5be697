"""Targeted offers: an audience, a window and a benefit; assigned to members by a set-based job that holds a
random share of the audience out (docs/campaigns.md)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.models import TimeStampedModel
from members.models import Member, Tier


def _new_seed() -> str:
    return secrets.token_hex(8)


class Offer(TimeStampedModel):
    class Benefit(models.TextChoices):
        MULTIPLIER = "multiplier", _("Points multiplier on qualifying purchases")
        BONUS = "bonus", _("Bonus points on a qualifying purchase")

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, help_text=_("What the member reads in the portal."))
    is_active = models.BooleanField(_("active"), default=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    benefit = models.CharField(_("benefit"), max_length=12, choices=Benefit.choices, default=Benefit.MULTIPLIER)
    multiplier = models.DecimalField(
        _("multiplier"), max_digits=4, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("1.01")), MaxValueValidator(Decimal("10"))],
        help_text=_("Points multiplier: the factor on the points of the qualifying lines (2 = double), above 1 and "
                    "at most 10."),
    )
    bonus_points = models.PositiveIntegerField(
        _("bonus points"), null=True, blank=True, help_text=_("Bonus points: added once per qualifying purchase.")
    )
    category = models.CharField(
        _("category"), max_length=100, blank=True,
        help_text=_("Only purchase lines in this category qualify; empty: the whole purchase."),
    )
    min_amount = models.DecimalField(
        _("minimum amount"), max_digits=12, decimal_places=2, default=Decimal("0"),
        help_text=_("The purchase must reach this amount."),
    )
    needs_activation = models.BooleanField(
        _("needs activation"), default=False,
        help_text=_("The member must press “Activate” in the portal (or the app) before it counts."),
    )
    limit_per_member = models.PositiveIntegerField(
        _("limit per member"), null=True, blank=True,
        help_text=_("On how many purchases one member can use it; empty: every qualifying purchase in the window."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=10, validators=[MaxValueValidator(50)],
        help_text=_("This share of the audience, drawn at random, gets nothing and measures what the offer earned "
                    "(0 to 50)."),
    )
    seed = models.CharField(
        _("random seed"), max_length=32, default=_new_seed,
        help_text=_("Decides who is held out; the same seed draws the same members."),
    )
    # The audience: every condition set must hold; none set: every member.
    audience_tiers = models.ManyToManyField(Tier, verbose_name=_("tiers"), blank=True, related_name="+")
    audience_segments = ArrayField(
        models.CharField(max_length=20), verbose_name=_("RFM segments"), default=list, blank=True,
    )
    audience_languages = ArrayField(
        models.CharField(max_length=8, choices=settings.LANGUAGES), verbose_name=_("languages"), default=list,
        blank=True,
    )
    p_alive_min = models.FloatField(
        _("P(alive) from"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    p_alive_max = models.FloatField(
        _("P(alive) up to"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    clv_min = models.DecimalField(_("predicted CLV from"), max_digits=14, decimal_places=2, null=True, blank=True)
    clv_max = models.DecimalField(_("predicted CLV up to"), max_digits=14, decimal_places=2, null=True, blank=True)
    days_since_purchase_min = models.PositiveIntegerField(
        _("days since the last purchase, from"), null=True, blank=True
    )
    days_since_purchase_max = models.PositiveIntegerField(
        _("days since the last purchase, up to"), null=True, blank=True
    )
    favourite_category = models.CharField(
        _("favourite category"), max_length=100, blank=True,
        help_text=_("The category the member spent most on (from purchase items)."),
    )
    birthday_month = models.PositiveSmallIntegerField(
        _("birthday month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    joined_within_days = models.PositiveIntegerField(_("joined within (days)"), null=True, blank=True)
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up (days)"), default=30,
        help_text=_("The results count purchases from the start until this many days after the end."),
    )
    assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-starts_at", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="offer_window_ordered"),
            models.CheckConstraint(
                condition=Q(benefit="multiplier", multiplier__gt=1, multiplier__lte=10, bonus_points__isnull=True)
                | Q(benefit="bonus", bonus_points__gt=0, multiplier__isnull=True),
                name="offer_benefit_complete",
            ),
            models.CheckConstraint(condition=Q(holdout_percent__lte=50), name="offer_holdout_at_most_half"),
            models.CheckConstraint(condition=Q(limit_per_member__isnull=True) | Q(limit_per_member__gt=0),
                                   name="offer_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class OfferAssignment(models.Model):
    """A member's copy of an offer: in the treatment group (they get it) or held out (they never see it)."""

    offer = models.ForeignKey(Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE,
                               related_name="offer_assignments")
    holdout = models.BooleanField(_("held out"), default=False)
    assigned_at = models.DateTimeField(_("assigned at"))
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    points_given = models.PositiveIntegerField(
        _("points given"), default=0, help_text=_("The points the offer added to the member's purchases (its cost)."),
    )

    class Meta:
        verbose_name = _("offer assignment")
        verbose_name_plural = _("offer assignments")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "member"], name="offer_assignment_once"),
            models.CheckConstraint(condition=Q(holdout=False) | Q(activated_at__isnull=True, uses=0, points_given=0),
                                   name="offer_holdout_untouched"),
        ]
        indexes = [models.Index(fields=["member", "offer"], name="offer_assignment_member",
                                condition=Q(holdout=False))]

    def __str__(self) -> str:
        return f"{self.offer} → {self.member}"
