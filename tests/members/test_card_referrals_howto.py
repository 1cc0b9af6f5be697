"""Three portal pages and a fix, over HTTP: the member card (with its QR code and Code 128 barcode of the member
number), the referrals page (code, invitation link, bonuses, the friends who joined and their state), the public
"How it works" page (everything from the configuration), and the invitation link that now fills in the sign-up
form's referral code."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from xml.dom import minidom

import pytest
import segno
from barcode import Code128
from barcode.charsets import code128
from barcode.writer import SVGWriter
from django.utils import timezone

from loyalty.models import EarningRule
from loyalty.services import PurchaseIn, purchase_record
from members.models import Member, User
from members.services import member_erase, member_profile_update, referral_apply
from rewards.models import Reward
from tests.factories import MemberFactory, RewardFactory, ShopMemberFactory, TierFactory, UserFactory

pytestmark = pytest.mark.django_db

CARD, QR, BARCODE = "/card/", "/card/qr.svg", "/card/barcode.svg"
REFERRALS, HOW = "/referrals/", "/how-it-works/"
SIGNUP = "/accounts/signup/"


def _login(client, member):
    client.force_login(member.user)
    return client


def _confirmed_purchase(member, order_id):
    """A back-dated purchase: past the return window, so it confirms at once (and pays referral bonuses)."""
    now = timezone.now()
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id=order_id, amount=Decimal("20.00"),
                                    occurred_at=now - timedelta(days=60), currency="EUR"), now=now)


# ----------------------------------------------------------------------------------- decoding the images
def _parse(svg: bytes) -> minidom.Document:
    return minidom.parseString(svg)  # noqa: S318 - the SVGs this suite's own server and python-barcode wrote


def _barcode_modules(svg: bytes) -> str:
    """The bars of a python-barcode SVG read back as a module string ("1" bar, "0" space), from the rects'
    positions and widths in millimetres (the background rect has none)."""
    doc = _parse(svg)
    bars = []
    for rect in doc.getElementsByTagName("rect"):
        if not rect.getAttribute("x"):
            continue
        bars.append((float(rect.getAttribute("x").removesuffix("mm")),
                     float(rect.getAttribute("width").removesuffix("mm"))))
    bars.sort()
    module = 0.2
    start = bars[0][0]
    out: list[str] = []
    for x, width in bars:
        gap = round((x - start) / module) - len(out)
        out.extend("0" * gap)
        out.extend("1" * round(width / module))
    return "".join(out)


def _code128_decode(modules: str) -> str:
    """Decode Code 128 (code sets B and C, which is all a member number needs): start symbol, data, checksum,
    stop pattern. Each symbol is 11 modules; the stop is 13."""
    assert modules.endswith(code128.STOP + "11"), "no stop pattern"
    body = modules[: -len(code128.STOP) - 2]
    assert len(body) % 11 == 0
    values = [code128.CODES.index(body[i:i + 11]) for i in range(0, len(body), 11)]
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, start=1))) % 103, "bad checksum"
    charset = {code128.START_CODES["B"]: "B", code128.START_CODES["C"]: "C"}[start]
    text = ""
    for value in data:
        if charset == "C" and value == 100:
            charset = "B"
        elif charset == "B" and value == 99:
            charset = "C"
        elif charset == "C":
            text += f"{value:02d}"
        else:
            text += chr(value + 32)
    return text


def _qr_matrix(svg: bytes, border: int = 4) -> list[list[bool]]:
    """segno's SVG path read back into the module matrix: `M x y` starts a row at an absolute point, `m dx dy`
    moves, `h n` draws n dark modules; y is the row's middle (row + 0.5)."""
    doc = _parse(svg)
    path = next(p for p in doc.getElementsByTagName("path") if p.getAttribute("stroke"))
    size = int(float(doc.documentElement.getAttribute("viewBox").split()[2])) - 2 * border
    matrix = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.getAttribute("d")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                matrix[int(y - 0.5) - border][column - border] = True
            x += float(a)
    return matrix


# ------------------------------------------------------------------------------------------- member card
def test_pages_need_a_login_and_the_how_it_works_page_does_not(client):
    for url in (CARD, QR, BARCODE, REFERRALS):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert client.get(HOW).status_code == 200


def test_a_login_without_a_member_gets_the_not_a_member_page_and_no_images(client):
    client.force_login(UserFactory(is_staff=True))
    for url in (CARD, REFERRALS):
        response = client.get(url)
        assert response.status_code == 200 and "not a loyalty member" in response.content.decode(), url
    for url in (QR, BARCODE):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/", url


def test_the_card_shows_program_name_number_tier_and_both_codes(client, settings):
    TierFactory(name="Bronze", rank=1, threshold_points=0)
    member = MemberFactory()
    member_profile_update(member=member, display_name="Ania K")
    html = _login(client, member).get(CARD).content.decode()
    assert settings.FIDELIO_PROGRAM_NAME in html
    assert 'data-testid="card-name">Ania K<' in html
    assert f'data-testid="member-number">{member.member_number}<' in html
    assert 'data-testid="card-tier">Bronze<' in html
    assert f'src="{QR}"' in html and f'src="{BARCODE}"' in html
    assert "/static/css/card.css" in html  # the print stylesheet, a same-origin file
    assert "<script" not in html and "<style" not in html  # the CSP allows neither inline


def test_the_card_names_the_member_by_their_names_without_a_display_name(client):
    member = MemberFactory()
    member_profile_update(member=member, first_name="Jana", last_name="Nováková")
    html = _login(client, member).get(CARD).content.decode()
    assert 'data-testid="card-name">Jana Nováková<' in html


def test_the_qr_code_holds_exactly_the_member_number(client):
    member = MemberFactory()
    response = _login(client, member).get(QR)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    expected = segno.make_qr(member.member_number, error="m")
    assert not expected.is_micro and expected.mode == "numeric"  # a regular QR code: every scanner reads it
    matrix = _qr_matrix(response.content)
    assert matrix == [[bool(module) for module in row] for row in expected.matrix]


def test_the_barcode_decodes_back_to_the_member_number(client):
    member = MemberFactory()
    response = _login(client, member).get(BARCODE)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content
    modules = _barcode_modules(svg)
    assert modules == Code128(member.member_number).build()[0]
    assert _code128_decode(modules) == member.member_number
    doc = _parse(svg)
    assert not doc.getElementsByTagName("text")  # the page prints the number, not the library
    assert doc.documentElement.getAttribute("viewBox")  # scales to the box the page gives it
    # The same bars python-barcode's own SVG writer draws for the number.
    library = Code128(member.member_number, writer=SVGWriter()).render({"write_text": False})
    assert _barcode_modules(library) == modules


def test_each_member_gets_only_their_own_number(client):
    first, second = MemberFactory(), MemberFactory()
    _login(client, second)
    assert _code128_decode(_barcode_modules(client.get(BARCODE).content)) == second.member_number
    assert _qr_matrix(client.get(QR).content) == [
        [bool(m) for m in row] for row in segno.make_qr(second.member_number, error="m").matrix]
    assert first.member_number not in client.get(CARD).content.decode()
    # No member id in the URL: a query string changes nothing.
    assert _code128_decode(_barcode_modules(client.get(f"{BARCODE}?member={first.pk}").content)) \
        == second.member_number


# --------------------------------------------------------------------------------------------- referrals
def test_referrals_page_without_friends_shows_code_link_bonuses_and_empty_state(client, settings):
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 200, 100
    member = MemberFactory()
    html = _login(client, member).get(REFERRALS).content.decode()
    assert f'value="http://testserver/r/{member.referral_code}/"' in html
    assert f'value="{member.referral_code}"' in html
    assert 'data-testid="referrals-empty"' in html and 'data-testid="referral-list"' not in html
    assert re.search(r'data-testid="bonus-referred">\s*Your friend gets 100 bonus points', html)
    assert re.search(r'data-testid="bonus-referrer">\s*You get 200 bonus points', html)
    # The copy buttons are an optional extra from a local file; hidden until it shows them.
    assert '<script src="/static/js/copy.js" defer></script>' in html
    assert re.search(r'<button type="button"[^>]*hidden[^>]*data-copy="share-url"', html)
    assert "onclick" not in html and "<style" not in html


def test_referrals_list_friends_with_their_state_and_only_what_they_show_others(client, settings):
    settings.FIDELIO_REFERRAL_BONUS_REFERRER = 200
    member = MemberFactory()
    named, pseudonymous, buyer = MemberFactory(), MemberFactory(), MemberFactory()
    member_profile_update(member=named, display_name="Ola", leaderboard_visibility="name")
    member_profile_update(member=pseudonymous, display_name="Secret Sam", leaderboard_visibility="pseudonym")
    for friend in (named, pseudonymous, buyer):
        referral_apply(member=friend, code=member.referral_code)
    _confirmed_purchase(buyer, "REF-1")
    stranger = MemberFactory()
    referral_apply(member=MemberFactory(), code=stranger.referral_code)  # someone else's friend

    html = _login(client, member).get(REFERRALS).content.decode()
    rows = re.findall(r"<tr>\s*<td data-label=\"Friend\">(.*?)</td>.*?data-state=\"([a-z-]+)\"", html, flags=re.S)
    states = dict(rows)
    assert set(states) == {"Ola", f"Member {pseudonymous.member_number[-4:]}", f"Member {buyer.member_number[-4:]}"}
    assert states["Ola"] == "signed-up"
    assert states[f"Member {buyer.member_number[-4:]}"] == "bonus-paid"
    assert "Secret Sam" not in html and buyer.user.email not in html and named.user.email not in html
    assert re.search(r"3 friends joined with your code; 1 of them confirmed a first purchase", html)
    for label in ("Friend", "Joined", "Status"):
        assert html.count(f'<td data-label="{label}">') == 3


def test_without_a_referrer_bonus_a_confirmed_friend_is_not_called_paid(client, settings):
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 0, 0
    member, friend = MemberFactory(), MemberFactory()
    referral_apply(member=friend, code=member.referral_code)
    _confirmed_purchase(friend, "REF-2")
    html = _login(client, member).get(REFERRALS).content.decode()
    assert 'data-state="confirmed"' in html and 'data-state="bonus-paid"' not in html
    assert 'data-testid="no-bonus"' in html


def test_an_erased_friend_is_a_former_member(client):
    member, friend = MemberFactory(), MemberFactory()
    referral_apply(member=friend, code=member.referral_code)
    member_erase(member=friend, reason="")
    html = _login(client, member).get(REFERRALS).content.decode()
    assert '<td data-label="Friend">Former member</td>' in html


def test_the_referrals_list_is_paginated_and_its_queries_do_not_grow(client, django_assert_max_num_queries):
    member = MemberFactory()
    friends = [ShopMemberFactory() for _ in range(30)]
    for friend in friends:
        referral_apply(member=friend, code=member.referral_code)
    for i, friend in enumerate(friends[:6]):
        _confirmed_purchase(friend, f"MANY-{i}")
    _login(client, member)
    with django_assert_max_num_queries(15):
        first = client.get(REFERRALS)
    with django_assert_max_num_queries(15):
        second = client.get(f"{REFERRALS}?page=2")
    assert first.content.decode().count('<td data-label="Friend">') == 25
    assert second.content.decode().count('<td data-label="Friend">') == 5
    assert "30 friends joined with your code; 6 of them" in first.content.decode()
    assert "?page=2" in first.content.decode()


def test_card_and_images_and_how_it_works_stay_within_the_query_budget(client, django_assert_max_num_queries):
    TierFactory(name="Bronze", rank=1, threshold_points=0)
    TierFactory(name="Silver", rank=2, threshold_points=1000)
    member = MemberFactory()
    for i in range(20):
        referral_apply(member=ShopMemberFactory(), code=member.referral_code)
        _confirmed_purchase(member, f"OWN-{i}")
    for i in range(5):
        EarningRule.objects.create(name=f"Rule {i}", rule_type="multiplier", rate=Decimal("2"))
    RewardFactory(cost_points=300)
    _login(client, member)
    for url in (CARD, QR, BARCODE, HOW):
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200, url
    client.logout()
    with django_assert_max_num_queries(15):
        assert client.get(HOW).status_code == 200


# ---------------------------------------------------------------------------------------- how it works
def test_how_it_works_reads_the_configuration(client, settings):
    settings.FIDELIO_CURRENCY = "EUR"
    settings.FIDELIO_POINTS_PER_UNIT = "1"
    settings.FIDELIO_RETURN_WINDOW_DAYS = 7
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 18
    settings.FIDELIO_EXPIRY_NOTICE_DAYS = 30
    settings.FIDELIO_WELCOME_BONUS = 50
    settings.FIDELIO_REVIEW_BONUS_POINTS = 25
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 200, 100
    settings.FIDELIO_TIER_BASIS = "points"
    now = timezone.now()
    EarningRule.objects.create(name="Base deal", rule_type="base_rate", rate=Decimal("2"))
    EarningRule.objects.create(name="Coffee week", rule_type="multiplier", rate=Decimal("3"), scope="category",
                               scope_value="Coffee", ends_at=now + timedelta(days=10))
    EarningRule.objects.create(name="Big basket", rule_type="bonus", bonus_points=40, min_amount=Decimal("50"))
    EarningRule.objects.create(name="Weekend", rule_type="multiplier", rate=Decimal("2"), weekdays="5,6")
    EarningRule.objects.create(name="Old campaign", rule_type="multiplier", rate=Decimal("5"),
                               starts_at=now - timedelta(days=20), ends_at=now - timedelta(days=10))
    EarningRule.objects.create(name="Switched off", rule_type="multiplier", rate=Decimal("5"), is_active=False)
    TierFactory(name="Bronze", rank=1, threshold_points=0, benefits="")
    TierFactory(name="Gold", rank=3, threshold_points=3000, earn_multiplier=Decimal("1.50"),
                qualification_months=12, benefits="Free delivery")
    RewardFactory(name="Tote bag", cost_points=300)
    RewardFactory(name="Mug", cost_points=150)
    RewardFactory(name="Hidden", cost_points=10, is_active=False)
    Reward.objects.create(name="Birthday cake", kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("10.00"),
                          cost_points=1, is_birthday_reward=True, voucher_valid_days=30)

    html = client.get(HOW).content.decode()
    text = re.sub(r"\s+", " ", html)
    assert "Points per €1.00 spent: 2." in text  # the best base-rate rule in force, not the setting
    for name in ("Base deal", "Coffee week", "Big basket", "Weekend"):
        assert f'<td data-label="Offer">{name}</td>' in html
    assert "Old campaign" not in html and "Switched off" not in html
    assert "Items in the category “Coffee”" in text and "Points × 3" in text
    assert "40 bonus points per purchase" in text and "Purchases of at least €50.00" in text
    assert "On Saturday, Sunday only." in text
    assert "pending for 7 days" in text
    assert "Points expire 18 months after you earned them." in text and "30 days before points expire" in text
    assert "50 points as a welcome gift" in text and "25 points for a published review" in text
    assert "gets 100 bonus points" in text and "You get 200 bonus points for each friend" in text
    assert "Where everyone starts" in text and "3,000 points earned" in text and "12 months" in text
    assert "Points × 1.5" in text and "Free delivery" in text
    assert "Choose from 2 rewards, from 150 points." in text
    assert "Birthday cake (€10.00 off)" in text and "valid for 30 days" in text
    assert "Join for free" in text  # a guest is invited to join
    for label in ("Offer", "What you get", "On", "When", "Tier", "To reach it", "Qualification period",
                  "Points multiplier", "Benefits"):
        assert f'<td data-label="{label}">' in html


def test_how_it_works_says_what_is_not_configured(client, settings):
    settings.FIDELIO_CURRENCY = "EUR"
    settings.FIDELIO_POINTS_PER_UNIT = "1"
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 0
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_REVIEW_BONUS_POINTS = 0
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 0, 0
    html = client.get(HOW).content.decode()
    text = re.sub(r"\s+", " ", html)
    assert "Points per €1.00 spent: 1." in text  # FIDELIO_POINTS_PER_UNIT without a base-rate rule
    for testid in ("no-rules", "no-tiers", "no-rewards", "no-referral-bonus", "no-birthday-gift"):
        assert f'data-testid="{testid}"' in html, testid
    assert "spendable as soon as the purchase is recorded" in text
    assert "Your points do not expire." in text
    assert "welcome gift" not in text and "published review" not in text


def test_how_it_works_marks_a_members_tier_and_formats_numbers_in_their_language(client, settings):
    settings.FIDELIO_TIER_BASIS = "points"
    TierFactory(name="Bronze", rank=1, threshold_points=0)
    TierFactory(name="Silver", rank=2, threshold_points=1500)
    EarningRule.objects.create(name="Base", rule_type="base_rate", rate=Decimal("1.5"))
    member = MemberFactory()
    html = _login(client, member).get(HOW).content.decode()
    assert re.search(r'Bronze</span> <strong data-testid="your-tier">', html)
    assert "Join for free" not in html
    polish = client.get(HOW, HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "1,5" in polish  # the |number filter: Polish decimal comma
    assert "1\xa0500" in polish or "1 500" in polish


# --------------------------------------------------------------------------------- the invitation link
def _referral_field(html: str) -> str:
    field = re.search(r'<input[^>]*name="referral_code"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return value.group(1) if value else ""


def test_the_invitation_link_fills_in_the_code_and_says_what_is_true(client, settings):
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 200, 100
    referrer = MemberFactory()
    response = client.get(f"/r/{referrer.referral_code.lower()}/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == SIGNUP
    assert _referral_field(html) == referrer.referral_code
    assert f"their referral code {referrer.referral_code} is filled in below" in html
    assert "you get 100 bonus points" in html and "Your friend then gets 200 bonus points" in html

    client.post(SIGNUP, {"email": "friend@example.test", "password1": "a-long-secret-phrase",
                         "password2": "a-long-secret-phrase", "referral_code": _referral_field(html)})
    assert User.objects.get(email="friend@example.test").signup_referral_code == referrer.referral_code
    assert "referral_code" not in client.session  # used once


def test_without_bonuses_the_invitation_promises_none(client, settings):
    settings.FIDELIO_REFERRAL_BONUS_REFERRER, settings.FIDELIO_REFERRAL_BONUS_REFERRED = 0, 0
    referrer = MemberFactory()
    html = client.get(f"/r/{referrer.referral_code}/", follow=True).content.decode()
    assert "is filled in below" in html and "bonus point" not in html


def test_emptying_the_filled_in_field_means_no_code(client):
    referrer = MemberFactory()
    client.get(f"/r/{referrer.referral_code}/")
    client.post(SIGNUP, {"email": "nocode@example.test", "password1": "a-long-secret-phrase",
                         "password2": "a-long-secret-phrase", "referral_code": ""})
    assert User.objects.get(email="nocode@example.test").signup_referral_code == ""


def test_an_invalid_or_erased_members_link_is_a_404_that_fills_in_nothing_and_drops_an_earlier_code(client):
    earlier, erased = MemberFactory(), MemberFactory()
    member_erase(member=erased, reason="")
    client.get(f"/r/{earlier.referral_code}/")
    for code in ("NOSUCHCODE", Member.objects.get(pk=erased.pk).referral_code):
        response = client.get(f"/r/{code}/")
        assert response.status_code == 404, code
        html = response.content.decode()
        assert "not valid any more" in html and 'href="/accounts/signup/"' in html, code
        assert "referral_code" not in client.session
        assert _referral_field(client.get(SIGNUP).content.decode()) == ""


def test_a_logged_in_member_following_a_link_is_told_so_and_sent_home(client):
    referrer, member = MemberFactory(), MemberFactory()
    response = _login(client, member).get(f"/r/{referrer.referral_code}/", follow=True)
    assert response.redirect_chain[0] == ("/", 302)
    assert "You are logged in already" in response.content.decode()
    assert "referral_code" not in client.session
