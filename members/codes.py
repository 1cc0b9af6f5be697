"""Generators for member numbers and referral codes."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: codes are read aloud and typed from paper.
UNAMBIGUOUS_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 10  # 31**10 ~ 8e14 codes, ~49 bits: unguessable at any sane rate limit


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def member_number_generate() -> str:
    """Ten digits, no leading zero, the last a Luhn check digit (catches one mistyped digit)."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(8))
    return body + luhn_check_digit(body)


def referral_code_generate() -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
