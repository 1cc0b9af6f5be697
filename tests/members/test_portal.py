import pytest

from tests.factories import TierFactory

pytestmark = pytest.mark.django_db


def test_guest_sees_the_welcome_page_with_join_and_login(client):
    html = client.get("/").content.decode()
    assert "Join for free" in html and "/accounts/signup/" in html and "/accounts/login/" in html
    assert '<html lang="en">' in html and 'href="#main"' in html


def test_member_home_shows_number_balance_tier_and_next_tier(client, db):
    bronze = TierFactory(name="Bronze", rank=1, threshold_points=0)
    TierFactory(name="Silver", rank=2, threshold_points=1000)
    from tests.factories import MemberFactory

    member = MemberFactory()
    assert member.tier == bronze  # the entry tier is given at sign-up
    client.force_login(member.user)
    html = client.get("/").content.decode()
    assert member.member_number in html
    assert "Bronze" in html and "to reach Silver" in html and "<progress" in html
    assert member.referral_code in html


def test_staff_without_member_gets_an_empty_state(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/").content.decode()
    assert "not a loyalty member" in html and "/admin/" in html


def test_assets_are_local(client):
    html = client.get("/").content.decode()
    assert "https://" not in html and "http://" not in html.replace("http://testserver", "")


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
