"""The demo program: tiers, rewards, members and the three demo logins. Safe to run again."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from loyalty.models import EarningRule
from loyalty.rules import earning_rules_changed
from loyalty.services import lots_expire_due, purchases_confirm_due, purchases_record_batch
from members.models import Member, Tier, User
from members.services import member_create, member_create_for_user
from rewards.models import Reward

DEMO_DOMAIN = "demo.fidelio.test"
DEMO_PASSWORD = "fidelio-demo"  # noqa: S105 - printed for the demo on purpose

TIERS = [
    # name, rank, threshold points / spend in 12 months, multiplier, benefits, colour
    ("Bronze", 1, 0, Decimal("0"), Decimal("1.00"), "Earn 1 point per euro. Birthday reward.", "#8a5a2b"),
    ("Silver", 2, 1000, Decimal("1000"), Decimal("1.25"), "25% more points. Free shipping on every order.",
     "#5f6b73"),
    ("Gold", 3, 3000, Decimal("2500"), Decimal("1.50"), "50% more points. Early access to sales. Priority support.",
     "#8a6d00"),
]

REWARDS = [
    # name, kind, value, cost, stock, minimum tier rank
    ("5 € off your next order", Reward.Kind.FIXED_DISCOUNT, Decimal("5.00"), 500, None, None),
    ("10% off one order", Reward.Kind.PERCENT_DISCOUNT, Decimal("10.00"), 800, None, None),
    ("Free shipping", Reward.Kind.FREE_SHIPPING, None, 300, None, None),
    ("Free coffee beans (250 g)", Reward.Kind.FREE_PRODUCT, None, 1200, 40, None),
    ("20 € off your next order", Reward.Kind.FIXED_DISCOUNT, Decimal("20.00"), 1800, None, 2),
    ("Barista workshop for two", Reward.Kind.GIFT, None, 5000, 6, 3),
]

FIRST_NAMES = ["Ada", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hugo", "Ines", "Jonas",
               "Kira", "Lars", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sami", "Tara",
               "Udo", "Vera", "Wim", "Xenia", "Yusuf"]
MEMBER_COUNT = 50


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    member_number: str | None = None


def _login(email: str, *, staff: bool = False, superuser: bool = False, group: str | None = None,
           first_name: str = "") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, first_name=first_name,
                                        is_staff=staff, is_superuser=superuser)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


RULES = [
    ("Base rate", EarningRule.RuleType.BASE_RATE, {"rate": Decimal("1")}),
    ("Double points weekends", EarningRule.RuleType.MULTIPLIER, {"rate": Decimal("2"), "weekdays": "5,6"}),
    ("Coffee lovers ×1.5", EarningRule.RuleType.MULTIPLIER,
     {"rate": Decimal("1.5"), "scope": EarningRule.Scope.CATEGORY, "scope_value": "coffee"}),
    ("Big basket bonus", EarningRule.RuleType.BONUS, {"bonus_points": 50, "min_amount": Decimal("150")}),
]
PRODUCTS = [("BEANS-250", "House blend 250 g", "coffee", Decimal("8.90")),
            ("BEANS-1K", "Espresso 1 kg", "coffee", Decimal("29.00")),
            ("MUG-01", "Stoneware mug", "kitchen", Decimal("14.50")),
            ("GRINDER-1", "Hand grinder", "equipment", Decimal("59.00")),
            ("TEA-GREEN", "Sencha 100 g", "tea", Decimal("7.40"))]


def _purchase_history(members: list[Member]) -> None:
    """A deterministic 18-month history per member (same orders on every run: idempotent)."""
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    now = timezone.now()
    rows = []
    for index, member in enumerate(members):
        for k in range(rng.randint(1, 12) if index else 6):
            lines = []
            for sku, name, category, price in rng.sample(PRODUCTS, rng.randint(1, 3)):
                lines.append({"sku": sku, "name": name, "category": category, "quantity": rng.randint(1, 3),
                              "unit_price": price})
            amount = sum((line["unit_price"] * line["quantity"] for line in lines), Decimal("0"))
            when = now - timedelta(days=rng.randint(0 if k == 0 else 1, 540), hours=rng.randint(0, 23))
            rows.append({"member": member.pk, "order_id": f"DEMO-{index:03d}-{k:02d}", "amount": amount,
                         "occurred_at": when, "source": "shop", "items": lines})
    rows.sort(key=lambda r: r["occurred_at"])
    for start in range(0, len(rows), 400):
        chunk = rows[start:start + 400]
        purchases_record_batch(items=chunk, validated=list(enumerate(chunk)), now=now)
    purchases_confirm_due(now=now)
    lots_expire_due(now=now)


def _demo_voucher(member: Member) -> None:
    """The demo customer holds one voucher, so "My vouchers" shows what one looks like (once; re-runs replay)."""
    from config.exceptions import DomainError
    from rewards.services import reward_redeem

    reward = Reward.objects.filter(name="Free shipping").first()
    if reward is None:
        return
    with contextlib.suppress(DomainError):  # not enough points in this demo history: no voucher
        reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal", idempotency_scope="demo",
                      idempotency_key=f"demo-voucher-{member.pk}")


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    tiers = {}
    for name, rank, threshold, spend, multiplier, benefits, colour in TIERS:
        tiers[rank], _ = Tier.objects.update_or_create(
            name=name,
            defaults={"rank": rank, "threshold_points": threshold, "threshold_spend": spend,
                      "earn_multiplier": multiplier, "benefits": benefits, "colour": colour},
        )
    for order, (name, kind, value, cost, stock, tier_rank) in enumerate(REWARDS):
        Reward.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "value": value, "cost_points": cost, "stock": stock,
                      "minimum_tier": tiers.get(tier_rank), "sort_order": order * 10,
                      "description": f"Demo reward: {name}."},
        )
    Reward.objects.get_or_create(
        name="Birthday treat", defaults={
            "kind": Reward.Kind.FREE_PRODUCT, "cost_points": 1, "is_birthday_reward": True,
            "voucher_valid_days": 30, "sort_order": 1000,
            "description": "A free pastry with your coffee in your birthday month, on us.",
        },
    )

    customer = _login(f"customer@{DEMO_DOMAIN}", first_name="Alex")
    member, _ = member_create_for_user(user=customer)
    if not member.display_name:
        Member.objects.filter(pk=member.pk).update(display_name="Alex")
    _login(f"manager@{DEMO_DOMAIN}", staff=True, superuser=True, first_name="Morgan")
    _login(f"support@{DEMO_DOMAIN}", staff=True, group=SUPPORT_AGENT, first_name="Sam")
    _login(f"programme@{DEMO_DOMAIN}", staff=True, group=PROGRAM_MANAGER, first_name="Pat")

    for name, rule_type, fields in RULES:
        EarningRule.objects.get_or_create(name=name, defaults={"rule_type": rule_type, **fields})
    earning_rules_changed()

    existing = {
        m.email: m for m in Member.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", user__isnull=True)
    }
    demo_members = [member]
    for i in range(1, MEMBER_COUNT + 1):
        first = FIRST_NAMES[(i - 1) % len(FIRST_NAMES)]
        email = f"{first.lower()}.{i:02d}@{DEMO_DOMAIN}"
        m = existing.get(email) or member_create(
            email=email, first_name=first, display_name=f"{first} {chr(64 + (i % 26) + 1)}.", via="import"
        )
        demo_members.append(m)
    _purchase_history(demo_members)
    _demo_voucher(member)

    return [
        DemoLogin("customer (portal)", customer.email, DEMO_PASSWORD, member.member_number),
        DemoLogin("staff, superuser (back office)", f"manager@{DEMO_DOMAIN}", DEMO_PASSWORD),
        DemoLogin("program manager (back office)", f"programme@{DEMO_DOMAIN}", DEMO_PASSWORD),
        DemoLogin("support agent (back office)", f"support@{DEMO_DOMAIN}", DEMO_PASSWORD),
    ]
