"""Back office for the points engine. The ledger is read-only here; corrections go through the
"Adjust points" form, which calls loyalty.services.points_adjust with a mandatory reason."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.admin_base import ReadOnlyAdmin
from config.exceptions import DomainError
from loyalty.models import EarningRule, LedgerEntry, PointsLot, Purchase, PurchaseItem, Return
from loyalty.rules import earning_rules_changed
from loyalty.services import points_adjust
from members.admin import member_section, member_section_register
from members.models import Member


class PurchaseItemInline(admin.TabularInline):
    model = PurchaseItem
    extra = 0
    can_delete = False
    fields = ["sku", "name", "category", "quantity", "unit_price"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ReturnInline(PurchaseItemInline):
    model = Return
    fields = ["return_id", "amount", "points_reversed", "shortfall", "created_at"]
    readonly_fields = fields


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "source", "member", "amount", "currency", "occurred_at", "status", "points_earned",
                    "points_pending"]
    list_filter = ["status", "source", "awards_points", "occurred_at"]
    search_fields = ["order_id", "member__member_number", "member__email"]
    list_select_related = ["member"]
    date_hierarchy = "occurred_at"
    inlines = [PurchaseItemInline, ReturnInline]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "kind", "points", "balance_after", "shortfall", "description",
                    "author"]
    list_filter = ["kind", "created_at"]
    search_fields = ["member__member_number", "member__email", "reference", "idempotency_key"]
    list_select_related = ["member", "author"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    change_list_template = "admin/loyalty/ledgerentry/change_list.html"

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="loyalty_ledgerentry_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request):
        if not request.user.has_perm("loyalty.add_ledgerentry"):
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None, initial={"member": request.GET.get("member")})
        if request.method == "POST" and form.is_valid():
            try:
                entry = points_adjust(member=form.cleaned_data["member"], points=form.cleaned_data["points"],
                                      reason=form.cleaned_data["reason"], author=request.user)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            else:
                self.message_user(request, gettext("%(points)+d points for %(member)s. Balance now %(balance)d.")
                                  % {"points": entry.points, "member": entry.member, "balance": entry.balance_after},
                                  messages.SUCCESS)
                changelist = reverse("admin:loyalty_ledgerentry_changelist")
                return redirect(f"{changelist}?member__id__exact={entry.member_id}")
        context = {**self.admin_site.each_context(request), "title": gettext("Adjust points"), "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/loyalty/adjust.html", context)


class AdjustmentForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.all(), widget=forms.NumberInput,
                                    label=_("Member"), help_text=_("The member's id (shown in the member list)."))
    points = forms.IntegerField(label=_("Points"),
                                help_text=_("Positive to credit, negative to debit. Debits never overdraw."))
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}), label=_("Reason"),
                             help_text=_("Required. Shown to the member in their points history."))

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(gettext("Adjust by a non-zero number of points."))
        return points


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyAdmin):
    list_display = ["id", "member", "points", "remaining", "expires_at", "expiry_notified_at", "created_at"]
    list_filter = ["expires_at"]
    search_fields = ["member__member_number", "member__email"]
    list_select_related = ["member"]
    show_full_result_count = False


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "rule_type", "scope", "scope_value", "rate", "bonus_points", "starts_at", "ends_at",
                    "weekdays", "is_active"]
    list_filter = ["rule_type", "scope", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["name", "scope_value"]
    fieldsets = [
        (None, {"fields": ["name", "rule_type", "is_active"]}),
        (_("Applies to"), {"fields": ["scope", "scope_value"]}),
        (_("Effect"), {"fields": ["rate", "bonus_points", "min_amount"],
                       "description": _("Base rate and multipliers use the rate; bonus rules add bonus points.")}),
        (_("Campaign window"), {"fields": ["starts_at", "ends_at", "weekdays"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        earning_rules_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        earning_rules_changed()

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        earning_rules_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        earning_rules_changed()


# --- beside the member, for support (members.admin.MEMBER_SECTIONS) ---------------------------------------------
@member_section_register
def _member_points_history(request, member):
    return member_section(
        request=request, member=member, perm="loyalty.view_ledgerentry", title=gettext("Points history"),
        queryset=LedgerEntry.objects.filter(member=member).select_related("author").order_by("-created_at", "-pk"),
        columns=[gettext("when"), gettext("kind"), gettext("points"), gettext("balance after"),
                 gettext("description"), gettext("by")],
        row=lambda e: [e.created_at, e.get_kind_display(), e.points, e.balance_after, e.description, e.author],
        changelist="admin:loyalty_ledgerentry_changelist",
    )


@member_section_register
def _member_purchases(request, member):
    return member_section(
        request=request, member=member, perm="loyalty.view_purchase", title=gettext("Purchases"),
        queryset=Purchase.objects.filter(member=member).order_by("-occurred_at", "-pk"),
        columns=[gettext("when"), gettext("order"), gettext("amount"), gettext("status"), gettext("points"),
                 gettext("pending")],
        row=lambda p: [p.occurred_at, p.order_id, f"{p.amount} {p.currency}", p.get_status_display(),
                       p.points_earned, p.points_pending],
        changelist="admin:loyalty_purchase_changelist",
    )
