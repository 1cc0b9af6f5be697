"""The login's pages (allauth: e-mail addresses, password, sessions) are portal pages with links between them
and back to the profile, in the member's language."""

from __future__ import annotations

import pytest

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/accounts/email/", "/accounts/password/change/", "/accounts/sessions/"])
def test_each_login_page_links_to_the_others(client, url):
    member = MemberFactory()
    client.force_login(member.user)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for link in ('href="/profile/"', 'href="/accounts/email/"', 'href="/accounts/password/change/"',
                 'href="/accounts/sessions/"'):
        assert link in html, (url, link)
    assert 'class="site-header"' in html  # the portal's layout, not allauth's bare page
