"""Unknown (or inactive) challenge ids: the portal's board and join answer with the 404 page, the join API
and the public board API with a JSON 404 `challenge_not_found` — never a 500."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from gamification.models import Challenge, ChallengeParticipation

pytestmark = pytest.mark.django_db
MISSING = 987654321


@pytest.fixture
def inactive(db) -> Challenge:
    now = timezone.now()
    return Challenge.objects.create(title="Retired", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9),
                                    goal="purchases", target=Decimal("3"), bonus_points=10, is_active=False)


@pytest.fixture
def portal(member) -> Client:
    client = Client()  # raises on a server error, so a 500 fails the test loudly
    client.force_login(member.user)
    return client


def ids(inactive):
    return [MISSING, inactive.pk]


def test_portal_board_of_an_unknown_challenge_is_the_404_page(portal, inactive):
    for challenge_id in [*ids(inactive), 10**30]:
        response = portal.get(f"/challenges/{challenge_id}/leaderboard/")
        assert response.status_code == 404
        assert b"Page not found" in response.content


def test_portal_join_of_an_unknown_challenge_is_the_404_page(portal, member, inactive):
    for challenge_id in ids(inactive):
        response = portal.post(f"/challenges/{challenge_id}/join/")
        assert response.status_code == 404
        assert b"Page not found" in response.content
    assert not ChallengeParticipation.objects.filter(member=member).exists()


def test_join_api_of_an_unknown_challenge_is_a_json_404(api_client, member, inactive):
    for challenge_id in ids(inactive):
        response = api_client.post(f"/api/v1/me/challenges/{challenge_id}/join/")
        assert response.status_code == 404
        assert response.json() == {"code": "challenge_not_found", "detail": "No such challenge."}
    assert not ChallengeParticipation.objects.filter(member=member).exists()


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_public_board_api_of_an_unknown_challenge_is_a_json_404(anon_client, api_client, inactive, who):
    client = anon_client if who == "anonymous" else api_client
    for challenge_id in ids(inactive):
        response = client.get(f"/api/v1/leaderboards/challenges/{challenge_id}/")
        assert response.status_code == 404
        assert response.json()["code"] == "challenge_not_found"


def test_a_real_challenge_still_answers(portal, api_client, anon_client, inactive):
    Challenge.objects.filter(pk=inactive.pk).update(is_active=True)
    assert portal.get(f"/challenges/{inactive.pk}/leaderboard/").status_code == 200
    assert anon_client.get(f"/api/v1/leaderboards/challenges/{inactive.pk}/").status_code == 200
    response = portal.post(f"/challenges/{inactive.pk}/join/")
    assert response.status_code == 302 and response["Location"] == "/challenges/"
