"""Factories that follow the real code paths (services), so tests see what production would write."""

from __future__ import annotations

from decimal import Decimal

import factory
from allauth.account.models import EmailAddress

from members.models import Member, Tier, User
from members.services import member_create, member_create_for_user
from rewards.models import Reward

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=extracted is not False, primary=True)


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("name",)

    name = factory.Iterator(["Bronze", "Silver", "Gold"])
    rank = factory.Iterator([1, 2, 3])
    threshold_points = factory.Iterator([0, 1000, 3000])
    earn_multiplier = factory.Iterator([Decimal("1.00"), Decimal("1.25"), Decimal("1.50")])


class MemberFactory(factory.Factory):
    """A member with a verified login (member_create_for_user, as sign-up does)."""

    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, user=None, **kwargs):
        return member_create_for_user(user=user)[0]


class ShopMemberFactory(factory.Factory):
    """A member known only to the shop (no login)."""

    class Meta:
        model = Member

    email = factory.Sequence(lambda n: f"shop{n}@example.test")

    @classmethod
    def _create(cls, model_class, email="", **kwargs):
        return member_create(email=email)


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    cost_points = 500
    kind = Reward.Kind.FIXED_DISCOUNT
    value = Decimal("5.00")
