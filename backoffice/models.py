"""Back-office state: the heartbeat, metric snapshots, member scores (RFM, CLV) and newsletters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member


class Heartbeat(models.Model):
    """One row per heartbeat name, updated by the periodic `heartbeat` task."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    last_run_at = models.DateTimeField(_("last run at"))
    worker = models.CharField(
        _("worker"), max_length=200, blank=True, help_text=_("Host name of the worker that ran it.")
    )
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_run_at:%Y-%m-%d %H:%M:%S}"


# ------------------------------------------------------------------------------------------------ metrics
class MetricSnapshot(models.Model):
    """The figures of one period as computed by the rollup of day `as_of` (names as in docs/metrics.md).
    Re-running the rollup for a day replaces that day's rows."""

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        ALL = "all", _("All time")

    as_of = models.DateField(_("as of"), db_index=True)
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("Exclusive."))
    metrics = models.JSONField(_("metrics"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        ordering = ["-as_of", "period", "-period_start"]
        constraints = [models.UniqueConstraint(fields=["as_of", "period", "period_start"], name="snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.period} from {self.period_start} (as of {self.as_of})"


class CohortCell(models.Model):
    """Retention cohort table of the rollup of day `as_of`: of the customers whose first order was in
    `cohort_month`, how many ordered `months_since` months later."""

    as_of = models.DateField(_("as of"), db_index=True)
    cohort_month = models.DateField(_("cohort month"))
    months_since = models.PositiveSmallIntegerField(_("months since"))
    customers = models.PositiveIntegerField(_("customers"))
    active = models.PositiveIntegerField(_("active"))

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        ordering = ["-as_of", "cohort_month", "months_since"]
        constraints = [models.UniqueConstraint(fields=["as_of", "cohort_month", "months_since"],
                                               name="cohort_cell_unique")]

    def __str__(self) -> str:
        return f"cohort {self.cohort_month:%Y-%m} +{self.months_since}: {self.active}/{self.customers}"


class MemberScore(models.Model):
    """A member's RFM scores and segment and CLV figures, as of the last rollup (for targeting)."""

    class Segment(models.TextChoices):
        CHAMPIONS = "champions", _("Champions")
        LOYAL = "loyal", _("Loyal")
        POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
        NEW = "new", _("New")
        PROMISING = "promising", _("Promising")
        NEED_ATTENTION = "need_attention", _("Need attention")
        AT_RISK = "at_risk", _("At risk")
        CANT_LOSE = "cant_lose", _("Can't lose")
        HIBERNATING = "hibernating", _("Hibernating")
        LOST = "lost", _("Lost")

    member = models.OneToOneField(
        Member, verbose_name=_("member"), primary_key=True, on_delete=models.CASCADE, related_name="score"
    )
    as_of = models.DateField(_("as of"))
    recency_days = models.PositiveIntegerField(_("recency days"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("frequency"), default=0)
    monetary = models.DecimalField(_("monetary"), max_digits=14, decimal_places=2, default=0)
    r_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, blank=True, db_index=True)
    clv_historic = models.DecimalField(_("historic CLV"), max_digits=14, decimal_places=2, default=0)
    clv_12m = models.DecimalField(
        _("predicted CLV (12 months)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    expected_purchases_12m = models.FloatField(_("expected purchases (12 months)"), null=True, blank=True)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)

    class Meta:
        verbose_name = _("member score")
        verbose_name_plural = _("member scores")
        constraints = [
            models.CheckConstraint(
                condition=(Q(r_score__isnull=True) | Q(r_score__gte=1) & Q(r_score__lte=5)),
                name="score_r_1_to_5"),
            models.CheckConstraint(
                condition=(Q(p_alive__isnull=True) | Q(p_alive__gte=0) & Q(p_alive__lte=1)),
                name="score_p_alive_probability"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.segment or '—'}"


# --------------------------------------------------------------------------------------------- newsletters
class Newsletter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(_("subject"), max_length=200)
    body_markdown = models.TextField(
        _("body (Markdown)"),
        help_text=_("Markdown; placeholders: {first_name}, {balance}, {tier}, "
                    "{points_expiring}, {recommended_reward}."),
    )
    audience = models.JSONField(_("audience"), default=dict, blank=True,
                                help_text=_('e.g. {"tiers": [1, 2], "segments": ["at_risk"], "p_alive_below": 0.3, '
                                          '"expiring_points": true}; empty = all members with marketing consent.'))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("newsletter")
        verbose_name_plural = _("newsletters")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


class NewsletterDelivery(models.Model):
    """One row per recipient (unique): marked sent only after the e-mail backend accepted the message, so a
    retried or restarted send delivers exactly one copy."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("newsletter delivery status", "Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    newsletter = models.ForeignKey(
        Newsletter, verbose_name=_("newsletter"), on_delete=models.CASCADE, related_name="deliveries"
    )
    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("e-mail"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("newsletter delivery")
        verbose_name_plural = _("newsletter deliveries")
        constraints = [models.UniqueConstraint(fields=["newsletter", "member"], name="delivery_once_per_member")]
        indexes = [models.Index(fields=["newsletter", "status"], name="delivery_newsletter_status")]

    def __str__(self) -> str:
        return f"{self.newsletter_id} → {self.email} ({self.status})"
