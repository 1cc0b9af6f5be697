from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict, DomainError, Gone, NotFound
from loyalty.exceptions import IdempotencyConflict, InsufficientPoints

__all__ = [
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidVoucherCode",
    "LimitReached",
    "NotAvailable",
    "OutOfStock",
    "RewardNotFound",
    "TierRequired",
    "VoucherCancelled",
    "VoucherExpired",
    "VoucherNotFound",
    "VoucherUsed",
]


class RewardNotFound(NotFound):
    code = "reward_not_found"
    default_detail = _("No reward with this id.")


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_detail = _("This reward is out of stock.")


class TierRequired(Conflict):
    code = "tier_required"
    default_detail = _("This reward needs a higher tier.")


class LimitReached(Conflict):
    code = "limit_reached"
    default_detail = _("The member has already redeemed this reward as often as allowed.")


class NotAvailable(Conflict):
    code = "not_available"
    default_detail = _("This reward is not available now.")


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    default_detail = _("No voucher with this code.")


class VoucherUsed(Conflict):
    code = "voucher_used"
    default_detail = _("This voucher has already been used.")


class VoucherCancelled(Conflict):
    code = "voucher_cancelled"
    default_detail = _("This voucher was cancelled.")


class VoucherExpired(Gone):
    code = "voucher_expired"
    default_detail = _("This voucher has expired.")


class InvalidVoucherCode(DomainError):
    code = "invalid_voucher_code"
    default_detail = _("A voucher code has letters, digits and dashes only, at most 64 characters.")
