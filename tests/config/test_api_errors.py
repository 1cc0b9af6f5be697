"""The error format: every API failure is JSON with a stable code and a human detail, never HTML."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.views import APIView

import config.urls

pytestmark = pytest.mark.django_db


def _assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_malformed_json_is_400(api_client, member):
    response = api_client.patch("/api/v1/me/", data='{"display_name": "Robin",', content_type="application/json")
    _assert_error(response, 400, "malformed_request")
    member.refresh_from_db()
    assert member.display_name == ""


def test_wrong_content_type_is_415(api_client):
    response = api_client.patch("/api/v1/me/", data="display_name=Robin",
                                content_type="application/x-www-form-urlencoded")
    _assert_error(response, 415, "unsupported_media_type")


def test_wrong_method_is_405(api_client):
    _assert_error(api_client.delete("/api/v1/me/"), 405, "method_not_allowed")
    _assert_error(api_client.post("/api/v1/me/", {}, format="json"), 405, "method_not_allowed")


def test_unknown_api_url_is_json_404(api_client):
    _assert_error(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_unknown_member_is_404_with_its_own_code(token_client):
    _assert_error(token_client.get("/api/v1/members/999999999/"), 404, "member_not_found")


class _Boom(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/v1/boom/", _Boom.as_view()), *config.urls.urlpatterns]
handler404 = config.urls.handler404
handler500 = config.urls.handler500


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_crash_is_json_500_without_internals():
    client = Client(raise_request_exception=False)
    body = _assert_error(client.get("/api/v1/boom/"), 500, "server_error")
    assert "boom" not in body["detail"]


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    assert b"integrationToken" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html and "cdn" not in html.lower()


def test_api_routes_work_without_the_trailing_slash(api_client, member):
    response = api_client.patch("/api/v1/me", {"display_name": "Robin"}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Robin"


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_urls_are_a_json_404_in_every_mode(client, settings, debug):
    settings.DEBUG = debug
    for method, url in (("get", "/api/v1/no-such-thing/"), ("post", "/api/v2/members/"), ("get", "/api/"),
                        ("delete", "/api/v1/members/1/extra/")):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json" and response.json()["code"] == "not_found", url
