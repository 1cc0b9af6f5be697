"""The member's sessions (allauth.usersessions): the list shows every browser logged in, and "log out everywhere
else" ends the others while this one stays logged in."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-secret-phrase"


def _logged_in(member, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_sessions_list_and_log_out_everywhere_else():
    member = MemberFactory()
    member.user.set_password(PASSWORD)
    member.user.save()
    phone, laptop = _logged_in(member, "Phone browser"), _logged_in(member, "Laptop browser")
    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Phone browser" in html and "Laptop browser" in html
    assert laptop.post("/accounts/sessions/").status_code == 302
    assert phone.get("/points/").status_code == 302  # the phone is logged out
    assert laptop.get("/points/").status_code == 200  # this browser stays in


def test_the_profile_links_to_the_sessions(client):
    member = MemberFactory()
    client.force_login(member.user)
    assert 'href="/accounts/sessions/"' in client.get("/profile/").content.decode()


def test_the_sessions_page_needs_a_login(client):
    response = client.get("/accounts/sessions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
