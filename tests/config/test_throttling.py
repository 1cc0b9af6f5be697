"""Rate limits (issue 11): one rate per kind of caller on the API, 429 in the JSON error format with Retry-After,
per-member limits on the portal's writing forms, the client's address behind trusted proxies, and no refusal
when Redis is down."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from config import throttling
from config.rates import rate_parse
from config.throttling import limit_hit
from feedback.models import FeedbackRecord
from members.services import integration_token_create
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.FIDELIO_THROTTLE_RATES = {**settings.FIDELIO_THROTTLE_RATES, **rates}
    return set_rates


def _assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60 and body["retry_after"] == int(response["Retry-After"])


def test_anonymous_callers_are_limited_per_ip(rates):
    rates(anon="3/min")
    client = APIClient()
    assert [client.get("/api/v1/rewards/").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(client.get("/api/v1/rewards/"))
    other_ip = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other_ip.get("/api/v1/rewards/").status_code == 200


def test_customers_are_limited_per_login_and_not_by_the_anonymous_rate(rates, api_client):
    rates(anon="1/min", customer="2/min")
    assert [api_client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
    _assert_throttled(api_client.get("/api/v1/me/"))
    someone_else = APIClient()
    someone_else.force_login(MemberFactory().user)
    assert someone_else.get("/api/v1/me/").status_code == 200


def test_tokens_are_limited_per_token(rates):
    rates(token="2/min")
    clients = []
    for name in ("pos", "webshop"):
        _, raw = integration_token_create(name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        clients.append(client)
    pos, webshop = clients
    assert [pos.get("/api/v1/members/").status_code for _ in range(2)] == [200, 200]
    _assert_throttled(pos.get("/api/v1/members/"))
    assert webshop.get("/api/v1/members/").status_code == 200


def test_behind_a_trusted_proxy_the_client_address_counts(rates, settings):
    rates(anon="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    first = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    second = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert first.get("/api/v1/rewards/").status_code == 200
    assert second.get("/api/v1/rewards/").status_code == 200  # another client behind the same proxy
    _assert_throttled(first.get("/api/v1/rewards/"))
    # A client cannot escape by prepending addresses of its own: only the proxy's last hop is trusted.
    spoofed = APIClient(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.5")
    _assert_throttled(spoofed.get("/api/v1/rewards/"))


def test_allauth_sees_the_same_proxy_count(settings):
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.FIDELIO_TRUSTED_PROXY_COUNT
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.FIDELIO_TRUSTED_PROXY_COUNT


def test_portal_feedback_form_is_limited_per_member(client, member, settings):
    settings.FIDELIO_MEMBER_WRITE_RATE = "2/hour"
    client.force_login(member.user)
    form = {"kind": "complaint", "category": FeedbackRecord.Category.values[0], "text": "The parcel was late."}
    assert [client.post("/feedback/", form).status_code for _ in range(2)] == [302, 302]
    refused = client.post("/feedback/", form)
    assert refused.status_code == 429
    assert "many times in a short while" in refused.content.decode()
    assert FeedbackRecord.objects.filter(member=member).count() == 2  # the refused one wrote nothing
    other = MemberFactory()
    client.force_login(other.user)
    assert client.post("/feedback/", form).status_code == 302  # per member


def test_referral_entry_is_limited_per_member(api_client, settings):
    settings.FIDELIO_MEMBER_WRITE_RATE = "2/hour"
    codes = ["NOSUCHCODE", "NOSUCHCODE"]
    assert [api_client.post("/api/v1/me/referral/", {"referral_code": c}, format="json").status_code
            for c in codes] == [404, 404]
    friend = MemberFactory()
    response = api_client.post("/api/v1/me/referral/", {"referral_code": friend.referral_code}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_limits_are_not_enforced_when_redis_is_down(settings, tmp_path):
    """Money keeps moving without Redis: the limiter lets requests through when its Redis cannot be reached,
    while the cache itself still fails loudly (django-redis with IGNORE_EXCEPTIONS off)."""
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache",
                                   "LOCATION": f"unix://{tmp_path}/no-redis-here.sock"}}
    assert limit_hit("down", "1/min") is None
    assert limit_hit("down", "1/min") is None
    with pytest.raises(RedisConnectionError):
        cache.get("anything")


def test_limits_are_not_enforced_when_django_redis_reports_an_interrupted_connection(monkeypatch):
    """django-redis wraps connection errors of its own cache calls in ConnectionInterrupted; that fails open too."""

    def interrupted(alias="default", write=True):
        raise ConnectionInterrupted(connection=None) from RedisConnectionError("Connection refused")

    monkeypatch.setattr(throttling, "get_redis_connection", interrupted)
    assert limit_hit("interrupted", "1/min") is None
    assert limit_hit("interrupted", "1/min") is None


def test_rate_parse():
    assert rate_parse("60/min") == (60, 60)
    assert rate_parse("20/hour") == (20, 3600)
    assert rate_parse("5/s") == (5, 1)
    for bad in ("60", "0/min", "x/min", "10/fortnight", "10/month", "10/minutes"):
        with pytest.raises(ValueError):
            rate_parse(bad)
