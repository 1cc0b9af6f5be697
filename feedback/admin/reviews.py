"""Back office for product reviews: the moderation queue (approve; reject with a reason) with the
authenticity signals of each review, computed for the whole page at once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.exceptions import DomainError
from feedback.models import Review
from feedback.services import REASON_MAX, review_approve, review_reject, review_signals


class ReviewRejectForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                             label=_("Reason"), help_text=_("Required. The member sees it next to their review."))


class ReviewChangeList(ChangeList):
    """Computes the signals of the listed page in a few queries and hangs them on each row."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        signals = review_signals(reviews=self.result_list)
        for review in self.result_list:
            review.signals_cached = signals.get(review.pk, [])


def _signals_html(signals) -> str:
    if not signals:
        return "—"
    return format_html_join(", ", '<strong title="{}">{}</strong>', ((s.code, s.label) for s in signals))


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "sku", "rating", "member", "verified", "status", "signals", "created_at"]
    list_filter = ["status", "verified"]
    search_fields = ["sku", "product_name", "title", "member__member_number", "member__email"]
    list_select_related = ["member"]
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = ["approve_reviews", "reject_reviews"]
    fields = ["member", "sku", "product_name", "rating", "title", "text", "verified", "signals", "status",
              "rejection_reason", "moderated_by", "moderated_at", "created_at", "edited_at", "bonus_entry"]
    readonly_fields = fields  # the member's words are never edited by staff; status changes through the actions

    def get_changelist(self, request, **kwargs):
        return ReviewChangeList

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Signals"))
    def signals(self, obj):
        cached = getattr(obj, "signals_cached", None)
        if cached is None:
            cached = review_signals(reviews=[obj]).get(obj.pk, [])
        return _signals_html(cached)

    @admin.action(description=_("Approve selected reviews"), permissions=["change"])
    def approve_reviews(self, request, queryset):
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            review_approve(review_id=pk, by=request.user)
            done += 1
        self.message_user(request, ngettext("%(count)d review approved.", "%(count)d reviews approved.", done)
                          % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Reject selected reviews (with a reason)"), permissions=["change"])
    def reject_reviews(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ReviewRejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for pk in queryset.values_list("pk", flat=True):
                try:
                    review_reject(review_id=pk, by=request.user, reason=form.cleaned_data["reason"])
                    done += 1
                except DomainError as exc:
                    refused.append(gettext("Review %(id)s: %(reason)s") % {"id": pk, "reason": exc.detail})
            if done:
                self.message_user(request, ngettext("%(count)d review rejected.", "%(count)d reviews rejected.", done)
                                  % {"count": done}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return TemplateResponse(request, "admin/feedback/review_reject.html", {
            **self.admin_site.each_context(request), "title": gettext("Reject reviews"), "form": form,
            "reviews": queryset.select_related("member"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

