"""The portal's language: chosen from the browser on a first visit, switchable on every page without JavaScript,
remembered for a logged-in member on any browser, and used for API error texts (Accept-Language first, then the
member's choice)."""

import re

import pytest
from django.conf import settings
from django.core import mail

from members.models import Member

pytestmark = pytest.mark.django_db

LANGUAGE = "/language/"


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("header, expected", [("pl-PL,pl;q=0.9,en;q=0.5", "pl"), ("el", "el"), ("cs", "cs"),
                                              ("ru-RU", "ru"), ("de-DE,de;q=0.9", "en"), ("", "en")])
def test_a_first_visit_speaks_the_browsers_language(client, header, expected):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200 and html_lang(response) == expected
    assert response["Content-Language"] == expected


def test_every_page_offers_the_switcher_as_a_plain_form(client):
    page = client.get("/accounts/login/").content.decode()
    assert f'action="{LANGUAGE}"' in page and 'name="language"' in page and 'type="submit"' in page
    for code, name in settings.LANGUAGES:
        assert f'value="{code}"' in page and name in page


def test_switching_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post(LANGUAGE, {"language": "cs", "next": "/rewards/"})
    assert response.status_code == 302 and response["Location"] == "/rewards/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "cs"
    assert html_lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="pl")) == "cs"  # the choice beats the browser


def test_a_members_choice_is_remembered_on_every_browser(client, member, password):
    client.force_login(member.user)
    assert client.post(LANGUAGE, {"language": "el", "next": "/"}).status_code == 302
    assert Member.objects.get(pk=member.pk).language == "el"
    client.logout()
    client.cookies.clear()  # another browser, which asks for English
    response = client.post("/accounts/login/", {"login": member.user.email, "password": password},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "el"


@pytest.mark.parametrize("bad", ["xx", "", "en-GB<script>", "de"])
def test_an_unknown_language_changes_nothing(client, member, bad):
    client.force_login(member.user)
    response = client.post(LANGUAGE, {"language": bad, "next": "/"}, follow=True)
    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies or \
        response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert Member.objects.get(pk=member.pk).language == ""
    assert "Choose one of the languages offered." in response.content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_switcher_only_returns_to_this_site(client, target):
    response = client.post(LANGUAGE, {"language": "pl", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_switcher_takes_no_get(client):
    assert client.get(LANGUAGE, {"language": "pl"}).status_code == 405


def test_api_errors_follow_accept_language_then_the_members_language(client, api_client, member):
    # DRF's own messages are translated by DRF; ours follow with the catalogues.
    refused = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="pl")
    assert refused.status_code in (401, 403) and refused.json()["detail"] != \
        client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert api_client.patch("/api/v1/me/", {"language": "ru"}, format="json").status_code == 200
    assert Member.objects.get(pk=member.pk).language == "ru"
    bad = api_client.patch("/api/v1/me/", {"language": "xx"}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "language"
    assert Member.objects.get(pk=member.pk).language == "ru"
    assert api_client.get("/api/v1/me/").json()["language"] == "ru"


def test_the_language_a_customer_signs_up_in_becomes_theirs(client):
    client.post("/accounts/signup/", {"email": "nowy@example.test", "password1": "a-long-secret-phrase",
                                      "password2": "a-long-secret-phrase"}, HTTP_ACCEPT_LANGUAGE="pl")
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", mail.outbox[-1].body).group(1)
    assert client.post(link, HTTP_ACCEPT_LANGUAGE="pl").status_code == 302
    assert Member.objects.get(email="nowy@example.test").language == "pl"


@pytest.mark.parametrize(("language", "expected"), [("ru", "5 декабря"), ("cs", "5. prosince"),
                                                    ("el", "5 Δεκεμβρίου"), ("pl", "5 grudnia"),
                                                    ("en", "December 5")])
def test_a_day_and_month_read_as_the_language_writes_them(language, expected):
    from datetime import date

    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override(language):
        assert date_format(date(2026, 12, 5), "MONTH_DAY_FORMAT") == expected
