"""Rewards writes: redemptions and the one redemption-and-voucher insert (`redeem`), vouchers at checkout,
cancelled and expired (`vouchers`), free birthday and challenge vouchers (`gifts`)."""

from rewards.services.gifts import birthday_notify, birthday_rewards_issue, challenge_voucher_issue
from rewards.services.redeem import reward_redeem
from rewards.services.vouchers import (
    voucher_cancel,
    voucher_check,
    voucher_code_normalise,
    voucher_use,
    vouchers_expire_due,
)

__all__ = [
    "birthday_notify",
    "birthday_rewards_issue",
    "challenge_voucher_issue",
    "reward_redeem",
    "voucher_cancel",
    "voucher_check",
    "voucher_code_normalise",
    "voucher_use",
    "vouchers_expire_due",
]
