import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from config.exceptions import DomainError
from members.codes import UNAMBIGUOUS_ALPHABET, luhn_check_digit, luhn_valid, member_number_generate
from members.models import Member
from members.services import display_name_validate, integration_token_authenticate, member_create_for_user
from tests.factories import ShopMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@given(st.integers(min_value=0, max_value=10**12))
def test_luhn_detects_any_single_digit_error(n):
    body = str(n)
    number = body + luhn_check_digit(body)
    assert luhn_valid(number)
    for pos in range(len(number)):
        for d in "0123456789":
            if d != number[pos]:
                assert not luhn_valid(number[:pos] + d + number[pos + 1:])


def test_member_numbers_are_ten_luhn_digits():
    for _ in range(200):
        n = member_number_generate()
        assert len(n) == 10 and n[0] != "0" and luhn_valid(n)


def test_referral_codes_use_the_unambiguous_alphabet(member):
    assert set(member.referral_code) <= set(UNAMBIGUOUS_ALPHABET)
    assert not set(member.referral_code) & set("01OIL")


def test_signing_up_claims_a_shop_member_with_the_same_email():
    shop_member = ShopMemberFactory(email="walk.in@example.test")
    user = UserFactory(email="Walk.In@example.test")
    assert member_create_for_user(user=user)[0].pk == shop_member.pk
    assert Member.objects.count() == 1


def test_member_create_for_user_is_idempotent(member):
    assert member_create_for_user(user=member.user)[0].pk == member.pk
    assert Member.objects.count() == 1


def test_balance_cannot_go_negative_in_the_database(member):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(points_balance=-1)


@pytest.mark.parametrize("bad", ["<b>x</b>", "a" * 41, "Tom & Jerry", "x\u0000y"])
def test_display_name_rejects_markup_and_length(bad):
    with pytest.raises(DomainError):
        display_name_validate(bad)


def test_create_integration_token_prints_a_working_token(capsys):
    call_command("create_integration_token", "pos-store-12")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("fid_") and len(raw) > 40
    token = integration_token_authenticate(raw=raw)
    assert token is not None and token.name == "pos-store-12"
    assert raw not in token.key_hash  # only the hash is stored


def test_create_integration_token_refuses_a_taken_name(capsys):
    call_command("create_integration_token", "webshop")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_integration_token", "webshop")
