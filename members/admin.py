from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from members.models import IntegrationToken, Member, Tier, User
from members.services import integration_token_revoke, member_erase
from members.services.privacy import REASON_MAX


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX, strip=True,
        help_text=_("Recorded with the erasure, e.g. the date and channel of the member's request."))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Tier)
class TierAdmin(TranslationAdmin):
    list_display = ["name", "rank", "threshold_points", "qualification_months", "earn_multiplier"]
    ordering = ["rank"]
    search_fields = ["name"]


# What support needs beside a member to answer "where are my points?": the apps above members plug in sections
# (points history, purchases, vouchers, redemptions, feedback, survey answers) with member_section_register. A
# section is `fn(request, member) -> MemberSection | None`; it returns None when the staff user may not view it.
@dataclass
class MemberSection:
    title: str
    columns: list[str]
    rows: list[list[object]]
    count: int
    link: str = ""  # the full, filtered change list
    empty: str = _("Nothing yet.")  # type: ignore[assignment]


MEMBER_SECTIONS: list[Callable[[HttpRequest, Member], MemberSection | None]] = []
SECTION_ROWS = 10


def member_section_register(fn: Callable[[HttpRequest, Member], MemberSection | None]):
    if fn not in MEMBER_SECTIONS:
        MEMBER_SECTIONS.append(fn)
    return fn


def member_section(*, request, member, perm: str, title: str, queryset, columns: list[str], row,
                   changelist: str) -> MemberSection | None:
    """A section from a queryset of the member's rows (newest first): the latest SECTION_ROWS, the count and a
    link to the change list filtered on the member; None without the view permission."""
    if not request.user.has_perm(perm):
        return None
    latest = list(queryset[:SECTION_ROWS])
    count = queryset.count() if len(latest) == SECTION_ROWS else len(latest)
    return MemberSection(title=title, columns=columns, rows=[row(obj) for obj in latest], count=count,
                         link=f"{reverse(changelist)}?member__id__exact={member.pk}")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["member_number", "email", "display_name", "tier", "points_balance", "pending_points",
                    "created_at"]
    list_filter = ["tier", "marketing_consent", "language", ("erased_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["member_number", "email", "display_name", "referral_code", "external_id", "first_name",
                     "last_name"]
    list_select_related = ["tier", "user"]
    # `user` is read-only: a login gets its member only through its verified e-mail (members.adapters), never
    # because staff typed a user id (a manager could otherwise re-link a member to a login of their own).
    readonly_fields = ["user", "member_number", "referral_code", "points_balance", "pending_points", "lifetime_points",
                       "tier_achieved_at", "tier_period_end", "referred_by", "referral_rewarded_at", "created_at",
                       "updated_at", "marketing_consent_at", "marketing_consent_wording", "erased_at", "erased_by",
                       "erasure_reason"]
    date_hierarchy = "created_at"
    change_form_template = "admin/members/member/change_form.html"
    actions = ["erase_personal_data"]

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("members.erase_member")

    @admin.action(description=_("Erase the personal data of the selected members…"), permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        """On a member's request (or the law's): their personal data anonymised everywhere, their login deleted,
        unused vouchers cancelled; points history and purchases stay, anonymous. Asks for the reason first."""
        members = list(queryset.filter(erased_at__isnull=True))
        form = ErasureForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            for member in members:
                member_erase(member=member, reason=form.cleaned_data["reason"], by=request.user)
            self.message_user(request, ngettext("Erased the personal data of %(count)d member.",
                                                "Erased the personal data of %(count)d members.", len(members))
                              % {"count": len(members)}, messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/members/member/erase.html", {
            **self.admin_site.each_context(request), "title": _("Erase personal data"), "members": members,
            "form": form, "opts": self.model._meta, "action": "erase_personal_data",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def change_view(self, request, object_id, form_url="", extra_context=None):
        member = self.get_object(request, object_id)
        sections = [] if member is None else [s for fn in MEMBER_SECTIONS if (s := fn(request, member)) is not None]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "member_sections": sections})


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_integration_token NAME` (the secret is shown once)."""

    list_display = ["name", "prefix", "scope_list", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["name", "prefix", "scope_list", "created_at", "expires_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash", "scopes"]
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, token):
        return ", ".join(token.scopes) or "—"

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            integration_token_revoke(token=token)
        count = queryset.count()
        self.message_user(request, ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", count)
                          % {"count": count}, messages.SUCCESS)
