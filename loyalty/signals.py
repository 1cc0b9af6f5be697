"""Domain events the points engine announces to the apps above it (loyalty may not import them).

Each is sent AFTER the transaction that made it true commits (`send_after_commit`), so a listener never sees a
purchase or a credit that is then rolled back, and a failing listener cannot undo money already moved: its
error is logged with the event, and what it keeps (challenge progress, leaderboards) can be rebuilt from the
database (`manage.py recompute_challenges`, `manage.py rebuild_leaderboards`). Outside a transaction the event
is sent at once.

- `points_credited(entries)`: spendable points were credited (a list of LedgerEntry, any kind).
- `purchase_confirmed(purchase, tier_id, categories)`: a purchase's return window ended (or it was back-dated
  past it) and its points became spendable; `categories` are its items' categories when the sender knew them
  (a purchase confirmed as it was posted), else None.
- `purchase_returned(purchase)`: a return reached a confirmed purchase (`returned_amount` is the new total).
- `referral_confirmed(referrer_id, referred_id, occurred_at)`: a referred member's first purchase was confirmed
  and the referral bonuses were paid.

Every event also carries `now`, the time the change was made.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

points_credited = Signal()  # kwargs: entries, now
purchase_confirmed = Signal()  # kwargs: purchase, tier_id, categories, now
purchase_returned = Signal()  # kwargs: purchase, now
referral_confirmed = Signal()  # kwargs: referrer_id, referred_id, occurred_at, now


def send_after_commit(signal: Signal, **kwargs: Any) -> None:
    """Send `signal` once the current transaction commits (at once outside one); nothing if it rolls back."""
    if signal.has_listeners():
        transaction.on_commit(partial(_send, signal, kwargs))


def _send(signal: Signal, kwargs: dict[str, Any]) -> None:
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("loyalty event: %s failed (%s)", getattr(receiver, "__qualname__", receiver), result,
                      exc_info=result)
