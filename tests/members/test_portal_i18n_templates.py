"""The portal's templates are translatable and locale-formatted (issue 13).

Static checks over the template files: no visible text outside {% translate %} / {% blocktranslate %} (text,
and the title / aria-label / placeholder / alt attributes), every table cell labelled for the phone layout,
and no English-only formatting left (|intcomma, |pluralize, |floatformat, hard-coded date formats). Then
pages rendered in Polish through the test client: amounts, points and dates as Polish writes them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.utils import timezone

from loyalty import ledger
from loyalty.models import LedgerEntry
from members.models import Member
from rewards.models import Reward, Voucher
from rewards.services import reward_redeem
from tests.factories import MemberFactory, RewardFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
TEMPLATE_FILES = sorted(
    [*TEMPLATES.glob("portal/**/*.html"), *(TEMPLATES / name for name in ("400.html", "403.html", "404.html",
                                                                          "500.html")),
     *TEMPLATES.glob("allauth/layouts/*.html")]
)
IDS = [str(p.relative_to(TEMPLATES)) for p in TEMPLATE_FILES]

# Text that may stay outside a translation tag: (template, text). Keep it short; nothing needs it today.
ALLOWED_TEXT: set[tuple[str, str]] = set()

NBSP = "\u00a0"  # what Babel (CLDR) puts between digit groups, and before "zł" / "€", in Polish
LETTER = re.compile(r"[^\W\d_]")  # any letter, in any script


def _blank(pattern: str, text: str, flags: int = re.DOTALL) -> str:
    """Remove what `pattern` matches, keeping its line breaks so that line numbers still point at the file."""
    return re.sub(pattern, lambda m: "\n" * m.group(0).count("\n"), text, flags=flags)


def _without_django(text: str) -> str:
    text = _blank(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", text)
    text = _blank(r"\{#.*?#\}", text)
    text = _blank(r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}", text)
    text = _blank(r"\{%.*?%\}", text)
    return _blank(r"\{\{.*?\}\}", text)


def _template(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=IDS)
def test_no_visible_text_outside_translation_tags(path):
    name = str(path.relative_to(TEMPLATES))
    text = _without_django(_template(path))
    problems = []
    for attr, value in re.findall(r'\b(title|aria-label|placeholder|alt|data-label)\s*=\s*"([^"]*)"', text):
        if LETTER.search(value) and (name, value.strip()) not in ALLOWED_TEXT:
            problems.append(f'{attr}="{value}"')
    text = _blank(r"<!--.*?-->", text)
    text = _blank(r"<[^>]*>", text)
    text = re.sub(r"&#?\w+;", " ", text)
    for number, line in enumerate(text.splitlines(), start=1):
        if LETTER.search(line) and (name, line.strip()) not in ALLOWED_TEXT:
            problems.append(f"line {number}: {line.strip()!r}")
    assert not problems, f"{name}: text outside {{% translate %}} / {{% blocktranslate %}}: {problems}"


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=IDS)
def test_every_table_cell_is_labelled_for_the_phone_layout(path):
    text = _blank(r"\{%.*?%\}", _template(path))  # "{% if x > 0 %}" inside a tag would end it early
    cells = re.findall(r"<td\b[^>]*>", text)
    unlabelled = [cell for cell in cells if "data-label=" not in cell]
    assert not unlabelled, f"{path.name}: <td> without data-label: {unlabelled}"


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=IDS)
def test_no_english_only_formatting(path):
    text = _template(path)
    assert not re.search(r"\|\s*(intcomma|pluralize|floatformat)\b", text), \
        f"{path.name}: use |number, |money:currency, |percent and blocktranslate count instead"
    hard_coded = re.findall(r"""\|\s*date\s*:\s*["']([^"']*)["']""", text)
    assert all(re.fullmatch(r"[A-Z_]+_FORMAT", fmt) for fmt in hard_coded), \
        f"{path.name}: date formats must be the locale's (DATE_FORMAT, SHORT_DATE_FORMAT…): {hard_coded}"


@pytest.mark.parametrize("name", IDS)
def test_every_template_compiles(name):
    get_template(name)


def test_the_heuristic_catches_untranslated_text(tmp_path):
    """The check above is only worth something if it fails on the mistakes it looks for."""
    assert LETTER.search(_blank(r"<[^>]*>", _without_django('<p>{% if a %}Points{% endif %}</p>')))
    assert not LETTER.search(_blank(r"<[^>]*>", _without_django(
        '<p>{% translate "Points" %} · {% blocktranslate count counter=n %}{{ n }} point{% plural %}'
        '{{ n }} points{% endblocktranslate %} {{ member.name }}</p>')))
    attrs = re.findall(r'aria-label="([^"]*)"', _without_django('<nav aria-label="Pages"><a aria-label='
                                                                '"{% translate "Main" %}">'))
    assert attrs == ["Pages", ""]


# ------------------------------------------------------------------------------- pages in the reader's language
@pytest.fixture
def polish_member(db, settings, client):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_CURRENCY = "EUR"
    member = MemberFactory()
    ledger.points_credit(member=member.pk, points=1234, kind=LedgerEntry.Kind.BONUS, description="test funds",
                         idempotency_key="i18n-templates")
    assert Member.objects.get(pk=member.pk).points_balance == 1234
    client.force_login(member.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"
    return member


def _page(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_home_shows_the_balance_grouped_the_polish_way(client, polish_member):
    html = _page(client, "/")
    assert '<html lang="pl">' in html
    assert f'data-testid="balance">1{NBSP}234<' in html
    assert "1,234" not in html


def test_points_history_in_polish_numbers_and_dates(client, polish_member):
    html = _page(client, "/points/")
    assert f"<strong>1{NBSP}234</strong>" in html  # the balance
    assert f">+1{NBSP}234<" in html  # the ledger entry
    assert timezone.localdate().strftime("%d-%m-%Y") in html  # Django's pl SHORT_DATE_FORMAT: d-m-Y
    assert f'data-label="Punkty">+1{NBSP}234<' in html  # the phone layout's label, in Polish


def test_rewards_catalog_in_polish_money_percent_and_points(client, polish_member):
    RewardFactory(name="Five off", kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("5.00"), cost_points=1500)
    RewardFactory(name="Fifteen percent", kind=Reward.Kind.PERCENT_DISCOUNT, value=Decimal("15.00"), cost_points=200)
    html = _page(client, "/rewards/")
    assert f'<strong data-testid="balance">1{NBSP}234</strong>' in html
    assert f"5,00{NBSP}€" in html and "5.00" not in html  # "5,00 €", not "5.00 EUR" or "€5.00"
    assert "15%" in html and "15.00" not in html
    assert f"<strong>1{NBSP}500</strong>" in html and "<strong>200</strong>" in html


def test_the_same_catalog_in_czech_and_english(client, polish_member):
    RewardFactory(name="Five off", kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("5.00"), cost_points=1500)
    RewardFactory(name="Fifteen percent", kind=Reward.Kind.PERCENT_DISCOUNT, value=Decimal("15.00"), cost_points=200)
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    czech = _page(client, "/rewards/", HTTP_ACCEPT_LANGUAGE="cs")
    assert '<html lang="cs">' in czech and f"15{NBSP}%" in czech and f"5,00{NBSP}€" in czech
    english = _page(client, "/rewards/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in english
    assert "€5.00 off" in english and "15% off" in english and "<strong>1,500</strong> points" in english
    assert '<strong data-testid="balance">1,234</strong> points to spend' in english


def test_a_voucher_shows_its_own_currency_and_a_polish_date(client, polish_member):
    reward = RewardFactory(name="Five off", kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("5.00"), cost_points=200,
                           voucher_valid_days=30)
    voucher = reward_redeem(member_id=polish_member.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope=f"member:{polish_member.pk}", idempotency_key="i18n")[0].voucher
    Voucher.objects.filter(pk=voucher.pk).update(currency="PLN")  # issued while the program counted in złoty
    voucher.refresh_from_db()
    html = _page(client, f"/vouchers/{voucher.pk}/")
    assert f"5,00{NBSP}zł rabatu" in html  # the sentence and the amount in Polish
    expires = timezone.localtime(voucher.expires_at)
    assert f"<strong>{expires.day} {MONTHS_GENITIVE[expires.month - 1]} {expires.year}</strong>" in html


# Django's Polish DATE_FORMAT is "j E Y": the day, the month in the genitive, the year.
MONTHS_GENITIVE = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
                   "października", "listopada", "grudnia"]
