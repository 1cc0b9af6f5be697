"""Surveys (NPS, CSAT), invitations and responses; product reviews; support feedback records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models import LedgerEntry, Purchase
from members.models import Member, Tier

TEXT_MAX = 5000


# ------------------------------------------------------------------------------------------------- surveys
class Survey(models.Model):
    class Trigger(models.TextChoices):
        AFTER_PURCHASE = "after_purchase", _("After a confirmed purchase")
        SCHEDULED = "scheduled", _("On a date, to chosen tiers")
        ALWAYS_OPEN = "always_open", _("Always open in the portal")

    title = models.CharField(_("title"), max_length=120)
    intro = models.TextField(_("intro"), blank=True, max_length=1000)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    delay_days = models.PositiveIntegerField(
        _("delay days"), default=2, help_text=_("After purchase: days after confirmation.")
    )
    min_days_between = models.PositiveIntegerField(
        _("min days between"),
        default=30, help_text=_("After purchase: at most one invitation per member in this many days."))
    send_at = models.DateTimeField(
        _("send at"), null=True, blank=True, help_text=_("Scheduled: when the invitations go out.")
    )
    audience_tiers = models.ManyToManyField(
        Tier, verbose_name=_("audience tiers"), blank=True, related_name="+", help_text=_("Scheduled: empty = all.")
    )
    link_valid_days = models.PositiveIntegerField(_("link valid days"), default=30)
    bonus_points = models.PositiveIntegerField(
        _("bonus points"), default=0, help_text=_("Points for answering (0 = none).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(link_valid_days__gt=0), name="survey_link_days_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("NPS (0–10)")
        CSAT = "csat", _("CSAT (1–5)")
        TEXT = "text", _("Free text")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=300)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("Single or multiple choice: the options.")
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text


class SurveyInvitation(models.Model):
    """One invitation (e-mailed with a signed, single-use link). `key` makes a repeat of the sending task a
    no-op: purchase:<id> (after a purchase) or member:<id> (scheduled)."""

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="invitations")
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="survey_invitations"
    )
    purchase = models.ForeignKey(
        Purchase, verbose_name=_("purchase"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(_("key"), max_length=80)
    nonce = models.CharField(_("nonce"), max_length=32, unique=True, help_text=_("Random; signed into the link."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [models.UniqueConstraint(fields=["survey", "key"], name="invitation_once_per_key")]
        indexes = [models.Index(fields=["member", "-created_at"], name="invitation_member_newest")]

    def __str__(self) -> str:
        return f"{self.survey} → {self.member_id}"


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="responses")
    member = models.ForeignKey(
        Member, verbose_name=_("member"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invitation = models.OneToOneField(
        SurveyInvitation,
        verbose_name=_("invitation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="response",
    )
    bonus_entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("bonus entry"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at"]
        constraints = [
            # An always-open survey is answered once per member.
            models.UniqueConstraint(fields=["survey", "member"], condition=Q(invitation__isnull=True),
                                    name="response_open_survey_once"),
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to {self.survey_id}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("response"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        SurveyQuestion, verbose_name=_("question"), on_delete=models.PROTECT, related_name="answers"
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=SurveyQuestion.Kind.choices, help_text=_("Copied for reporting.")
    )
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=TEXT_MAX)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(kind="nps") & Q(score__gte=0) & Q(score__lte=10))
                | (Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5)),
                name="answer_score_in_range",
            ),
        ]
        indexes = [models.Index(fields=["kind", "score"], name="answer_kind_score")]

    def __str__(self) -> str:
        return f"answer {self.pk}"


# ------------------------------------------------------------------------------------------------- reviews
class Review(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("review status", "Waiting for moderation")
        APPROVED = "approved", pgettext_lazy("review status", "Approved")
        REJECTED = "rejected", pgettext_lazy("review status", "Rejected")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="reviews")
    sku = models.CharField(_("SKU"), max_length=100, db_index=True)
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"))
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), max_length=TEXT_MAX)
    verified = models.BooleanField(
        _("verified"), default=False, help_text=_("Bought it, and the return window has passed.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    edited_at = models.DateTimeField(
        _("edited at"), null=True, blank=True, help_text=_("A member may edit once within 48 hours.")
    )
    bonus_entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("bonus entry"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
            models.UniqueConstraint(fields=["member", "sku"], name="review_once_per_product"),
        ]
        indexes = [models.Index(fields=["sku", "status"], name="review_product_status")]

    def __str__(self) -> str:
        return f"{self.sku}: {self.title}"


# ------------------------------------------------------------------------------------------------- support
class FeedbackRecord(models.Model):
    """Feedback from any channel, recorded by a support agent, a member (portal) or a tool (API)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        CHAT = "chat", _("Chat")
        STORE = "store", _("In store")
        SOCIAL = "social", _("Social media")
        PORTAL = "portal", _("Member portal")

    class Category(models.TextChoices):
        PRODUCT = "product", pgettext_lazy("feedback category", "Product")
        DELIVERY = "delivery", pgettext_lazy("feedback category", "Delivery")
        SERVICE = "service", pgettext_lazy("feedback category", "Service")
        WEBSITE = "website", pgettext_lazy("feedback category", "Website")
        PRICE = "price", pgettext_lazy("feedback category", "Price")
        OTHER = "other", pgettext_lazy("feedback category", "Other")

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", pgettext_lazy("feedback kind", "Complaint")
        SUGGESTION = "suggestion", pgettext_lazy("feedback kind", "Suggestion")
        PRAISE = "praise", pgettext_lazy("feedback kind", "Praise")
        QUESTION = "question", pgettext_lazy("feedback kind", "Question")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("feedback status", "Open")
        IN_PROGRESS = "in_progress", pgettext_lazy("feedback status", "In progress")
        RESOLVED = "resolved", pgettext_lazy("feedback status", "Resolved")
        CLOSED = "closed", pgettext_lazy("feedback status", "Closed")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPLAINT)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    sentiment = models.CharField(_("sentiment"), max_length=8, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    text = models.TextField(_("text"), max_length=TEXT_MAX)
    order_id = models.CharField(_("order ID"), max_length=100, blank=True, help_text=_("The related order, if any."))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_feedback",
    )
    due_at = models.DateTimeField(_("due at"), help_text=_("Respond by (set from the category's response time)."))
    resolution_note = models.TextField(_("resolution note"), blank=True, max_length=TEXT_MAX)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    notify_member = models.BooleanField(
        _("notify member"), default=True, help_text=_('Send "you told us, we acted" on resolution.')
    )
    goodwill_points = models.PositiveIntegerField(_("goodwill points"), default=0)
    goodwill_entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("goodwill entry"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # API clients: a retry with the same key (per client: `idempotency_scope`) records nothing new; the request's
    # digest tells a retry from another body under the same key (409).
    idempotency_scope = models.CharField(_("idempotency scope"), max_length=40, blank=True, default="")
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, null=True, blank=True,  # noqa: DJ001 - NULL: no key
                                       help_text=_("API clients: a retry with the same key records nothing new."))
    request_hash = models.CharField(_("request hash"), max_length=64, blank=True, default="", editable=False)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("feedback record")
        verbose_name_plural = _("feedback records")
        ordering = ["due_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
                                   name="feedback_resolved_has_time"),
            models.UniqueConstraint(fields=["idempotency_scope", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False), name="feedback_idempotency_unique"),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="feedback_status_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()} ({self.get_status_display()})"

    @property
    def is_overdue(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS) and self.due_at < timezone.now()


class ResponseTime(models.Model):
    """How long support has to respond, per category (categories without a row: 24 hours)."""

    category = models.CharField(_("category"), max_length=10, choices=FeedbackRecord.Category.choices, unique=True)
    hours = models.PositiveIntegerField(_("hours"), default=24)

    class Meta:
        verbose_name = _("response time")
        verbose_name_plural = _("response times")
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="response_time_positive")]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.hours} h"
