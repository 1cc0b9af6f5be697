"""Offers in the back office: define the audience, window and benefit; assign now; see each offer's groups."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from campaigns.models import Offer, OfferAssignment
from campaigns.selectors import offer_results
from campaigns.services.offers import audience_members, offer_assign, segment_choices
from config.admin_base import ReadOnlyAdmin
from members.formatting import money_format, number_format


class OfferForm(forms.ModelForm):
    audience_segments = forms.MultipleChoiceField(label=_("RFM segments"), required=False,
                                                  widget=forms.CheckboxSelectMultiple, choices=segment_choices)
    audience_languages = forms.MultipleChoiceField(label=_("languages"), required=False,
                                                   widget=forms.CheckboxSelectMultiple, choices=settings.LANGUAGES)
    save_empty_audience = forms.BooleanField(
        label=_("Save even if the audience matches no member today"), required=False,
        help_text=_("For an audience that members will enter later (e.g. a birthday month)."),
    )

    class Meta:
        model = Offer
        exclude: list[str] = []  # the admin's fieldsets decide

    def clean(self):
        data = super().clean()
        now = timezone.now()
        benefit = data.get("benefit")
        if benefit == Offer.Benefit.MULTIPLIER:
            if data.get("multiplier") is None:
                self.add_error("multiplier", _("A points multiplier needs its factor (above 1, at most 10)."))
            data["bonus_points"] = None
        elif benefit == Offer.Benefit.BONUS:
            if not data.get("bonus_points"):
                self.add_error("bonus_points", _("Bonus points need a number of points above zero."))
            data["multiplier"] = None
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if ends_at is not None and ends_at <= now and (self.instance.pk is None or "ends_at" in self.changed_data):
            self.add_error("ends_at", _("The offer would be over already: its window must end in the future."))
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            self.add_error("ends_at", _("The window must end after it starts."))
        for low, high in (("p_alive_min", "p_alive_max"), ("clv_min", "clv_max"),
                          ("days_since_purchase_min", "days_since_purchase_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, _("The upper bound must not be below the lower one."))
        if not self.errors and not data.get("save_empty_audience") and self._audience_size(data, now) == 0:
            raise forms.ValidationError(
                _("This audience matches no member today. Widen it, or tick “Save even if the audience matches no "
                  "member today”."), code="empty_audience")
        return data

    def _audience_size(self, data: dict, now) -> int:
        draft = Offer(**{f.name: data.get(f.name) for f in Offer._meta.concrete_fields
                         if f.name in data and f.name != "id"})
        tiers = list(data.get("audience_tiers") or [])
        members = audience_members(draft, now=now)
        if tiers:
            members = members.filter(tier__in=tiers)
        return members.count()


@admin.register(Offer)
class OfferAdmin(TranslationAdmin):
    """Targeted offers: who (audience), when (window), what (benefit), and the random holdout that measures them."""

    form = OfferForm
    list_display = ["name", "benefit", "starts_at", "ends_at", "is_active", "treated", "held_out", "activated",
                    "uses"]
    list_filter = ["is_active", "benefit", "needs_activation", "starts_at"]
    search_fields = ["name", "description", "category", "favourite_category"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["audience_tiers"]
    readonly_fields = ["assigned_at", "audience_size", "results"]
    actions = ["assign_now"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active"]}),
        (_("Window and benefit"), {"fields": ["starts_at", "ends_at", "benefit", "multiplier", "bonus_points",
                                             "category", "min_amount", "needs_activation", "limit_per_member"]}),
        (_("Audience (every condition set must hold; none: every member)"), {"fields": [
            "audience_tiers", "audience_segments", "p_alive_min", "p_alive_max", "clv_min", "clv_max",
            "days_since_purchase_min", "days_since_purchase_max", "favourite_category", "birthday_month",
            "audience_languages", "joined_within_days", "save_empty_audience", "audience_size"]}),
        (_("Measurement"), {"fields": ["holdout_percent", "seed", "follow_up_days", "assigned_at", "results"]}),
    ]

    def get_queryset(self, request):
        # The groups' figures aggregated for the whole list (no query per row).
        return super().get_queryset(request).annotate(
            _treated=Count("assignments", filter=Q(assignments__holdout=False)),
            _held_out=Count("assignments", filter=Q(assignments__holdout=True)),
            _activated=Count("assignments", filter=Q(assignments__activated_at__isnull=False)),
            _uses=Sum("assignments__uses"),
        )

    @admin.display(description=_("given to"), ordering="_treated")
    def treated(self, offer):
        return offer._treated

    @admin.display(description=_("held out"), ordering="_held_out")
    def held_out(self, offer):
        return offer._held_out

    @admin.display(description=_("activated"), ordering="_activated")
    def activated(self, offer):
        return offer._activated

    @admin.display(description=_("uses"), ordering="_uses")
    def uses(self, offer):
        return offer._uses or 0

    @admin.display(description=_("audience today"))
    def audience_size(self, offer):
        if offer.pk is None:
            return "—"
        return audience_members(offer, now=timezone.now()).count()

    @admin.display(description=_("results"))
    def results(self, offer):
        """Treatment against holdout (campaigns.selectors.offer_results), on the offer's page only."""
        if offer.pk is None:
            return "—"
        r = offer_results(offer=offer)
        row = "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        rows = format_html_join("", row, (
            (label, number_format(g["members"]), number_format(g["purchasers"]), number_format(g["orders"]),
             money_format(g["revenue_per_member"]), number_format(g["points_given"]))
            for label, g in ((_("Treatment"), r["treatment"]), (_("Holdout"), r["holdout"]))))
        if r["incremental_revenue"] is None:
            verdict = _("No holdout: nothing to compare with.")
        else:
            verdict = _("Incremental revenue %(amount)s (95 %% interval %(low)s to %(high)s); cost of the points "
                        "%(cost)s; ROI %(roi)s.") % {
                "amount": money_format(r["incremental_revenue"]),
                "low": money_format(r["incremental_revenue_low"]) if r["incremental_revenue_low"] is not None else "—",
                "high": money_format(r["incremental_revenue_high"]) if r["incremental_revenue_high"] is not None
                else "—",
                "cost": money_format(r["cost"]), "roi": "—" if r["roi"] is None else number_format(r["roi"])}
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table><p>{}</p><p class='help'>{}</p>",
            _("Members"), _("Purchasers"), _("Orders"), _("Revenue per member"), _("Points given"), rows, verdict,
            _("Purchases from the start until %(until)s, net of returns; the interval by Welch's t.") % {
                "until": date_format(timezone.localtime(r["measured_until"]), "DATETIME_FORMAT")},
        )

    @admin.action(description=_("Assign the selected offers now"), permissions=["change"])
    def assign_now(self, request, queryset):
        treated = held_out = 0
        for offer in queryset.prefetch_related("audience_tiers"):
            done = offer_assign(offer=offer)
            treated, held_out = treated + done["treatment"], held_out + done["holdout"]
        self.message_user(request, ngettext(
            "%(treated)d member was given an offer; %(held_out)d held out.",
            "%(treated)d members were given an offer; %(held_out)d held out.", treated,
        ) % {"treated": treated, "held_out": held_out}, messages.SUCCESS)


@admin.register(OfferAssignment)
class OfferAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["offer", "member", "holdout", "assigned_at", "activated_at", "uses"]
    list_filter = ["holdout", "offer", ("activated_at", admin.EmptyFieldListFilter)]
    search_fields = ["member__member_number", "member__email", "offer__name"]
    list_select_related = ["offer", "member"]
    date_hierarchy = "assigned_at"
