"""The OpenAPI contract (DESIGN.md "API conventions", docs/decisions.md): schemathesis drives every operation of
the live /api/schema/ in-process (WSGI, config.wsgi.application) as three callers — anonymous, an integration
token holding every scope, a logged-in member (session cookie and CSRF token, so the unsafe methods run too) —
with schema-valid and schema-violating data, and checks every answer against the schema.

The budget is fixed: at most MAX_EXAMPLES examples per operation and caller (the examples and fuzzing phases),
derandomized, so a run is reproducible and bounded.

Checks: not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
response_headers_conformance and negative_data_rejection. Left out, each for a reason:
- positive_data_acceptance: schema-valid data is not always acceptable here; business rules refuse it with
  documented 4xx codes the check does not expect (400 `invalid_filter` for `?affordable=` as a guest, 400
  `member_not_found` for an unknown member id in a body, 415 and 429 are never "wrong" either).
- ignored_auth: it replays requests without (or with made-up) credentials and expects 401; the public
  endpoints (rewards, leaderboards, product reviews, survey links) rightly answer 200 without any, because
  their security lists `{}` (optional) — the permission matrix (tests/test_permission_matrix.py) checks
  who may call what instead.
- use_after_free, ensure_resource_availability: stateful checks for create/delete pairs; the API has no DELETE
  and the stateful phase is not run.
- missing_required_header, unsupported_method, max_response_time and the other coverage-phase checks: the
  coverage phase is not run (its deterministic boundary cases multiply the budget several times over).
"""

from __future__ import annotations

import json
import secrets

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from members.services import integration_token_create
from rewards.models import Reward
from tests.factories import MemberFactory, RewardFactory

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def _served_schema() -> dict:
    """The schema /api/schema/ serves, built by the same generator and JSON renderer: test modules are imported
    before any test may touch the database, and a request through WSGIHandler opens a transaction
    (ATOMIC_REQUESTS). test_the_served_schema_is_the_one_under_test keeps the two the same."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


SCHEMA = _served_schema()
schema = schemathesis.openapi.from_dict(SCHEMA)
schema.app = application  # calls go in-process through config.wsgi.application (schemathesis' WSGI transport)
schema.config.phases.update(phases=["examples", "fuzzing"])
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    # Only the caller's own credentials (below): made-up tokens and session ids would turn every caller into
    # an anonymous one with a 401.
    with_security_parameters=False,
)


@pytest.fixture
def _in_process(db, settings):
    """Django's own test client keeps a request from closing the test's connection (it is inside the test's
    transaction); schemathesis' WSGI client goes through WSGIHandler, so do what django.test.Client does.
    Rate limits far above what the budget sends, so that 429s do not stand in for the answers under test."""
    settings.FIDELIO_THROTTLE_RATES = {"anon": "100000/min", "customer": "100000/min", "token": "100000/min"}
    settings.FIDELIO_MEMBER_WRITE_RATE = "100000/min"
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=["anonymous", "token", "member"])
def caller(request, _in_process) -> dict:
    """Transport arguments for one kind of caller, with some data for the operations to find (a reward)."""
    RewardFactory(name="Coffee", cost_points=100, kind=Reward.Kind.FIXED_DISCOUNT)
    if request.param == "anonymous":
        return {}
    if request.param == "token":
        _, raw = integration_token_create(name="contract")  # every scope
        return {"headers": {"Authorization": f"Bearer {raw}"}}
    member = MemberFactory()
    client = Client()
    client.force_login(member.user)
    csrf = secrets.token_hex(16)  # an unmasked CSRF secret (32 characters), as cookie and header
    return {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                    django_settings.CSRF_COOKIE_NAME: csrf},
    }


@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_contract(case, caller):
    case.call_and_validate(headers=caller.get("headers"), cookies=caller.get("cookies"), checks=CHECKS)


def test_the_served_schema_is_the_one_under_test(db, client):
    served = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    assert served.json() == SCHEMA
