"""Who may call what: session for customers, token for integrations, never the other way round."""

import pytest
from django.conf import settings

from members.models import IntegrationToken
from members.services import integration_token_revoke

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def members_url(member=None):
    return f"/api/v1/members/{member.pk}/" if member else "/api/v1/members/"


def test_member_reads_own_record(api_client, member):
    response = api_client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["member_number"] == member.member_number
    assert body["email"] == member.user.email
    assert body["points_balance"] == settings.FIDELIO_WELCOME_BONUS
    assert set(body) >= {"referral_code", "tier", "tier_progress", "expiring_soon", "pending_points", "created_at"}


def test_token_is_accepted_on_integration_endpoints(token_client, member, other_member):
    response = token_client.get(members_url(member))
    assert response.status_code == 200
    assert response.json()["member_number"] == member.member_number
    listing = token_client.get(members_url(), {"email": other_member.user.email.upper()})
    assert listing.status_code == 200
    assert [m["member_number"] for m in listing.json()["results"]] == [other_member.member_number]


def test_token_is_refused_on_customer_endpoints(token_client):
    response = token_client.get(ME)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_session_is_refused_on_integration_endpoints(api_client, member):
    for url in (members_url(), members_url(member)):
        response = api_client.get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("url", [ME, "/api/v1/members/"])
def test_anonymous_gets_401_with_a_challenge(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer fid_not-a-real-token", "Bearer", "Bearer two parts", "Token fid_unknown"],
)
def test_unknown_or_malformed_token_is_401(anon_client, db, header):
    anon_client.credentials(HTTP_AUTHORIZATION=header)
    response = anon_client.get("/api/v1/members/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_revoked_token_is_refused(token_client, integration_token):
    integration_token_revoke(token=integration_token[0])
    response = token_client.get("/api/v1/members/")
    assert response.status_code == 401


def test_token_use_is_recorded(token_client, integration_token):
    token_client.get("/api/v1/members/")
    assert IntegrationToken.objects.get(pk=integration_token[0].pk).last_used_at is not None


def test_a_member_cannot_reach_another_members_record(api_client, other_member):
    # There is no customer endpoint taking a member id; the integration lookup is closed to sessions.
    response = api_client.get(members_url(other_member))
    assert response.status_code == 403
    assert other_member.member_number not in response.content.decode()


def test_member_list_is_paginated(token_client, db):
    from tests.factories import ShopMemberFactory

    ShopMemberFactory.create_batch(3)
    body = token_client.get("/api/v1/members/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_csrf_is_enforced_for_session_writes(member):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member.user)
    response = client.patch(ME, {"display_name": "Robin"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
