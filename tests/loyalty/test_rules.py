from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.models import EarningRule
from loyalty.rules import Line, Rule, points_for_purchase

MONDAY = datetime(2026, 3, 2, 12, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 7, 12, tzinfo=UTC)


def rule(name, rule_type, rate="1", scope="all", value="", bonus=0, min_amount="0", starts=None, ends=None,
         weekdays=()):
    return Rule(name, rule_type, scope, value, Decimal(rate), bonus, Decimal(min_amount), starts, ends,
                frozenset(weekdays))


def test_base_rate_and_rounding_down_once():
    points, text = points_for_purchase(amount=Decimal("19.99"), occurred_at=MONDAY, rules=[])
    assert points == 19
    assert "19.99 EUR × 1 pt/EUR" in text and text.endswith("→ 19 points")


def test_base_rate_rule_replaces_the_default():
    points, _ = points_for_purchase(amount=Decimal("10.00"), occurred_at=MONDAY,
                                    rules=[rule("Base", EarningRule.RuleType.BASE_RATE, rate="2.5")])
    assert points == 25


def test_tier_multiplier_applies_to_the_sum():
    points, text = points_for_purchase(amount=Decimal("99.99"), occurred_at=MONDAY, rules=[],
                                       tier_multiplier=Decimal("1.25"), tier_name="Silver")
    assert points == 124  # 124.9875 rounded down
    assert "tier Silver ×1.25" in text


def test_highest_matching_multiplier_wins_per_line_and_does_not_stack():
    rules = [
        rule("Coffee ×3", EarningRule.RuleType.MULTIPLIER, rate="3", scope="category", value="Coffee"),
        rule("Everything ×2", EarningRule.RuleType.MULTIPLIER, rate="2"),
    ]
    items = [Line("BEANS", "coffee", 1, Decimal("30.00")), Line("MUG", "kitchen", 1, Decimal("10.00"))]
    points, text = points_for_purchase(amount=Decimal("40.00"), occurred_at=MONDAY, rules=rules, items=items)
    assert points == 30 * 3 + 10 * 2
    assert "'Coffee ×3' on 30.00 EUR" in text and "'Everything ×2' on 10.00 EUR" in text


def test_amount_is_spread_over_items_in_proportion():
    rules = [rule("Mug ×2", EarningRule.RuleType.MULTIPLIER, rate="2", scope="sku", value="MUG")]
    items = [Line("BEANS", "coffee", 2, Decimal("20.00")), Line("MUG", "kitchen", 1, Decimal("10.00"))]
    # 50.00 list value, paid 40.00 after a discount: the mug's share is 8.00
    points, _ = points_for_purchase(amount=Decimal("40.00"), occurred_at=MONDAY, rules=rules, items=items)
    assert points == 32 + 16


def test_weekend_campaign_only_on_weekends_in_program_time():
    double = rule("Weekend ×2", EarningRule.RuleType.MULTIPLIER, rate="2", weekdays=(5, 6))
    assert points_for_purchase(amount=Decimal("10"), occurred_at=MONDAY, rules=[double])[0] == 10
    assert points_for_purchase(amount=Decimal("10"), occurred_at=SATURDAY, rules=[double])[0] == 20
    # Sunday 23:30 UTC is already Monday in Berlin: no weekend bonus.
    late_sunday = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    assert points_for_purchase(amount=Decimal("10"), occurred_at=late_sunday, rules=[double])[0] == 10


def test_campaign_window_is_start_inclusive_end_exclusive():
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC)
    campaign = rule("Launch ×3", EarningRule.RuleType.MULTIPLIER, rate="3", starts=start, ends=end)
    assert points_for_purchase(amount=Decimal("10"), occurred_at=start, rules=[campaign])[0] == 30
    assert points_for_purchase(amount=Decimal("10"), occurred_at=end, rules=[campaign])[0] == 10


def test_bonus_rules_add_flat_points_after_multipliers():
    rules = [
        rule("Big basket", EarningRule.RuleType.BONUS, bonus=50, min_amount="100"),
        rule("Tea lovers", EarningRule.RuleType.BONUS, bonus=20, scope="category", value="tea"),
    ]
    assert points_for_purchase(amount=Decimal("99.99"), occurred_at=MONDAY, rules=rules,
                               tier_multiplier=Decimal("2"))[0] == 199
    points, text = points_for_purchase(amount=Decimal("100"), occurred_at=MONDAY, rules=rules,
                                       items=[Line("T1", "Tea", 1, Decimal("100"))])
    assert points == 100 + 50 + 20
    assert "+ 50 'Big basket'" in text and "+ 20 'Tea lovers'" in text


@pytest.mark.django_db
def test_rules_from_the_database_are_cached_and_invalidated():
    from loyalty.rules import earning_rules_active, earning_rules_changed

    EarningRule.objects.create(name="Base 2", rule_type=EarningRule.RuleType.BASE_RATE, rate=Decimal("2"))
    earning_rules_changed()
    assert [r.name for r in earning_rules_active()] == ["Base 2"]
    EarningRule.objects.create(name="Base 3", rule_type=EarningRule.RuleType.BASE_RATE, rate=Decimal("3"))
    assert [r.name for r in earning_rules_active()] == ["Base 2"]  # cached
    earning_rules_changed()
    assert points_for_purchase(amount=Decimal("10"), occurred_at=MONDAY)[0] == 30
