"""Money, numbers and dates as the reader's language writes them ("1 234,50 zł", "1.234,50 €", "€1,234.50").

One place for it, used by the portal's template filters (`{% load fidelio %}`) and by e-mails. Babel carries
CLDR's rules for every language and currency, so nothing here knows a separator or a symbol position.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils import translation

_LOCALES = {"en": "en", "pl": "pl_PL", "cs": "cs_CZ", "ru": "ru_RU", "el": "el_GR"}


def current_locale(language: str | None = None) -> str:
    """The CLDR locale for a language code (the active one by default); unknown codes read as English."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
    return _LOCALES.get(code, "en")


def money_format(amount: Decimal | int | float | str | None, currency: str | None = None, *,
                 language: str | None = None) -> str:
    """An amount with its currency in the reader's language; '' for None."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(str(amount)), currency or settings.FIDELIO_CURRENCY,
                           locale=current_locale(language))


def number_format(value: int | Decimal | float | None, *, language: str | None = None) -> str:
    """A whole number or decimal with the language's grouping and decimal separator; '' for None."""
    if value is None or value == "":
        return ""
    return format_decimal(value, locale=current_locale(language))


def percent_format(value: Decimal | int | float | None, *, language: str | None = None) -> str:
    """A percentage given in percent (15 → "15 %" in Czech, "15%" in English); '' for None."""
    if value is None or value == "":
        return ""
    return format_percent(Decimal(str(value)) / 100, locale=current_locale(language),
                          decimal_quantization=False)
