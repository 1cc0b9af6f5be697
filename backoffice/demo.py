"""The demo program: tiers, rewards, members and the three demo logins. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
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

    customer = _login(f"customer@{DEMO_DOMAIN}", first_name="Alex")
    member = member_create_for_user(user=customer)
    if not member.display_name:
        Member.objects.filter(pk=member.pk).update(display_name="Alex")
    _login(f"manager@{DEMO_DOMAIN}", staff=True, superuser=True, first_name="Morgan")
    _login(f"support@{DEMO_DOMAIN}", staff=True, group=SUPPORT_AGENT, first_name="Sam")
    _login(f"programme@{DEMO_DOMAIN}", staff=True, group=PROGRAM_MANAGER, first_name="Pat")

    existing = set(
        Member.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", user__isnull=True).values_list("email", flat=True)
    )
    for i in range(1, MEMBER_COUNT + 1):
        first = FIRST_NAMES[(i - 1) % len(FIRST_NAMES)]
        email = f"{first.lower()}.{i:02d}@{DEMO_DOMAIN}"
        if email not in existing:
            m = member_create(email=email, display_name=f"{first} {chr(64 + (i % 26) + 1)}.")
            # Spread the demo members over the tiers (qualification arrives with the points engine).
            Member.objects.filter(pk=m.pk).update(tier=tiers[1 + (i % 7 == 0) + (i % 13 == 0)])

    return [
        DemoLogin("customer (portal)", customer.email, DEMO_PASSWORD, member.member_number),
        DemoLogin("staff, superuser (back office)", f"manager@{DEMO_DOMAIN}", DEMO_PASSWORD),
        DemoLogin("program manager (back office)", f"programme@{DEMO_DOMAIN}", DEMO_PASSWORD),
        DemoLogin("support agent (back office)", f"support@{DEMO_DOMAIN}", DEMO_PASSWORD),
    ]
