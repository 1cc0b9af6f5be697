"""Scoped integration tokens (issue 11): scopes chosen at creation, 403 insufficient_scope without one, expiry and
revocation as 401, idempotency keys kept per token (redemptions and feedback)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import FeedbackRecord
from loyalty.services import points_adjust
from members.models import IntegrationToken, Scope
from members.services import integration_token_create, integration_token_revoke
from tests.factories import MemberFactory, RewardFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _token(name="pos", **kw) -> tuple[IntegrationToken, APIClient]:
    token, raw = integration_token_create(name=name, **kw)
    return token, _client(raw)


def test_a_token_without_the_scope_gets_403_insufficient_scope(member):
    _, reader = _token(scopes=[Scope.MEMBERS_READ])
    assert reader.get(f"/api/v1/members/{member.pk}/").status_code == 200
    refused = reader.post("/api/v1/purchases/", {"member": member.pk, "order_id": "X-1", "amount": "10.00",
                                                 "occurred_at": timezone.now().isoformat()}, format="json")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "insufficient_scope" and "purchases:write" in body["detail"]
    assert not member.purchases.exists()
    enrol = reader.post("/api/v1/members/", {"email": "new@example.test"}, format="json")
    assert enrol.status_code == 403 and enrol.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize("method, url, scope", [
    ("get", "/api/v1/members/", Scope.MEMBERS_READ),
    ("post", "/api/v1/members/", Scope.MEMBERS_WRITE),
    ("post", "/api/v1/purchases/", Scope.PURCHASES_WRITE),
    ("post", "/api/v1/purchases/batch/", Scope.PURCHASES_WRITE),
    ("post", "/api/v1/purchases/A-1/returns/", Scope.PURCHASES_WRITE),
    ("post", "/api/v1/redemptions/", Scope.REDEMPTIONS_WRITE),
    ("get", "/api/v1/vouchers/ABCD-EFGH-JKMN/", Scope.VOUCHERS_USE),
    ("post", "/api/v1/vouchers/ABCD-EFGH-JKMN/use/", Scope.VOUCHERS_USE),
    ("post", "/api/v1/feedback/", Scope.FEEDBACK_WRITE),
    ("get", "/api/v1/metrics/summary/", Scope.METRICS_READ),
    ("get", "/api/v1/metrics/periods/", Scope.METRICS_READ),
])
def test_every_integration_endpoint_names_its_scope(method, url, scope):
    others = [s for s in Scope.values if s != scope]
    _, without = _token(name="without", scopes=others)
    refused = getattr(without, method)(url, {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope", refused.content
    _, with_scope = _token(name="with", scopes=[scope])
    allowed = getattr(with_scope, method)(url, {}, format="json")
    assert allowed.status_code != 403, allowed.content  # past the scope check (a 400/404 for the empty body)


def test_expired_and_revoked_tokens_get_401(member):
    token, client = _token(expires_at=timezone.now() + timedelta(days=1))
    assert client.get("/api/v1/members/").status_code == 200
    IntegrationToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from config.memo import memo_clear

    memo_clear()
    expired = client.get("/api/v1/members/")
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    token2, client2 = _token(name="revoked")
    integration_token_revoke(token=token2)
    revoked = client2.get("/api/v1/members/")
    assert revoked.status_code == 401 and revoked.json()["code"] == "authentication_failed"


def test_last_use_is_recorded_and_shown_in_the_admin(client):
    token, api = _token(scopes=[Scope.MEMBERS_READ])
    api.get("/api/v1/members/")
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get("/admin/members/integrationtoken/").content.decode()
    assert "members:read" in html and "Last used" in html.replace("last used", "Last used")


def test_create_command_takes_scopes_and_says_when_it_grants_all(capsys):
    call_command("create_integration_token", "all-of-it")
    err = capsys.readouterr().err
    assert "Scopes: all" in err
    assert IntegrationToken.objects.get(name="all-of-it").scopes == list(Scope.values)
    call_command("create_integration_token", "till", "--scopes", "purchases:write,vouchers:use",
                 "--expires-in-days", "30")
    err = capsys.readouterr().err
    till = IntegrationToken.objects.get(name="till")
    assert till.scopes == ["purchases:write", "vouchers:use"] and "Scopes: purchases:write, vouchers:use" in err
    assert timedelta(days=29) < till.expires_at - timezone.now() <= timedelta(days=30)
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_integration_token", "bad", "--scopes", "members:delete")
    assert not IntegrationToken.objects.filter(name="bad").exists()


def test_redemption_idempotency_keys_are_per_token():
    member = MemberFactory()
    points_adjust(member=member, points=2000, reason="test", author=None)
    reward = RewardFactory(cost_points=100)
    _, shop = _token(name="shop")
    _, pos = _token(name="pos")
    body = {"member": member.pk, "reward": reward.pk}
    first = shop.post("/api/v1/redemptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    other_client = pos.post("/api/v1/redemptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == 201 and other_client.status_code == 201  # no collision across clients
    assert first.json()["id"] != other_client.json()["id"]
    again = shop.post("/api/v1/redemptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert again.status_code == 200 and again.json() == first.json()


FEEDBACK = {"channel": "chat", "kind": "complaint", "category": "delivery", "text": "Late again."}


def test_feedback_idempotency_key_behaves_like_the_redemption_one(member):
    _, shop = _token(name="chat-tool")
    _, other = _token(name="contact-form")
    body = {**FEEDBACK, "member": member.pk}
    first = shop.post("/api/v1/feedback/", body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-7")
    assert first.status_code == 201
    again = shop.post("/api/v1/feedback/", body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-7")
    assert again.status_code == 200 and again.json() == first.json()
    conflict = shop.post("/api/v1/feedback/", {**body, "text": "Something else."}, format="json",
                         HTTP_IDEMPOTENCY_KEY="ticket-7")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    elsewhere = other.post("/api/v1/feedback/", body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-7")
    assert elsewhere.status_code == 201  # another client's key space
    assert FeedbackRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_feedback_posts_with_one_key_make_one_record():
    member = MemberFactory()
    _, raw = integration_token_create(name="racer")
    barrier = threading.Barrier(2)
    results: list = []

    def post():
        try:
            client = _client(raw)
            barrier.wait()
            response = client.post("/api/v1/feedback/", {**FEEDBACK, "member": member.pk}, format="json",
                                   HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(code for code, _ in results) == [200, 201]
    assert len({record_id for _, record_id in results}) == 1
    assert FeedbackRecord.objects.filter(idempotency_key="same-key").count() == 1


def test_the_schema_names_each_operations_scope(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for scope in Scope.values:
        assert f"`{scope}` scope" in schema, scope
