"""Back office for gamification: badges and challenges (participants, completion rate and points granted per
challenge, in one query for the whole list)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from gamification.models import Badge, Challenge


@admin.register(Badge)
class BadgeAdmin(TranslationAdmin):
    list_display = ["icon", "name", "how_to_earn", "holders_count", "sort_order"]
    list_display_links = ["name"]
    search_fields = ["name", "description", "how_to_earn"]
    ordering = ["sort_order", "name"]  # also for the challenge form's badge autocomplete (paginated)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_holders=Count("holders"))

    @admin.display(description=_("holders"), ordering="_holders")
    def holders_count(self, badge):
        return badge._holders


@admin.register(Challenge)
class ChallengeAdmin(TranslationAdmin):
    """Create and schedule challenges; each row shows participants, completion rate and points granted."""

    list_display = ["icon", "title", "goal", "target", "starts_at", "ends_at", "recurrence", "enrolment",
                    "participants", "completion_rate", "points_granted", "is_active"]
    list_display_links = ["title"]
    list_filter = ["is_active", "goal", "recurrence", "enrolment", "starts_at"]
    search_fields = ["title", "description"]
    ordering = ["-starts_at", "title"]  # also for the challenge-reward form's autocomplete (paginated)
    filter_horizontal = ["audience_tiers"]
    autocomplete_fields = ["badge"]
    date_hierarchy = "starts_at"
    fieldsets = [
        (None, {"fields": ["title", "description", "icon", "is_active"]}),
        (_("When and who"), {"fields": ["starts_at", "ends_at", "recurrence", "audience_tiers", "enrolment"]}),
        (_("Goal"), {"fields": ["goal", "target"]}),
        (_("Reward on completion"), {"fields": ["bonus_points", "badge"]}),
    ]

    def get_queryset(self, request):
        # One query for the whole list: the statistics are aggregated, not counted per row.
        return super().get_queryset(request).annotate(
            _participants=Count("participations", distinct=True),
            _completed=Count("participations", filter=Q(participations__completed_at__isnull=False), distinct=True),
            _points=Sum("participations__reward_entry__points"),
        )

    @admin.display(description=_("participants"), ordering="_participants")
    def participants(self, c):
        return c._participants

    @admin.display(description=_("completed"))
    def completion_rate(self, c):
        if not c._participants:
            return "—"
        return f"{c._completed} ({c._completed * 100 // c._participants} %)"

    @admin.display(description=_("points granted"), ordering="_points")
    def points_granted(self, c):
        return c._points or 0


