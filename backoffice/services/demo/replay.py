"""The demo's past, replayed in time order: a timeline of steps, the periodic jobs run when beat would have run
them (purchases confirmed at :05 past the hour their return window closes, lots expired at 00:30 program time
after their date), and the members' purchase histories (backoffice.services.demo)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings

from backoffice.services.demo.content import PRODUCT, PRODUCTS
from config.periods import program_tz
from gamification.services import challenge_event_record
from gamification.services.challenges import purchase_event
from loyalty.models import PointsLot, Purchase
from loyalty.services import ItemIn, PurchaseIn, lots_expire_due, purchase_record, purchases_confirm_due
from members.models import Member


def _cron_minute(name: str, default: int) -> int:
    """The minute a periodic task runs at, from settings.FIDELIO_PERIODIC_TASKS."""
    try:
        return int(settings.FIDELIO_PERIODIC_TASKS[name]["crontab"]["minute"])
    except (KeyError, TypeError, ValueError):
        return default


def _cron_hour(name: str, default: int) -> int:
    try:
        return int(settings.FIDELIO_PERIODIC_TASKS[name]["crontab"]["hour"])
    except (KeyError, TypeError, ValueError):
        return default


def _hourly_after(moment: datetime, *, minute: int) -> datetime:
    """The first run of an hourly job (at `minute` past the hour) at or after `moment`."""
    run = moment.replace(minute=minute, second=0, microsecond=0)
    return run if run >= moment else run + timedelta(hours=1)


def _daily_after(moment: datetime, *, hour: int, minute: int) -> datetime:
    """The first run of a daily job (at hour:minute program time) at or after `moment`."""
    local = moment.astimezone(program_tz())
    run = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if run < local:
        run = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return run.astimezone(UTC)


class _Timeline:
    """Steps of the demo's past, run in time order. Each step gets its moment as `now`; a step may schedule later
    steps (confirming a purchase schedules the expiry job's run after its lot's date). Steps after `now` are
    dropped: they are the periodic jobs' business once the platform runs."""

    def __init__(self, *, now: datetime):
        self.now = now
        self._queue: list[tuple[datetime, int, Callable[[datetime], object]]] = []
        self._order = itertools.count()
        self._jobs: set[tuple[str, datetime]] = set()

    def at(self, moment: datetime, step: Callable[[datetime], object]) -> None:
        if moment <= self.now:
            heapq.heappush(self._queue, (moment, next(self._order), step))

    def job(self, name: str, moment: datetime, step: Callable[[datetime], object]) -> None:
        """One run of the periodic job `name` at `moment`, however many things fall due for it."""
        if (name, moment) not in self._jobs:
            self._jobs.add((name, moment))
            self.at(moment, step)

    def run(self) -> None:
        while self._queue:
            moment, _order, step = heapq.heappop(self._queue)
            step(moment)


class _History:
    """Purchases and the points jobs that follow them, dated as beat would have run them. An order whose return
    window closed before today is posted by the shop when it closed (a settled order: confirmed as it is posted,
    its earn entry dated when the hourly confirmation would have dated it); an order still inside its window is
    posted when it happened and waits. Lots expire at the daily job's first run after their date."""

    def __init__(self, timeline: _Timeline, *, challenges_from: datetime):
        self.timeline = timeline
        self.challenges_from = challenges_from
        self.confirm_minute = _cron_minute("confirm pending points", 5)
        self.expire_hour, self.expire_minute = _cron_hour("expire points", 0), _cron_minute("expire points", 30)
        self._categories: dict[tuple[str, str], tuple[str, ...]] = {}  # (source, order id) -> item categories

    def post(self, data: PurchaseIn) -> None:
        self._categories[(data.source, data.order_id)] = tuple(sorted({i.category for i in data.items if i.category}))
        window_closes = data.occurred_at + timedelta(days=settings.FIDELIO_RETURN_WINDOW_DAYS)
        settled_at = _hourly_after(window_closes, minute=self.confirm_minute)
        at = settled_at if settled_at <= self.timeline.now else data.occurred_at + timedelta(minutes=2)
        self.timeline.at(at, lambda now: self._post(data, now))

    def _post(self, data: PurchaseIn, now: datetime) -> None:
        purchase, _created = purchase_record(data=data, now=now)
        if purchase.confirmed_at is not None:
            self._confirmed([purchase], now)

    def confirm_due(self, now: datetime) -> None:
        """The hourly "confirm pending points" job."""
        purchases_confirm_due(now=now)
        self._confirmed(list(Purchase.objects.filter(confirmed_at=now)), now)

    def _confirmed(self, purchases: list[Purchase], now: datetime) -> None:
        # What purchase_confirmed tells gamification after commit, counted here in time order so a completion's
        # points are dated when it happened (the after-commit delivery finds the events there: a no-op).
        for purchase in purchases:
            if purchase.occurred_at >= self.challenges_from:
                categories = self._categories.get((purchase.source, purchase.order_id))
                challenge_event_record(event=purchase_event(purchase, categories), now=now)
        if purchases:
            for expires_at in (PointsLot.objects.filter(created_at=now, expires_at__lte=self.timeline.now)
                               .values_list("expires_at", flat=True).distinct()):
                self.timeline.job("expire", _daily_after(expires_at, hour=self.expire_hour,
                                                         minute=self.expire_minute), self.expire_due)

    def expire_due(self, now: datetime) -> None:
        """The daily "expire points" job."""
        lots_expire_due(now=now)


def _purchase_in(*, member: Member, order_id: str, when: datetime, source: str,
                 items: list[tuple[str, int]]) -> PurchaseIn:
    lines = tuple(ItemIn(sku=sku, name=PRODUCT[sku][1], category=PRODUCT[sku][2], quantity=quantity,
                         unit_price=PRODUCT[sku][3]) for sku, quantity in items)
    amount = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    return PurchaseIn(member_id=member.pk, order_id=order_id, amount=amount, occurred_at=when, source=source,
                      items=lines)


def _random_orders(members: list[Member], *, now: datetime) -> dict[int, list[PurchaseIn]]:
    """A deterministic 18-month history per member (index ≥ 1; the demo customer's is CUSTOMER_ORDERS)."""
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    orders: dict[int, list[PurchaseIn]] = {}
    for index, member in enumerate(members):
        if index == 0:
            continue
        for k in range(rng.randint(1, 12)):
            items = [(sku, rng.randint(1, 3)) for sku, _name, _category, _price in rng.sample(PRODUCTS,
                                                                                            rng.randint(1, 3))]
            when = now - timedelta(days=rng.randint(1, 540), hours=rng.randint(0, 23))
            orders.setdefault(index, []).append(
                _purchase_in(member=member, order_id=f"DEMO-{index:03d}-{k:02d}", when=when, source="shop",
                             items=items))
    return orders
