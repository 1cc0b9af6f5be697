"""Back office for support feedback: record from any channel, follow the deadline (overdue highlighted),
resolve with a note, optionally give goodwill points (capped per agent per day)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.exceptions import DomainError
from feedback.models import FeedbackRecord, ResponseTime
from feedback.services import (
    feedback_goodwill,
    feedback_record,
    feedback_status_change,
    support_agents,
    text_validate,
)
from members.admin import member_section, member_section_register
from members.models import User

Status = FeedbackRecord.Status


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", gettext("Overdue")), ("due_today", gettext("Due within 24 h"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        open_ = queryset.filter(status__in=[Status.OPEN, Status.IN_PROGRESS])
        if self.value() == "overdue":
            return open_.filter(due_at__lt=now)
        if self.value() == "due_today":
            return open_.filter(due_at__gte=now, due_at__lt=now + timedelta(hours=24))
        return queryset


class FeedbackRecordForm(forms.ModelForm):
    give_goodwill = forms.IntegerField(
        required=False, min_value=1, label=_("Give goodwill points"),
        help_text=_("Optional, once per record; recorded in the ledger with you as the author (daily limit "
                    "applies)."))

    class Meta:
        model = FeedbackRecord
        fields = ["member", "channel", "kind", "category", "sentiment", "text", "order_id", "assignee", "status",
                  "resolution_note", "notify_member"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Support agents only (and whoever holds the record now, if they have left the group).
        agents = Q(pk__in=support_agents().values("pk"))
        if self.instance.assignee_id:
            agents |= Q(pk=self.instance.assignee_id)
        self.fields["assignee"].queryset = User.objects.filter(agents).order_by("email")

    def clean_text(self):
        try:
            return text_validate(self.cleaned_data.get("text", ""))
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean(self):
        data = super().clean()
        if data.get("status") == Status.RESOLVED and not (data.get("resolution_note") or "").strip():
            self.add_error("resolution_note", gettext("Say what was done before resolving."))
        if data.get("give_goodwill") and not data.get("member"):
            self.add_error("give_goodwill", gettext("Goodwill needs a member."))
        if self.instance.pk and data.get("give_goodwill") and self.instance.goodwill_entry_id:
            self.add_error("give_goodwill", gettext("Goodwill was already given for this record."))
        return data


@admin.register(FeedbackRecord)
class FeedbackRecordAdmin(admin.ModelAdmin):
    form = FeedbackRecordForm
    list_display = ["id", "created_at", "member", "channel", "kind", "category", "sentiment", "summary",
                    "status_badge", "assignee", "deadline"]
    list_display_links = ["id", "created_at"]
    list_filter = [OverdueFilter, "status", "category", "channel", "sentiment", "kind",
                   ("assignee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["text", "order_id", "member__member_number", "member__email", "resolution_note"]
    list_select_related = ["member", "assignee"]
    autocomplete_fields = ["member"]
    readonly_fields = ["due_at", "resolved_at", "goodwill_points", "goodwill_entry", "created_by", "created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fieldsets = [
        (_("Feedback"), {"fields": ["member", "channel", "kind", "category", "sentiment", "text", "order_id"]}),
        (_("Handling"), {"fields": ["assignee", "status", "due_at", "resolution_note", "resolved_at",
                                    "notify_member"]}),
        (_("Goodwill"), {"fields": ["give_goodwill", "goodwill_points", "goodwill_entry"]}),
        (_("Record"), {"fields": ["created_by", "created_at"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # records are the history of what customers told us: close them instead

    @admin.display(description=_("feedback"))
    def summary(self, record):
        return record.text if len(record.text) <= 80 else record.text[:79] + "…"  # plain text: escaped

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, record):
        return record.get_status_display()

    @admin.display(description=_("respond by"), ordering="due_at")
    def deadline(self, record):
        text = timezone.localtime(record.due_at).strftime("%Y-%m-%d %H:%M")
        if record.is_overdue:
            return format_html('<strong class="overdue" style="color:#b00020">{}</strong>',
                               gettext("%(deadline)s — overdue") % {"deadline": text})
        return text

    def get_changeform_initial_data(self, request):
        return {"assignee": request.user.pk, "channel": FeedbackRecord.Channel.PHONE}

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            record, _created = feedback_record(
                member=data.get("member"), channel=data["channel"], category=data["category"], kind=data["kind"],
                sentiment=data["sentiment"], text=data["text"], order_id=data.get("order_id") or "",
                created_by=request.user, assignee=data.get("assignee"),
            )
            FeedbackRecord.objects.filter(pk=record.pk).update(notify_member=data.get("notify_member", True))
            obj.pk = record.pk
            obj.refresh_from_db()
            if data.get("status") and data["status"] != Status.OPEN:
                feedback_status_change(record_id=obj.pk, status=data["status"], by=request.user,
                                       note=data.get("resolution_note", ""))
        else:
            wanted = data["status"]
            previous = FeedbackRecord.objects.get(pk=obj.pk).status
            obj.status = previous  # the status moves only through the service (its rules, its e-mail)
            super().save_model(request, obj, form, change)
            if wanted != previous:
                try:
                    feedback_status_change(record_id=obj.pk, status=wanted, by=request.user,
                                           note=data.get("resolution_note", ""))
                except DomainError as exc:
                    self.message_user(request, exc.detail, messages.ERROR)
        if data.get("give_goodwill"):
            try:
                feedback_goodwill(record_id=obj.pk, points=data["give_goodwill"], agent=request.user)
                given = data["give_goodwill"]
                self.message_user(request, ngettext("%(count)d goodwill point given.",
                                                    "%(count)d goodwill points given.", given) % {"count": given},
                                  messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, exc.detail, messages.ERROR)


@admin.register(ResponseTime)
class ResponseTimeAdmin(admin.ModelAdmin):
    list_display = ["category", "hours"]


# --- beside the member, for support (members.admin.MEMBER_SECTIONS) ---------------------------------------------
@member_section_register
def _member_feedback(request, member):
    return member_section(
        request=request, member=member, perm="feedback.view_feedbackrecord", title=gettext("Feedback"),
        queryset=FeedbackRecord.objects.filter(member=member).select_related("assignee").order_by("-created_at"),
        columns=[gettext("received"), gettext("kind"), gettext("about"), gettext("status"), gettext("respond by"),
                 gettext("assignee"), gettext("text")],
        row=lambda f: [f.created_at, f.get_kind_display(), f.get_category_display(), f.get_status_display(),
                       f.due_at, f.assignee, f.text[:120]],
        changelist="admin:feedback_feedbackrecord_changelist",
    )
