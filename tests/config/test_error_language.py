"""API error texts are computed in the caller's language, at the time of the response.

No catalogue of ours exists yet, so a stand-in Polish catalogue (`polish`) translates the few texts these tests
use: what the real one will do once translators fill it. Each test also checks `detail` against
`gettext(msgid)` under `translation.override("pl")`, the rule the real catalogues will follow. Through HTTP:
Accept-Language (LocaleMiddleware), then the member's own language (members.middleware).
"""

import json

import pytest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, trans_real

from config.api import error_body, exception_handler
from members.exceptions import MemberNotFound
from members.models import Member
from rewards.models import Reward

pytestmark = pytest.mark.django_db

NO_SUCH_MEMBER = "No such member."  # MemberNotFound.default_detail, a gettext_lazy text
KIND_FILTER = "kind must be one of: %(values)s."  # rewards.api, gettext at the raise site
MEMBER_REQUIRED = "Give the member's id or member_email."  # loyalty.serializers, a serializer ValidationError
DISPLAY_NAME_MARKUP = "A display name may not contain markup or special characters (< > & \" ' ` { })."


@pytest.fixture
def polish(monkeypatch) -> dict[str, str]:
    """Stand-in Polish translations (msgid -> text); anything not listed falls through to the real catalogues
    (Django's and DRF's own Polish, English for ours)."""
    texts: dict[str, str] = {}
    catalogue = trans_real.translation("pl")  # the object translation.activate("pl") makes active
    real_gettext = catalogue.gettext
    monkeypatch.setattr(catalogue, "gettext", lambda message: texts.get(message, real_gettext(message)))
    return texts


def in_polish(msgid: str, values: dict | None = None) -> str:
    with translation.override("pl"):
        text = str(gettext(msgid))
    return text % values if values else text


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)  # the stdlib decoder: the body is plain JSON
    assert body["code"] == code and isinstance(body["detail"], str)
    return body


def test_a_lazy_default_detail_is_rendered_in_the_callers_language(token_client, polish):
    polish[NO_SUCH_MEMBER] = "Nie ma takiego członka."
    url = "/api/v1/members/999999999/"
    body = _error(token_client.get(url, HTTP_ACCEPT_LANGUAGE="pl-PL,pl;q=0.9"), 404, "member_not_found")
    assert body["detail"] == in_polish(NO_SUCH_MEMBER) == "Nie ma takiego członka."
    # The class attribute stays lazy: the next caller, in English, gets English.
    english = _error(token_client.get(url, HTTP_ACCEPT_LANGUAGE="en"), 404, "member_not_found")
    assert english["detail"] == NO_SUCH_MEMBER


def test_a_text_with_placeholders_is_translated_where_it_is_raised(anon_client, polish):
    polish[KIND_FILTER] = "Rodzaj to jeden z: %(values)s."
    values = {"values": ", ".join(Reward.Kind.values)}
    body = _error(anon_client.get("/api/v1/rewards/", {"kind": "nonsense"}, HTTP_ACCEPT_LANGUAGE="pl"), 400,
                  "invalid_filter")
    assert body["detail"] == in_polish(KIND_FILTER, values) == f"Rodzaj to jeden z: {values['values']}."
    assert body["field"] == "kind"
    english = _error(anon_client.get("/api/v1/rewards/", {"kind": "nonsense"}), 400, "invalid_filter")
    assert english["detail"] == KIND_FILTER % values


def test_a_lazy_default_detail_reaches_json_as_a_plain_str(token_client, polish):
    polish[NO_SUCH_MEMBER] = "Nie ma takiego członka."
    # A batch answers per item; an item's refusal is a lazy default too.
    item = {"member": 999999999, "order_id": "PL-1", "amount": "10.00", "occurred_at": timezone.now().isoformat()}
    response = token_client.post("/api/v1/purchases/batch/", {"purchases": [item]}, format="json",
                                 HTTP_ACCEPT_LANGUAGE="pl")
    assert response.status_code == 200
    result = json.loads(response.content)["results"][0]
    assert (result["code"], result["detail"]) == ("member_not_found", "Nie ma takiego członka.")
    # What the exception handler hands to the renderer holds no lazy text (the stdlib encoder knows none).
    refused = MemberNotFound()
    assert isinstance(refused.detail, Promise)  # lazy until shown
    with translation.override("pl"):
        body = error_body(refused.code, refused.detail)
        response = exception_handler(refused, {})  # last: outside a request it marks the test's transaction
    assert type(body["detail"]) is str and type(response.data["detail"]) is str
    assert json.loads(json.dumps(response.data))["detail"] == "Nie ma takiego członka."


def test_a_validation_error_body_is_in_the_callers_language(token_client, polish):
    polish[MEMBER_REQUIRED] = "Podaj id członka albo member_email."
    item = {"order_id": "PL-2", "amount": "10.00", "occurred_at": timezone.now().isoformat()}
    body = _error(token_client.post("/api/v1/purchases/", item, format="json", HTTP_ACCEPT_LANGUAGE="pl"), 400,
                  "invalid")
    assert body["field"] == "member"
    assert body["detail"] == in_polish(MEMBER_REQUIRED) == "Podaj id członka albo member_email."
    assert body["errors"] == {"member": ["Podaj id członka albo member_email."]}
    # DRF's own messages come from its real Polish catalogue, in the same request language.
    body = _error(token_client.post("/api/v1/purchases/", {"member": 1}, format="json", HTTP_ACCEPT_LANGUAGE="pl"),
                  400, "invalid")
    assert body["detail"] == in_polish("This field is required.") != "This field is required."


def test_without_accept_language_a_member_gets_their_own_language(client, member, polish):
    polish[DISPLAY_NAME_MARKUP] = "Nazwa nie może zawierać znaczników."
    Member.objects.filter(pk=member.pk).update(language="pl")
    client.force_login(member.user)  # the member's language goes into the session at log-in
    response = client.patch("/api/v1/me/", {"display_name": "<b>Robin</b>"}, content_type="application/json")
    body = _error(response, 400, "invalid_display_name")
    assert body["detail"] == in_polish(DISPLAY_NAME_MARKUP) == "Nazwa nie może zawierać znaczników."
    english = client.patch("/api/v1/me/", {"display_name": "<b>Robin</b>"}, content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert _error(english, 400, "invalid_display_name")["detail"] == DISPLAY_NAME_MARKUP
