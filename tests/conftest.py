from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from config.memo import memo_clear
from members.services import integration_token_create
from tests.factories import PASSWORD, MemberFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_test_cache():
    """Forget cached values, rate-limit counters and leaderboards between tests, only under our test key prefix
    (the Redis DB may be shared): `<prefix>:<version>:<key>` from cache.make_key (django-redis keeps Django's
    key format) and the leaderboards' `<prefix>:lb:...`."""
    client = get_redis_connection("default")
    prefix = cache.key_prefix
    assert prefix, "config.test_settings sets the cache's KEY_PREFIX; without it this would match every key"
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    memo_clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request through the test client leaves the language it
    activated (the member's) active in this thread, as a server thread would until its next request."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def other_member(db):
    return MemberFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client(member) -> APIClient:
    """A customer's session on the API (CSRF enforced, as in a browser)."""
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(member.user)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def integration_token(db):
    token, raw = integration_token_create(name="webshop")
    return token, raw


@pytest.fixture
def token_client(integration_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token[1]}")
    return client


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_sessionstart(session):
    session.config._artifacts_since = time.time()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The screenshots this run wrote (browser tests: every portal page in every language at phone and desktop
    width, and the journey's steps), listed at the end."""
    since = getattr(config, "_artifacts_since", 0)
    shots = sorted(p for p in ARTIFACTS.rglob("*.png") if p.stat().st_mtime >= since) if ARTIFACTS.exists() else []
    if shots:
        terminalreporter.section(f"screenshots ({len(shots)}, under {ARTIFACTS})")
        for shot in shots:
            terminalreporter.write_line(str(shot.relative_to(ARTIFACTS)))
