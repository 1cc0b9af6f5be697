"""Newsletter admin: compose (Markdown + placeholders), pick the audience, preview to yourself, send now or
schedule; per-newsletter stats in the list (one aggregated query) and a read-only list of deliveries."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from backoffice.models import MemberScore, Newsletter, NewsletterDelivery
from backoffice.services import newsletters
from config.exceptions import DomainError
from members.models import Tier


class NewsletterForm(forms.ModelForm):
    """The audience JSON as form fields. Criteria combine with AND; consent and an e-mail are always required."""

    audience_tiers = forms.ModelMultipleChoiceField(
        Tier.objects.order_by("rank"), required=False, label=_("Tiers"),
        help_text=_("Only members in one of these tiers (none chosen = any tier)."))
    audience_segments = forms.MultipleChoiceField(
        choices=MemberScore.Segment.choices, required=False, label=_("RFM segments"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only members in one of these segments (from the last rollup)."))
    audience_p_alive_below = forms.FloatField(
        required=False, min_value=0.01, max_value=1, label=_("Churn risk: P(alive) below"),
        help_text=_("e.g. 0.3 for members the CLV model thinks are likely gone."))
    audience_expiring_points = forms.BooleanField(
        required=False, label=_("Only members with points expiring soon"))

    class Meta:
        model = Newsletter
        fields = ["subject", "body_markdown", "scheduled_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        audience = (self.instance.audience if self.instance and self.instance.pk else {}) or {}
        self.initial.setdefault("audience_tiers", audience.get("tiers", []))
        self.initial.setdefault("audience_segments", audience.get("segments", []))
        self.initial.setdefault("audience_p_alive_below", audience.get("p_alive_below"))
        self.initial.setdefault("audience_expiring_points", audience.get("expiring_points", False))

    def clean(self):
        data = super().clean()
        audience = {
            "tiers": [t.pk for t in data.get("audience_tiers") or []],
            "segments": list(data.get("audience_segments") or []),
            "p_alive_below": data.get("audience_p_alive_below"),
            "expiring_points": bool(data.get("audience_expiring_points")),
        }
        try:
            self.instance.audience = newsletters.audience_validate(audience)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc
        return data


@admin.register(Newsletter)
class NewsletterAdmin(TranslationAdmin):
    form = NewsletterForm
    list_display = ["subject", "status", "scheduled_at", "sent_at", "recipients", "sent", "failed", "unsubscribed"]
    list_filter = ["status"]
    search_fields = ["subject"]
    list_select_related = ["created_by"]
    readonly_fields = ["status", "created_by", "created_at", "sent_at", "audience_size", "rendered_preview"]
    actions = ["preview_to_me", "send_now", "schedule", "unschedule"]
    fieldsets = [
        (None, {"fields": ["subject", "body_markdown", "rendered_preview"],
                "description": _("Placeholders, replaced for each member: {first_name}, {balance}, {tier}, "
                                 "{points_expiring}, {recommended_reward}. Raw HTML in the body is shown as text.")}),
        (_("Audience"), {"fields": ["audience_tiers", "audience_segments", "audience_p_alive_below",
                                    "audience_expiring_points", "audience_size"],
                         "description": _("Always only members with marketing consent and an e-mail address.")}),
        (_("Sending"), {"fields": ["scheduled_at", "status", "sent_at", "created_by", "created_at"]}),
    ]

    def get_queryset(self, request):
        return newsletters.newsletter_stats_annotate(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            # View-only: the audience as stored, no form fields.
            return [(None, {"fields": ["subject", "body_markdown", "rendered_preview"]}),
                    (gettext("Audience"), {"fields": ["audience", "audience_size"]}),
                    (gettext("Sending"), {"fields": ["scheduled_at", "status", "sent_at", "created_by",
                                                     "created_at"]})]
        return super().get_fieldsets(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status in (Newsletter.Status.SENDING, Newsletter.Status.SENT):
            return False  # what was sent stays as it was sent
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Newsletter.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("Recipients"), ordering="n_recipients")
    def recipients(self, obj):
        return obj.n_recipients

    @admin.display(description=_("Sent"), ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description=_("Failed"), ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description=_("Unsubscribed"), ordering="n_unsubscribed")
    def unsubscribed(self, obj):
        return obj.n_unsubscribed

    @admin.display(description=_("Members in the audience now"))
    def audience_size(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return newsletters.newsletter_audience_count(newsletter=obj)

    @admin.display(description=_("Preview (sample values)"))
    def rendered_preview(self, obj):
        if obj is None or not obj.body_markdown:
            return "—"
        body = newsletters.placeholders_fill(newsletters.markdown_to_html(obj.body_markdown),
                                             newsletters.SAMPLE_VALUES.as_dict(), escape=True)
        # Safe: markdown_to_html escapes raw HTML and neutralises link schemes; placeholders are escaped.
        return format_html('<div style="max-width:600px;border:1px solid #ddd;padding:8px">{}</div>',
                           mark_safe(body))  # noqa: S308

    @admin.action(description=_("Send a preview to myself"), permissions=["view"])
    def preview_to_me(self, request, queryset):
        for newsletter in queryset[:5]:
            try:
                email = newsletters.newsletter_preview_send(newsletter=newsletter, user=request.user)
            except DomainError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return
            self.message_user(request, gettext("Preview of “%(newsletter)s” sent to %(email)s.")
                              % {"newsletter": newsletter, "email": email})

    @admin.action(description=_("Send now"), permissions=["change"])
    def send_now(self, request, queryset):
        self._each(request, queryset, newsletters.newsletter_send_start, gettext("Sending “%(newsletter)s” now."))

    @admin.action(description=_("Schedule at its scheduled time"), permissions=["change"])
    def schedule(self, request, queryset):
        self._each(request, queryset, newsletters.newsletter_schedule, gettext("“%(newsletter)s” is scheduled."))

    @admin.action(description=_("Back to draft (unschedule)"), permissions=["change"])
    def unschedule(self, request, queryset):
        self._each(request, queryset, newsletters.newsletter_unschedule,
                   gettext("“%(newsletter)s” is a draft again."))

    def _each(self, request, queryset, service, done: str) -> None:
        for newsletter in queryset:
            try:
                service(newsletter=newsletter)
            except DomainError as exc:
                self.message_user(request, gettext("%(newsletter)s: %(reason)s")
                                  % {"newsletter": newsletter, "reason": exc.detail}, messages.ERROR)
            else:
                self.message_user(request, done % {"newsletter": newsletter})


@admin.register(NewsletterDelivery)
class NewsletterDeliveryAdmin(admin.ModelAdmin):
    """Read-only: one row per recipient, written only by the send."""

    list_display = ["newsletter", "email", "status", "sent_at", "unsubscribed_at", "error"]
    list_filter = ["status", "newsletter"]
    search_fields = ["email", "member__member_number"]
    list_select_related = ["newsletter"]
    readonly_fields = ["newsletter", "member", "email", "status", "error", "sent_at", "unsubscribed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
