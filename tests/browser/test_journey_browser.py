"""A customer's whole journey in Chromium, on a phone (390 px) and a desktop (1280 px): sign up in Polish (the
browser's language) with a birthday and marketing consent → the verification e-mail in Polish → log in → the
welcome bonus → redeem a reward → the voucher with its QR code → switch to Greek → the profile → download my data
(the JSON holds the redemption) → delete the account → the login no longer works. Screenshots of each step go
to test-artifacts/journey/."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Page, expect

from members.models import Member, User
from rewards.models import Redemption
from tests.browser.conftest import TIMEOUT_MS
from tests.factories import RewardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
PASSWORD = "Nowe-hasło-do-programu-2026"


def _in(language: str, message: str, context: str = "") -> str:
    with translation.override(language):
        return pgettext(context, message) if context else gettext(message)


def _shot(page: Page, width: int, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{width}-{step}.png", full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_sign_up_in_polish_redeem_switch_to_greek_export_and_delete(browser, live_server, watch, settings, width):
    settings.FIDELIO_WELCOME_BONUS = 500
    reward = RewardFactory(name="Free coffee", cost_points=300, stock=10, kind="free_product", value=None)
    context = browser.new_context(base_url=live_server.url, locale="pl-PL",
                                  viewport={"width": width, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = watch.attach(context.new_page())
    email = f"anna.nowak.{width}@example.test"
    try:
        # Sign up in Polish, with a birthday and marketing consent.
        page.goto("/accounts/signup/")
        assert page.evaluate("document.documentElement.lang") == "pl"
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password1]").fill(PASSWORD)
        page.locator("input[name=password2]").fill(PASSWORD)
        page.locator("input[name=birthday]").fill("1990-04-17")
        page.locator("input[name=marketing_consent]").check()
        _shot(page, width, "1-signup-pl")
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

        # The verification e-mail is in Polish; its link confirms the address.
        [message] = [m for m in mail.outbox if m.to == [email]]
        assert _in("pl", "Confirm your e-mail address") in message.subject
        assert '<html lang="pl">' in message.alternatives[0][0]
        link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", message.body).group(1)
        page.goto(link)
        page.locator("main form button[type=submit]").click()

        # Log in: the member exists now, with the welcome bonus, the birthday, the consent and Polish.
        page.goto("/accounts/login/")
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page.locator("[data-testid=balance]")).to_have_text("500")
        member = Member.objects.get(user__email=email)
        assert member.birthday == date(1990, 4, 17) and member.marketing_consent and member.language == "pl"
        assert member.marketing_consent_wording  # the wording agreed to is recorded
        _shot(page, width, "2-home-pl")

        # Redeem a reward: the voucher page shows the code and its QR code.
        page.goto(f"/rewards/{reward.pk}/redeem/")
        page.locator("[data-testid=confirm-redeem]").click()
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"))
        expect(page.locator(".qr svg")).to_be_visible()
        expect(page.locator("[data-testid=voucher-status]")).to_have_text(_in("pl", "Issued", "voucher status"))
        _shot(page, width, "3-voucher-pl")

        # Switch to Greek with the footer's form; the choice is the member's from now on.
        page.locator("#language-select").select_option("el")
        page.locator(".language-form button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", "el")
        assert Member.objects.get(pk=member.pk).language == "el"
        page.goto("/profile/")
        expect(page.locator("h1")).to_have_text(_in("el", "Your profile"))
        _shot(page, width, "4-profile-el")

        # Download my data: the JSON holds the redemption.
        with page.expect_download() as download:
            page.locator("[data-testid=download-data]").click()
        data = json.loads(Path(download.value.path()).read_text())
        assert data["profile"]["member_number"] == member.member_number
        assert [r["reward"] for r in data["redemptions"]] == ["Free coffee"]

        # Delete the account with the password; the login no longer works.
        page.goto("/profile/delete/")
        page.locator("input[name=password]").fill(PASSWORD)
        _shot(page, width, "5-delete-el")
        page.locator("[data-testid=confirm-delete]").click()
        expect(page.locator("[data-testid=goodbye]")).to_be_visible()
        _shot(page, width, "6-goodbye-el")
        erased = Member.objects.get(pk=member.pk)
        assert erased.erased_at is not None and erased.email == "" and erased.birthday is None
        assert Redemption.objects.filter(member=erased).count() == 1  # kept for the accounts, anonymous
        assert erased.user_id is None  # the login is gone (deleted, or deactivated under another address)
        assert not User.objects.filter(email__iexact=email).exists()

        page.goto("/accounts/login/")
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/accounts/(login|inactive)/"))
        assert page.locator("[data-testid=balance]").count() == 0
    finally:
        context.close()
    watch.check()
