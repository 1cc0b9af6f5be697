"""Sign-up -> verification mail -> log-in -> home page, through HTTP as a browser would."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from members.codes import luhn_valid
from members.models import Member, User

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"


def _signup(client, email="new.customer@example.test", password="a-long-secret-phrase", password2=None):
    return client.post(SIGNUP, {"email": email, "password1": password, "password2": password2 or password})


def test_signup_verify_login_and_see_member_number(client):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    user = User.objects.get(email="new.customer@example.test")
    assert not Member.objects.filter(user=user).exists()  # no member before the address is verified

    # Not verified yet: logging in does not open the portal.
    client.logout()
    response = client.post(LOGIN, {"login": "new.customer@example.test", "password": "a-long-secret-phrase"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    # The verification mail holds the link; following it and confirming verifies the address.
    assert len(mail.outbox) >= 1
    body = mail.outbox[-1].body
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", body).group(1)
    page = client.get(link)
    assert page.status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    member = Member.objects.get(user=user)  # verified: now the login has its member
    assert luhn_valid(member.member_number) and len(member.member_number) == 10
    assert len(member.referral_code) == 10

    response = client.post(LOGIN, {"login": "new.customer@example.test", "password": "a-long-secret-phrase"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert member.member_number in html
    assert 'data-testid="balance"' in html


def _verify_last_mail(client):
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", mail.outbox[-1].body).group(1)
    assert client.post(link).status_code == 302


def test_each_signup_gets_distinct_numbers_and_codes(client):
    for i in range(5):
        assert _signup(client, email=f"person{i}@example.test").status_code == 302
        _verify_last_mail(client)
        client.logout()
    members = Member.objects.all()
    assert len({m.member_number for m in members}) == 5
    assert len({m.referral_code for m in members}) == 5


def test_taken_email_is_a_form_error_and_writes_nothing(client, member):
    before = (User.objects.count(), Member.objects.count())
    response = _signup(client, email=member.user.email.upper())
    assert response.status_code == 200
    assert "An account with this e-mail address exists already" in response.content.decode()
    assert "reset the password" in response.content.decode()
    assert (User.objects.count(), Member.objects.count()) == before


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.test", ""])
def test_malformed_email_is_a_form_error(client, email):
    response = _signup(client, email=email)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not User.objects.exists() and not Member.objects.exists()


def test_mismatched_passwords_write_nothing(client):
    response = _signup(client, password="a-long-secret-phrase", password2="another-secret-phrase")
    assert response.status_code == 200
    assert not User.objects.exists()


def test_wrong_password_is_a_clear_form_error(client, member):
    response = client.post(LOGIN, {"login": member.user.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_failures_are_rate_limited(client, member):
    statuses = [
        client.post(LOGIN, {"login": member.user.email, "password": f"wrong-{i}"}).status_code for i in range(7)
    ]
    response = client.post(LOGIN, {"login": member.user.email, "password": "wrong-again"})
    assert "Too many failed login attempts" in response.content.decode() or response.status_code == 429
    assert set(statuses) <= {200, 429}


def test_password_reset_sends_a_link_that_sets_a_new_password(client, member, password):
    response = client.post("/accounts/password/reset/", {"email": member.user.email})
    assert response.status_code == 302
    link = re.search(r"http://testserver(/accounts/password/reset/key/[^\s]+)", mail.outbox[-1].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": "brand-new-secret-42", "password2": "brand-new-secret-42"})
    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.check_password("brand-new-secret-42")


def test_logout_ends_the_session(client, member, password):
    client.post(LOGIN, {"login": member.user.email, "password": password})
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_birthday_and_marketing_consent_at_sign_up_reach_the_member(client):
    client.post(SIGNUP, {"email": "bday@example.test", "password1": "a-long-secret-phrase",
                         "password2": "a-long-secret-phrase", "birthday": "1992-07-14", "marketing_consent": "on"})
    assert not Member.objects.filter(email="bday@example.test").exists()
    _verify_last_mail(client)
    member = Member.objects.get(email="bday@example.test")
    assert member.birthday.isoformat() == "1992-07-14"
    assert member.marketing_consent and member.marketing_consent_at and "offers" in member.marketing_consent_wording
    user = User.objects.get(email="bday@example.test")
    assert user.signup_birthday is None and not user.signup_marketing_consent


@pytest.mark.parametrize("birthday", ["2999-01-01", "1700-01-01"])
def test_an_impossible_birthday_at_sign_up_is_a_form_error(client, birthday):
    response = client.post(SIGNUP, {"email": "odd@example.test", "password1": "a-long-secret-phrase",
                                    "password2": "a-long-secret-phrase", "birthday": birthday})
    assert response.status_code == 200 and not User.objects.filter(email="odd@example.test").exists()
