from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict, DomainError, NotFound


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_detail = _("The member does not have enough points.")

    def __init__(self, detail: str | Promise | None = None, *, field: str | None = None, code: str | None = None,
                 balance: int | None = None):
        super().__init__(detail, field=field, code=code)
        self.balance = balance  # what the member can spend, when the refusal knows it


class OrderConflict(Conflict):
    code = "order_conflict"
    default_detail = _("This order id was already posted with different details.")


class ReturnConflict(Conflict):
    code = "return_conflict"
    default_detail = _("This return id was already posted with different details.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_detail = _("This idempotency key was already used for a different operation.")


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"
    default_detail = _("No purchase with this order id.")


class ReturnExceedsPurchase(DomainError):
    code = "return_exceeds_purchase"
    default_detail = _("The returns would exceed the purchase amount.")
