"""Points-engine writes: purchases and their confirmation (`purchases`), returns (`returns`), many purchases at
once (`batch`) and the CSV history import (`importer`), expiry and its notices (`expiry`), tier periods
(`tiers`), staff adjustments and the welcome bonus (`adjustments`). Points move only through `loyalty.ledger`.
"""

from loyalty.services.adjustments import points_adjust, welcome_bonus_credit
from loyalty.services.batch import purchases_record_batch
from loyalty.services.expiry import expiry_notices_send, lots_expire_due
from loyalty.services.importer import ImportReport, purchases_import
from loyalty.services.purchases import (
    ItemIn,
    PurchaseIn,
    purchase_confirm,
    purchase_record,
    purchase_validate,
    purchases_confirm_due,
    referral_reward_pay,
)
from loyalty.services.returns import purchase_return
from loyalty.services.tiers import tiers_close_due

__all__ = [
    "ImportReport",
    "ItemIn",
    "PurchaseIn",
    "expiry_notices_send",
    "lots_expire_due",
    "points_adjust",
    "purchase_confirm",
    "purchase_record",
    "purchase_return",
    "purchase_validate",
    "purchases_confirm_due",
    "purchases_import",
    "purchases_record_batch",
    "referral_reward_pay",
    "tiers_close_due",
    "welcome_bonus_credit",
]
