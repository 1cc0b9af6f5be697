"""Offers in the back office: the form refuses what cannot work (and saves nothing), the list shows the groups,
"Assign now" assigns; a program manager may do all of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from backoffice.roles import PROGRAM_MANAGER
from backoffice.services import staff_groups_sync
from campaigns.models import Offer, OfferAssignment
from tests.factories import ShopMemberFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/campaigns/offer/add/"


@pytest.fixture
def manager(client):
    staff_groups_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=PROGRAM_MANAGER))
    client.force_login(user)
    return client


def _form(**changes):
    now = timezone.localtime()
    data = {
        "name_en": "Spring boost", "description_en": "", "is_active": "on",
        "starts_at_0": now.date().isoformat(), "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(days=10)).date().isoformat(), "ends_at_1": "00:00:00",
        "benefit": "multiplier", "multiplier": "2", "bonus_points": "", "category": "", "min_amount": "0",
        "limit_per_member": "", "holdout_percent": "10", "seed": "s1", "follow_up_days": "30",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_program_manager_creates_an_offer_and_assigns_it_now(manager):
    members = [ShopMemberFactory() for _ in range(3)]
    response = manager.post(ADD, _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    offer = Offer.objects.get(name="Spring boost")
    listing = manager.get("/admin/campaigns/offer/").content.decode()
    assert "Spring boost" in listing
    response = manager.post("/admin/campaigns/offer/", {"action": "assign_now", "_selected_action": [offer.pk]},
                            follow=True)
    assert "held out" in response.content.decode()
    assert OfferAssignment.objects.filter(offer=offer).count() == len(members)
    page = manager.get(f"/admin/campaigns/offer/{offer.pk}/change/").content.decode()
    assert "Audience today" in page
    # The results, treatment against holdout (three members: most likely nobody held out, nothing to compare).
    assert "Revenue per member" in page and "Treatment" in page and "Holdout" in page
    assert "Incremental revenue" in page or "No holdout: nothing to compare with." in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"multiplier": "11"}, "multiplier", "less than or equal to 10"),
    ({"multiplier": "1"}, "multiplier", "greater than or equal to 1.01"),
    ({"multiplier": ""}, "multiplier", "needs its factor"),
    ({"benefit": "bonus", "multiplier": "", "bonus_points": ""}, "bonus_points", "above zero"),
    ({"ends_at_0": "2020-01-01", "starts_at_0": "2019-12-01"}, "ends_at", "must end in the future"),
    ({"holdout_percent": "60"}, "holdout_percent", "less than or equal to 50"),
    ({"p_alive_min": "0.8", "p_alive_max": "0.2"}, "p_alive_max", "must not be below"),
])
def test_the_form_refuses_what_cannot_work_and_saves_nothing(manager, changes, field, message):
    ShopMemberFactory()
    response = manager.post(ADD, _form(**changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not Offer.objects.exists()


def test_an_audience_that_matches_nobody_is_refused_unless_saved_on_purpose(manager):
    ShopMemberFactory()
    response = manager.post(ADD, _form(birthday_month="2", favourite_category="Nothing sold here"))
    assert response.status_code == 200 and "matches no member today" in response.content.decode()
    assert not Offer.objects.exists()
    response = manager.post(ADD, _form(birthday_month="2", favourite_category="Nothing sold here",
                                       save_empty_audience="on"))
    assert response.status_code == 302
    assert Offer.objects.get().favourite_category == "Nothing sold here"


def test_a_support_agent_cannot_open_offers(client):
    staff_groups_sync()
    from backoffice.roles import SUPPORT_AGENT

    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    client.force_login(agent)
    assert client.get("/admin/campaigns/offer/").status_code == 403
    assert client.get(ADD).status_code == 403
