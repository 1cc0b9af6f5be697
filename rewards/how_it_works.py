"""The portal's "How it works" page, for guests and members: how points are earned (the active earning rules
and the base rate), when pending points become spendable, when points expire, the tiers, how to redeem, the
welcome, review and referral bonuses and the birthday gift, all read from the program's configuration (settings
and the rows staff edit), so the page never promises what the program does not do.

It lives in rewards because rewards is the lowest app that may read all of it: earning rules (loyalty), tiers
(members) and the catalog with its birthday reward (rewards); see DESIGN.md "Apps and what each owns".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Min
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.periods import local_date
from loyalty.models import EarningRule
from loyalty.rules import Rule, earning_rules_active
from members.formatting import money_format, number_format, percent_format
from members.models import Tier
from members.selectors import member_for_user
from members.services import tiers_ranked
from rewards.models import Reward
from rewards.selectors import reward_list_available


@dataclass(frozen=True)
class RuleRow:
    """One earning rule as members read it: its name (staff's), what it gives, on what, and when."""

    name: str
    effect: str
    applies_to: str
    when: str


@dataclass(frozen=True)
class TierRow:
    tier: Tier
    reach: str  # what qualifies: points earned or money spent ("" for the entry tier)
    window: str  # the qualification period the figure counts over ("" for the entry tier)
    multiplier: str  # "" when the tier earns the base rate
    is_entry: bool


def _day(moment: datetime) -> str:
    return date_format(local_date(moment), "DATE_FORMAT")


def _rule_scope(rule: Rule) -> str:
    if rule.scope == EarningRule.Scope.CATEGORY:
        return _("Items in the category “%(category)s”") % {"category": rule.scope_value}
    if rule.scope == EarningRule.Scope.SKU:
        return _("The item %(sku)s") % {"sku": rule.scope_value}
    if rule.rule_type == EarningRule.RuleType.BONUS and rule.min_amount > 0:
        return _("Purchases of at least %(amount)s") % {"amount": money_format(rule.min_amount)}
    return _("The whole purchase")


def _rule_when(rule: Rule, now: datetime) -> str:
    """The rule's campaign window (the end is exclusive: the last day shown is the one before) and weekdays,
    each as its own translated sentence."""
    parts = []
    last_day = rule.ends_at - timedelta(microseconds=1) if rule.ends_at else None
    if rule.starts_at and rule.starts_at > now and last_day:
        parts.append(_("From %(start)s to %(end)s.") % {"start": _day(rule.starts_at), "end": _day(last_day)})
    elif rule.starts_at and rule.starts_at > now:
        parts.append(_("From %(start)s.") % {"start": _day(rule.starts_at)})
    elif last_day:
        parts.append(_("Until %(end)s.") % {"end": _day(last_day)})
    if rule.weekdays:
        parts.append(_("On %(days)s only.") % {"days": ", ".join(str(WEEKDAYS[d]) for d in sorted(rule.weekdays))})
    return " ".join(parts) or _("Always.")


def _rule_effect(rule: Rule) -> str:
    if rule.rule_type == EarningRule.RuleType.BASE_RATE:
        return _("Points per %(amount)s spent: %(rate)s") % {"amount": money_format(Decimal(1)),
                                                             "rate": number_format(rule.rate)}
    if rule.rule_type == EarningRule.RuleType.MULTIPLIER:
        return _("Points × %(factor)s") % {"factor": number_format(rule.rate)}
    return ngettext("%(count)s bonus point per purchase", "%(count)s bonus points per purchase",
                    rule.bonus_points) % {"count": number_format(rule.bonus_points)}


_RULE_ORDER = {EarningRule.RuleType.BASE_RATE: 0, EarningRule.RuleType.MULTIPLIER: 1, EarningRule.RuleType.BONUS: 2}


def earning_rules_describe(*, now: datetime) -> tuple[Decimal, list[RuleRow]]:
    """The base rate that applies right now (the best base-rate rule in force, else FIDELIO_POINTS_PER_UNIT, as
    `points_for_purchase` computes it) and every active rule that has not ended, as rows to read."""
    rules = [r for r in earning_rules_active() if not (r.ends_at and r.ends_at <= now)
             and not (r.rule_type == EarningRule.RuleType.BONUS and not r.bonus_points)]
    base_now = max((r.rate for r in rules if r.rule_type == EarningRule.RuleType.BASE_RATE and r.applies_at(now)),
                   default=Decimal(settings.FIDELIO_POINTS_PER_UNIT))
    rows = [RuleRow(name=r.name, effect=_rule_effect(r), applies_to=_rule_scope(r), when=_rule_when(r, now))
            for r in sorted(rules, key=lambda r: (_RULE_ORDER.get(r.rule_type, 3), r.starts_at or now, r.name))]
    return base_now, rows


def tiers_describe() -> list[TierRow]:
    """The tiers from the entry tier up, with what qualifies for each on the program's basis (points earned or
    money spent, FIDELIO_TIER_BASIS) within its qualification window."""
    rows = []
    for tier in reversed(tiers_ranked()):
        if settings.FIDELIO_TIER_BASIS == "points":
            figure = tier.threshold_points
            reach = ngettext("%(count)s point earned", "%(count)s points earned", figure) % {
                "count": number_format(figure)}
        else:
            figure = tier.threshold_spend
            reach = _("%(amount)s spent") % {"amount": money_format(figure)}
        is_entry = not figure
        rows.append(TierRow(
            tier=tier, is_entry=is_entry, reach="" if is_entry else reach,
            window="" if is_entry else ngettext("%(count)s month", "%(count)s months", tier.qualification_months) % {
                "count": number_format(tier.qualification_months)},
            multiplier="" if tier.earn_multiplier == 1 else _("Points × %(factor)s") % {
                "factor": number_format(tier.earn_multiplier)},
        ))
    return rows


def birthday_gift_describe(*, now: datetime) -> dict | None:
    """The birthday reward while it can be given (the daily job skips an unavailable one), with its value."""
    reward = Reward.objects.filter(is_birthday_reward=True).first()
    if reward is None or not reward.is_available(now):
        return None
    value = ""
    if reward.value is not None and reward.kind == Reward.Kind.FIXED_DISCOUNT:
        value = _("%(amount)s off") % {"amount": money_format(reward.value)}
    elif reward.value is not None and reward.kind == Reward.Kind.PERCENT_DISCOUNT:
        value = _("%(percent)s off") % {"percent": percent_format(reward.value)}
    return {"reward": reward, "value": value, "valid_days": reward.voucher_valid_days,
            "out_of_stock": reward.stock == 0}


def how_it_works(request):
    """Public: guests learn what joining brings; a member also sees their own tier marked."""
    now = timezone.now()
    base_rate, rules = earning_rules_describe(now=now)
    catalog = reward_list_available(now=now).aggregate(count=Count("pk"), cheapest=Min("cost_points"))
    return render(request, "portal/how_it_works.html", {
        "member": member_for_user(user=request.user),
        "base_rate": base_rate,
        "per_amount": money_format(Decimal(1)),
        "rules": rules,
        "tiers": tiers_describe(),
        "tier_basis": settings.FIDELIO_TIER_BASIS,
        "return_window_days": settings.FIDELIO_RETURN_WINDOW_DAYS,
        "expiry_months": settings.FIDELIO_POINTS_EXPIRY_MONTHS,
        "expiry_notice_days": settings.FIDELIO_EXPIRY_NOTICE_DAYS,
        "welcome_bonus": settings.FIDELIO_WELCOME_BONUS,
        "review_bonus": settings.FIDELIO_REVIEW_BONUS_POINTS,
        "bonus_referrer": settings.FIDELIO_REFERRAL_BONUS_REFERRER,
        "bonus_referred": settings.FIDELIO_REFERRAL_BONUS_REFERRED,
        "catalog": catalog,
        "birthday": birthday_gift_describe(now=now),
    })
