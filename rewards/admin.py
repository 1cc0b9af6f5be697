"""Back office for rewards: the catalog (filters, search, bulk activate/deactivate, CSV import/export, a
low-stock warning), redemptions (read-only) and vouchers (read-only; cancel with a reason)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.images import get_image_dimensions
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ImportForm
from modeltranslation.admin import TranslationAdmin

from config.admin_base import ReadOnlyAdmin
from config.exceptions import DomainError
from config.exports import spreadsheet_safe
from members.admin import member_section, member_section_register
from members.models import Tier
from rewards.models import ChallengeReward, Redemption, Reward, Voucher
from rewards.services import voucher_cancel

MAX_IMAGE_SIDE = 4000


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = ["name", "description", "image", "kind", "value", "cost_points", "is_active", "sort_order", "stock",
                  "minimum_tier", "available_from", "available_until", "limit_per_member", "limit_period_days",
                  "voucher_valid_days", "is_birthday_reward", "category"]

    def clean_cost_points(self):
        cost = self.cleaned_data["cost_points"]
        if cost is not None and cost <= 0:
            raise forms.ValidationError(gettext("A reward costs at least 1 point."))
        return cost

    def clean_stock(self):
        stock = self.cleaned_data.get("stock")
        unchanged = self.instance.pk is not None and stock == self.instance.stock
        if stock is not None and stock <= 0 and not unchanged:
            raise forms.ValidationError(gettext("Enter the units available (1 or more), or leave it empty for "
                                                "unlimited. To stop a reward, untick Active."))
        return stock

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and hasattr(image, "content_type"):  # a new upload (Pillow has already verified it)
            width, height = get_image_dimensions(image)
            if not width or not height:
                raise forms.ValidationError(gettext("This file is not an image we can read."))
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise forms.ValidationError(gettext("The image is %(width)d×%(height)d pixels; at most %(max)d per "
                                                    "side.")
                                            % {"width": width, "height": height, "max": MAX_IMAGE_SIDE})
        return image


class RewardResource(resources.ModelResource):
    """CSV columns for import and export. Rows match existing rewards by name; the minimum tier by its name."""

    minimum_tier = fields.Field(attribute="minimum_tier", column_name="minimum_tier",
                                widget=widgets.ForeignKeyWidget(Tier, field="name"))

    class Meta:
        model = Reward
        import_id_fields = ["name"]
        fields = ["name", "description", "kind", "value", "cost_points", "stock", "limit_per_member",
                  "limit_period_days", "minimum_tier", "available_from", "available_until", "voucher_valid_days",
                  "is_active", "sort_order", "category"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True  # full_clean(): the same rules as the form, per row

    def export_field(self, field, instance, **kwargs):
        # django-import-export's own escaping strips only a leading "="; "+", "-" and "@" start formulas too.
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


class StockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", gettext("Low")), ("out", gettext("Out of stock")), ("unlimited", gettext("Unlimited"))]

    def queryset(self, request, queryset):
        low = settings.FIDELIO_LOW_STOCK
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=low)
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "unlimited":
            return queryset.filter(stock__isnull=True)
        return queryset


class CappedImportForm(ImportForm):
    """django-import-export's upload form with a size cap (FIDELIO_IMPORT_MAX_BYTES)."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.FIDELIO_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(gettext("The file is %(size)s; at most %(limit)s can be imported at once.")
                                        % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)})
        return upload


@admin.register(Reward)
class RewardAdmin(TranslationAdmin, ImportExportModelAdmin):
    form = RewardForm
    resource_classes = [RewardResource]
    import_form_class = CappedImportForm
    list_display = ["name", "kind", "cost_points", "value", "stock_level", "minimum_tier", "is_active",
                    "available_from", "available_until", "sort_order"]
    list_filter = ["is_active", "kind", StockFilter, "minimum_tier", "is_birthday_reward", "category"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["name", "description"]
    list_select_related = ["minimum_tier"]
    actions = ["activate", "deactivate"]
    fieldsets = [
        (None, {"fields": ["name", "description", "image", "kind", "value", "cost_points", "is_active",
                           "sort_order", "category"]}),
        (_("Availability"), {"fields": ["stock", "minimum_tier", "available_from", "available_until",
                                     "limit_per_member", "limit_period_days"]}),
        (_("Vouchers"), {"fields": ["voucher_valid_days", "is_birthday_reward"]}),
    ]

    @admin.display(description=_("stock"), ordering="stock")
    def stock_level(self, reward):
        if reward.stock is None:
            return gettext("unlimited")
        if reward.stock == 0:
            return format_html('<strong class="stock-out">{}</strong>', gettext("out of stock"))
        if reward.stock <= settings.FIDELIO_LOW_STOCK:
            return format_html('<strong class="stock-low">{}</strong>',
                               gettext("%(stock)d ⚠ low") % {"stock": reward.stock})
        return reward.stock

    @admin.action(description=_("Activate selected rewards"), permissions=["change"])
    def activate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(request, ngettext("%(count)d reward activated.", "%(count)d rewards activated.", count)
                          % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected rewards"), permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, ngettext("%(count)d reward deactivated.", "%(count)d rewards deactivated.", count)
                          % {"count": count}, messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        low = Reward.objects.filter(is_active=True).filter(
            Q(stock=0) | Q(stock__lte=settings.FIDELIO_LOW_STOCK)
        ).values_list("name", "stock")
        if low and request.method == "GET":
            names = ", ".join(f"{name} ({stock})" for name, stock in low[:10])
            if len(low) > 10:
                text = gettext("Low or no stock: %(names)s and %(more)d more.") % {"names": names,
                                                                                    "more": len(low) - 10}
            else:
                text = gettext("Low or no stock: %(names)s.") % {"names": names}
            self.message_user(request, text, messages.WARNING)
        return super().changelist_view(request, extra_context)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "reward", "points_spent", "source"]
    list_filter = ["source", "reward", "created_at"]
    search_fields = ["member__member_number", "member__email", "reward__name", "voucher__code"]
    list_select_related = ["member", "reward"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class VoucherCancelForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}), label=_("Reason"),
                             help_text=_("Required. The member's points come back and the stock is restored."))


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ["code_display", "member", "reward", "status", "value", "expires_at", "used_order_id",
                    "created_at"]
    list_filter = ["status", "kind", "reward", "expires_at"]
    search_fields = ["code", "member__member_number", "member__email", "used_order_id"]
    list_select_related = ["member", "reward"]
    date_hierarchy = "created_at"
    actions = ["cancel_vouchers"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored without dashes; accept them as printed (ABCD-EFGH-JKMN).
        return super().get_search_results(request, queryset, search_term.replace("-", "").strip())

    def has_cancel_permission(self, request):
        return request.user.has_perm("rewards.change_voucher")

    @admin.action(description=_("Cancel selected vouchers (points back, with a reason)"), permissions=["cancel"])
    def cancel_vouchers(self, request, queryset):
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        form = VoucherCancelForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for voucher in queryset:
                try:
                    voucher_cancel(voucher_id=voucher.pk, reason=form.cleaned_data["reason"], by=request.user)
                    done += 1
                except DomainError as exc:
                    refused.append(f"{voucher.code_display}: {exc.detail}")
            if done:
                self.message_user(request, ngettext("%(count)d voucher cancelled; points returned.",
                                                    "%(count)d vouchers cancelled; points returned.", done)
                                  % {"count": done}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return TemplateResponse(request, "admin/rewards/voucher_cancel.html", {
            **self.admin_site.each_context(request), "title": gettext("Cancel vouchers"), "form": form,
            "vouchers": queryset.select_related("member", "reward"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


@admin.register(ChallengeReward)
class ChallengeRewardAdmin(admin.ModelAdmin):
    """Which reward a challenge hands out as a voucher on completion (set up the challenge first)."""

    list_display = ["challenge", "reward"]
    search_fields = ["challenge__title", "reward__name"]
    autocomplete_fields = ["challenge", "reward"]
    list_select_related = ["challenge", "reward"]


# --- beside the member, for support (members.admin.MEMBER_SECTIONS) ---------------------------------------------
@member_section_register
def _member_vouchers(request, member):
    return member_section(
        request=request, member=member, perm="rewards.view_voucher", title=gettext("Vouchers"),
        queryset=Voucher.objects.filter(member=member).select_related("reward").order_by("-created_at", "-pk"),
        columns=[gettext("issued"), gettext("code"), gettext("reward"), gettext("status"), gettext("expires"),
                 gettext("used for order")],
        row=lambda v: [v.created_at, v.code_display, v.reward.name, v.get_status_display(), v.expires_at,
                       v.used_order_id],
        changelist="admin:rewards_voucher_changelist",
    )


@member_section_register
def _member_redemptions(request, member):
    return member_section(
        request=request, member=member, perm="rewards.view_redemption", title=gettext("Redemptions"),
        queryset=Redemption.objects.filter(member=member).select_related("reward").order_by("-created_at", "-pk"),
        columns=[gettext("when"), gettext("reward"), gettext("points spent"), gettext("through")],
        row=lambda r: [r.created_at, r.reward.name, r.points_spent, r.get_source_display()],
        changelist="admin:rewards_redemption_changelist",
    )
