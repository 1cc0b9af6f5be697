"""The customer portal in a real browser (Chromium through Playwright), on pytest-django's live server.

Each test drives a whole flow as a member would — the allauth login form, the catalog filters, the redeem
confirmation step, the voucher page, cancelling — and checks what the pages show and what the database holds.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import Member
from rewards.models import Redemption, Reward, Voucher
from rewards.services import reward_redeem
from tests.browser.conftest import log_in, shown_points
from tests.factories import PASSWORD, MemberFactory, RewardFactory, TierFactory
from tests.rewards.conftest import fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE_RE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")
VOUCHER_URL = re.compile(r"/vouchers/(\d+)/$")


def balance_in_db(member) -> int:
    return Member.objects.get(pk=member.pk).points_balance


def card(page: Page, reward: Reward):
    return page.locator(f"[data-testid=reward-{reward.pk}]")


def test_log_in_through_the_form_and_see_balance_and_member_number(page: Page):
    TierFactory.create_batch(3)  # Bronze (entry), Silver, Gold
    member = MemberFactory()
    fund(member, 1234)
    member.refresh_from_db()

    page.goto("/")
    expect(page.locator("[data-testid=balance]")).to_have_count(0)  # a guest sees the welcome page
    page.goto("/rewards/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/rewards/$"))  # the portal needs a login

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(member.user.email)
    page.locator("input[name=password]").fill(PASSWORD + "-wrong")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("main")).to_contain_text("not correct")
    expect(page.locator("[data-testid=balance]")).to_have_count(0)

    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("[data-testid=balance]")).to_have_text("1,234")
    expect(page.locator("[data-testid=member-number]")).to_have_text(member.member_number)
    assert member.tier.name == "Bronze"
    expect(page.locator("[data-testid=tier]")).to_have_text("Bronze")
    expect(page.locator("label[for=tier-progress]")).to_contain_text("to reach Silver")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.get_by_role("link", name="Points history").click()
    expect(page).to_have_url(re.compile(r"/points/$"))
    expect(page.locator("main")).to_contain_text("test funds")


def test_filter_then_redeem_through_confirmation_to_a_voucher(page: Page):
    member = MemberFactory()
    fund(member, 1000)
    coffee = RewardFactory(name="Free coffee", cost_points=300, stock=5, kind=Reward.Kind.FREE_PRODUCT, value=None)
    hotel = RewardFactory(name="Hotel night", cost_points=5000, kind=Reward.Kind.GIFT, value=None)
    log_in(page, member, next_url="/rewards/")

    expect(page.locator("[data-testid=balance]")).to_have_text("1,000")
    expect(card(page, coffee)).to_be_visible()
    expect(card(page, hotel)).to_be_visible()

    page.locator("#affordable").check()
    page.get_by_role("button", name="Show rewards").click()
    expect(page).to_have_url(re.compile(r"affordable=1"))
    expect(card(page, hotel)).to_have_count(0)
    expect(card(page, coffee)).to_be_visible()
    expect(page.locator("#affordable")).to_be_checked()

    page.locator("#kind").select_option(Reward.Kind.GIFT)
    page.locator("#affordable").uncheck()
    page.get_by_role("button", name="Show rewards").click()
    expect(card(page, hotel)).to_be_visible()
    expect(card(page, coffee)).to_have_count(0)
    page.get_by_role("link", name="Clear filters").click()
    expect(card(page, coffee)).to_be_visible()

    card(page, coffee).get_by_role("link", name="Redeem").click()
    expect(page).to_have_url(re.compile(rf"/rewards/{coffee.pk}/redeem/$"))
    expect(page.get_by_role("heading", name="Redeem Free coffee?")).to_be_visible()
    expect(page.locator("[data-testid=balance-after]")).to_have_text("700")
    assert not Redemption.objects.exists()  # the confirmation step writes nothing

    page.locator("[data-testid=confirm-redeem]").click()
    expect(page).to_have_url(VOUCHER_URL)
    voucher_id = int(VOUCHER_URL.search(page.url).group(1))
    code = page.locator("[data-testid=voucher-code]").inner_text().strip()
    assert CODE_RE.fullmatch(code), code
    expect(page.locator(".qr svg")).to_have_count(1)
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("[data-testid=voucher-status]")).to_have_text("Issued")
    expect(page.locator(".messages")).to_contain_text("Free coffee is yours")

    voucher = Voucher.objects.get()  # exactly one
    assert voucher.pk == voucher_id and voucher.code_display == code and voucher.member_id == member.pk
    assert Redemption.objects.count() == 1
    assert balance_in_db(member) == 700
    assert Reward.objects.get(pk=coffee.pk).stock == 4

    page.get_by_role("link", name="Home").click()
    assert shown_points(page) == 1000 - 300

    page.goto("/vouchers/")
    row = page.locator("[data-testid=voucher-list] tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Free coffee")
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("Issued")
    row.get_by_role("link", name="Free coffee").click()
    expect(page).to_have_url(re.compile(rf"/vouchers/{voucher_id}/$"))


def test_double_submit_of_the_confirmation_redeems_once(page: Page):
    member = MemberFactory()
    fund(member, 1000)
    reward = RewardFactory(name="Tote bag", cost_points=400, kind=Reward.Kind.FREE_PRODUCT, value=None)
    log_in(page, member, next_url=f"/rewards/{reward.pk}/redeem/")
    form = page.locator("form:has([data-testid=confirm-redeem])")
    fields = {name: form.locator(f"input[name={name}]").input_value()
              for name in ("csrfmiddlewaretoken", "idempotency_key")}
    assert re.fullmatch(r"[0-9a-f]{32}", fields["idempotency_key"])

    # Two clicks on the button, the second while the page still waits for the answer to the first: the
    # first submission reaches the server (which redeems), its answer is held back, so the page is still there
    # for the second click, and the browser sends the same form again (abandoning the first).
    submits = []

    def hold_the_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
        elif not submits:
            submits.append((route.request.post_data, route.fetch(max_redirects=0)))
        else:
            submits.append((route.request.post_data, None))
            route.continue_()

    page.route(f"**/rewards/{reward.pk}/redeem/", hold_the_first_answer)
    box = page.locator("[data-testid=confirm-redeem]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    for _ in range(500):
        if submits:
            break
        page.wait_for_timeout(10)
    assert len(submits) == 1 and Redemption.objects.count() == 1  # the first one is done on the server
    page.mouse.click(x, y)
    expect(page).to_have_url(VOUCHER_URL)
    assert len(submits) == 2, "the browser did not send the form twice"
    assert submits[0][0] == submits[1][0]  # the same form, the same idempotency key
    first_answer = submits[0][1]
    assert first_answer.status == 302 and page.url.endswith(first_answer.headers["location"])
    page.unroute(f"**/rewards/{reward.pk}/redeem/")

    # And the same form once more later (a retry from the same session, with the same key).
    again = page.request.post(f"/rewards/{reward.pk}/redeem/", form=fields, max_redirects=0,
                              headers={"Referer": page.url})
    assert again.status == 302 and page.url.endswith(again.headers["location"])

    expect(page.locator("[data-testid=voucher-status]")).to_have_text("Issued")
    expect(page.locator(".messages li")).to_have_count(1)  # "Done!" once, though the form went twice
    expect(page.locator(".messages")).to_contain_text("Tote bag is yours")
    assert Redemption.objects.count() == 1
    assert Voucher.objects.count() == 1
    assert balance_in_db(member) == 600
    page.goto("/")
    assert shown_points(page) == 600
    page.goto("/vouchers/")
    expect(page.locator("[data-testid=voucher-list] tbody tr")).to_have_count(1)


def test_cancel_a_voucher_through_the_confirmation_step(page: Page):
    member = MemberFactory()
    fund(member, 800)
    reward = RewardFactory(name="Cinema ticket", cost_points=300, stock=3, kind=Reward.Kind.GIFT, value=None)
    redemption, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source=Redemption.Source.PORTAL,
                                  idempotency_scope=f"member:{member.pk}", idempotency_key="browser-cancel")
    voucher = redemption.voucher
    assert balance_in_db(member) == 500
    log_in(page, member)
    assert shown_points(page) == 500

    page.goto(f"/vouchers/{voucher.pk}/")
    expect(page.locator("[data-testid=voucher-status]")).to_have_text("Issued")
    page.get_by_role("link", name=re.compile(r"^Cancel this voucher")).click()
    expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.pk}/cancel/$"))
    expect(page.get_by_role("heading", name="Cancel this voucher?")).to_be_visible()
    assert Voucher.objects.get(pk=voucher.pk).status == Voucher.Status.ISSUED  # nothing happens until confirmed

    page.locator("[data-testid=confirm-cancel]").click()
    expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.pk}/$"))
    expect(page.locator("[data-testid=voucher-status]")).to_have_text("Cancelled")
    expect(page.locator(".messages")).to_contain_text("The voucher is cancelled")
    expect(page.locator(".qr")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^Cancel this voucher"))).to_have_count(0)

    assert Voucher.objects.get(pk=voucher.pk).status == Voucher.Status.CANCELLED
    assert balance_in_db(member) == 800
    assert Reward.objects.get(pk=reward.pk).stock == 3
    page.goto("/")
    assert shown_points(page) == 800
    page.goto("/vouchers/")
    expect(page.locator("[data-testid=voucher-list] tbody tr")).to_contain_text("Cancelled")


def test_unaffordable_reward_shows_its_reason_and_names_are_escaped(page: Page):
    member = MemberFactory()
    fund(member, 100)
    hotel = RewardFactory(name="Hotel night", cost_points=5000, kind=Reward.Kind.GIFT, value=None)
    hostile_name = "Mug <script>alert(1)</script><img src=x onerror=alert(2)>"
    hostile = RewardFactory(name=hostile_name, cost_points=50, kind=Reward.Kind.FREE_PRODUCT, value=None)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, member, next_url="/rewards/")

    expect(card(page, hotel).locator("[data-testid=reason]")).to_have_text("4900 more points needed.")
    expect(card(page, hotel).get_by_role("link", name="Redeem")).to_have_count(0)

    expect(card(page, hostile).get_by_role("heading")).to_have_text(hostile_name)  # shown as text
    expect(card(page, hostile).get_by_role("link", name="Redeem")).to_be_visible()
    expect(page.locator("main script, main img[src=x]")).to_have_count(0)

    card(page, hotel).get_by_role("link", name="Hotel night").click()
    expect(page.locator("[data-testid=reason]")).to_have_text("4900 more points needed.")
    expect(page.get_by_role("link", name=re.compile(r"^Redeem"))).to_have_count(0)
    page.goto(f"/rewards/{hotel.pk}/redeem/")  # straight to the confirmation step: still refused
    expect(page.locator("[data-testid=reason]")).to_have_text("4900 more points needed.")
    expect(page.locator("[data-testid=confirm-redeem]")).to_have_count(0)

    for url in (f"/rewards/{hostile.pk}/", f"/rewards/{hostile.pk}/redeem/"):
        page.goto(url)
        expect(page.locator("h1")).to_contain_text(hostile_name)
        expect(page.locator("main script, main img[src=x]")).to_have_count(0)
    page.locator("[data-testid=confirm-redeem]").click()
    expect(page).to_have_url(VOUCHER_URL)
    expect(page.locator("h1")).to_have_text(hostile_name)
    expect(page.locator(".messages")).to_contain_text(hostile_name)
    page.goto("/vouchers/")
    expect(page.locator("[data-testid=voucher-list]")).to_contain_text(hostile_name)
    expect(page.locator("main script, main img[src=x]")).to_have_count(0)

    assert dialogs == [], f"a reward name ran as script: {dialogs}"
    assert not Redemption.objects.filter(reward=hotel).exists()


def test_catalog_on_a_phone_has_no_horizontal_scrolling(new_page):
    member = MemberFactory()
    fund(member, 2500)
    RewardFactory(name="Free coffee", cost_points=300, stock=3, kind=Reward.Kind.FREE_PRODUCT, value=None)
    RewardFactory(name="Weekend for two at the Grand Seaside Hotel, breakfast and spa included",
                  cost_points=48000, kind=Reward.Kind.GIFT, value=None)
    RewardFactory(name="10% off your next order", cost_points=800, kind=Reward.Kind.PERCENT_DISCOUNT, value=10)
    RewardFactory(name="Free shipping", cost_points=150, kind=Reward.Kind.FREE_SHIPPING, value=None)
    page = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True)
    stylesheet = []
    page.on("response", lambda r: r.url.endswith(".css") and stylesheet.append(r.status))
    log_in(page, member, next_url="/rewards/")

    assert stylesheet and stylesheet[-1] in (200, 304), f"the portal's CSS did not load: {stylesheet}"
    expect(page.locator("[data-testid=reward-list] > li")).to_have_count(4)
    assert page.evaluate("window.innerWidth") == 390
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the catalog scrolls sideways on a phone: {width}px wide"
    expect(page.get_by_role("button", name="Show rewards")).to_be_in_viewport()
