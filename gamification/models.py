"""Gamification: challenges and their participations and counted events, badges and who earned them.

Leaderboards are Redis sorted sets (gamification.services.leaderboards), rebuilt from the ledger: no model.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.periods import period_bounds
from loyalty.models import LedgerEntry
from members.models import Member


class Badge(models.Model):
    """Earned by completing a challenge; shown locked (with how to earn it) until then."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    icon = models.CharField(_("icon"), max_length=8, default="★", help_text=_("An emoji or a short symbol."))
    description = models.CharField(_("description"), max_length=300, blank=True)
    how_to_earn = models.CharField(_("how to earn"), max_length=300, help_text=_("Shown while the badge is locked."))
    sort_order = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Challenge(models.Model):
    class Goal(models.TextChoices):
        PURCHASES = "purchases", _("Number of purchases")
        SPEND = "spend", _("Amount spent")
        CATEGORIES = "categories", _("Distinct product categories")
        REVIEWS = "reviews", _("Reviews approved")
        SURVEYS = "surveys", _("Surveys answered")
        REFERRALS = "referrals", _("Referrals confirmed")
        STREAK = "streak", _("A purchase in N consecutive weeks")

    class Recurrence(models.TextChoices):
        NONE = "none", _("Once (the fixed dates)")
        WEEKLY = "weekly", _("Every week")
        MONTHLY = "monthly", _("Every month")

    class Enrolment(models.TextChoices):
        AUTOMATIC = "automatic", pgettext_lazy("challenge enrolment", "Automatic")
        OPT_IN = "opt_in", pgettext_lazy("challenge enrolment", "Opt-in")

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    icon = models.CharField(_("icon"), max_length=8, default="🏁")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    recurrence = models.CharField(
        _("recurrence"),
        max_length=8, choices=Recurrence.choices, default=Recurrence.NONE,
        help_text=_("Weekly or monthly challenges start afresh each period between the dates."),
    )
    audience_tiers = models.ManyToManyField(
        "members.Tier",
        verbose_name=_("audience tiers"),
        blank=True,
        related_name="+",
        help_text=_("Empty = every member."),
    )
    enrolment = models.CharField(_("enrolment"), max_length=10, choices=Enrolment.choices, default=Enrolment.AUTOMATIC)
    goal = models.CharField(_("goal"), max_length=12, choices=Goal.choices)
    target = models.DecimalField(
        _("target"),
        max_digits=12, decimal_places=2,
        help_text=_("Count (purchases, categories, reviews…), amount (spend) or weeks (streak)."),
    )
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    badge = models.ForeignKey(
        Badge, verbose_name=_("badge"), null=True, blank=True, on_delete=models.PROTECT, related_name="challenges"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-starts_at", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="challenge_window_ordered"),
            models.CheckConstraint(condition=Q(target__gt=0), name="challenge_target_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def period_at(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The period that holds `moment` (program time): the whole window, or its week or month clipped to the
        window; None outside the window."""
        if not self.starts_at <= moment < self.ends_at:
            return None
        if self.recurrence == self.Recurrence.NONE:
            return self.starts_at, self.ends_at
        start, end = period_bounds(moment, "week" if self.recurrence == self.Recurrence.WEEKLY else "month")
        return max(start, self.starts_at), min(end, self.ends_at)


class ChallengeParticipation(models.Model):
    """A member's progress in one challenge period (the whole window, or one week or month of it)."""

    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), on_delete=models.PROTECT, related_name="participations"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="challenge_participations"
    )
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    progress = models.DecimalField(_("progress"), max_digits=14, decimal_places=2, default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    reward_entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("reward entry"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("challenge participation")
        verbose_name_plural = _("challenge participations")
        constraints = [
            models.UniqueConstraint(fields=["challenge", "member", "period_start"], name="participation_unique"),
        ]
        indexes = [
            models.Index(fields=["member", "-period_start"], name="participation_member"),
            models.Index(fields=["challenge", "period_start", "-progress"], name="participation_board"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.challenge_id} from {self.period_start:%Y-%m-%d}"


class ChallengeEvent(models.Model):
    """One event counted for one participation; its key (e.g. purchase:123) makes a repeat a no-op."""

    participation = models.ForeignKey(
        ChallengeParticipation, verbose_name=_("participation"), on_delete=models.CASCADE, related_name="events"
    )
    key = models.CharField(_("key"), max_length=120)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, default=1)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    undone = models.BooleanField(_("undone"), default=False, help_text=_("Undone by a return: no longer counts."))

    class Meta:
        verbose_name = _("challenge event")
        verbose_name_plural = _("challenge events")
        constraints = [models.UniqueConstraint(fields=["participation", "key"], name="challenge_event_once")]

    def __str__(self) -> str:
        return self.key


class MemberBadge(models.Model):
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="badges")
    badge = models.ForeignKey(Badge, verbose_name=_("badge"), on_delete=models.PROTECT, related_name="holders")
    earned_at = models.DateTimeField(_("earned at"))
    challenge = models.ForeignKey(
        Challenge, verbose_name=_("challenge"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("member badge")
        verbose_name_plural = _("member badges")
        constraints = [models.UniqueConstraint(fields=["member", "badge"], name="member_badge_once")]

    def __str__(self) -> str:
        return f"{self.badge} for {self.member_id}"
