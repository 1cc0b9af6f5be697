"""Metric rollups on a small fixed data set; every expected figure is computed by hand in the comments.

Program time zone Europe/Berlin, rollup day (as_of) 2025-03-31. Members (all joined 2025-01-01):
  A external id "A", B "B", C "C", D no external id (tie key = its 10-digit member number, which sorts before
  letters), E no purchases.
Purchases (local noon):
  A 2025-01-10 100.00 | 2025-02-15 50.00 of which 20.00 returned | 2025-03-20 30.00
  B 2025-01-05 80.00  | 2025-01-25 40.00 fully returned (not an order)
  C 2025-02-01 200.00
  D 2025-03-31 10.00
Ledger: A earn +100 (01-10), A redeem -50 (02-20), B earn +80 (01-05), B expire -30 (03-01), C bonus +20 (02-01).
One redemption (02-20) of a fixed-discount reward worth 5.00.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.models import CohortCell, MemberScore, MetricSnapshot
from backoffice.services import metrics_rollup, segment_for
from loyalty.models import LedgerEntry, Purchase
from members.models import Member
from rewards.models import Redemption
from tests.factories import RewardFactory, ShopMemberFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
AS_OF = date(2025, 3, 31)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=BERLIN)


@pytest.fixture
def data(settings):
    settings.FIDELIO_TIME_ZONE = "Europe/Berlin"
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_POINT_VALUE = Decimal("0.01")
    members = {}
    for key in "ABCDE":
        member = ShopMemberFactory()
        member.external_id = key if key in "ABC" else None
        member.save(update_fields=["external_id"])
        members[key] = member
    Member.objects.update(created_at=at("2025-01-01"))
    n = 0

    def buy(key, day, amount, returned="0.00"):
        nonlocal n
        n += 1
        Purchase.objects.create(member=members[key], source="shop", order_id=f"o{n}", amount=Decimal(amount),
                                currency="EUR", occurred_at=at(day), confirm_after=at(day),
                                returned_amount=Decimal(returned))

    buy("A", "2025-01-10", "100.00")
    buy("A", "2025-02-15", "50.00", "20.00")
    buy("A", "2025-03-20", "30.00")
    buy("B", "2025-01-05", "80.00")
    buy("B", "2025-01-25", "40.00", "40.00")
    buy("C", "2025-02-01", "200.00")
    buy("D", "2025-03-31", "10.00")

    def ledger(key, kind, points, day):
        nonlocal n
        n += 1
        LedgerEntry.objects.create(member=members[key], kind=kind, points=points, description=kind,
                                   balance_after=0, idempotency_key=f"t{n}", created_at=at(day))

    ledger("A", "earn", 100, "2025-01-10")
    ledger("A", "redeem", -50, "2025-02-20")
    ledger("B", "earn", 80, "2025-01-05")
    ledger("B", "expire", -30, "2025-03-01")
    ledger("C", "bonus", 20, "2025-02-01")
    Redemption.objects.create(member=members["A"], reward=RewardFactory(value=Decimal("5.00")), points_spent=50,
                              source="portal", idempotency_scope="t", idempotency_key="r1", request_hash="x",
                              created_at=at("2025-02-20"))
    return members


def snapshot(period: str, start: date) -> dict:
    return MetricSnapshot.objects.get(as_of=AS_OF, period=period, period_start=start).metrics


def test_all_time_figures(data):
    metrics_rollup(as_of=AS_OF)
    m = MetricSnapshot.objects.get(as_of=AS_OF, period="all").metrics
    # customers A, B, C, D = 4; orders A 3 + B 1 + C 1 + D 1 = 6 (B's fully returned purchase is not an order)
    assert (m["customers"], m["orders"]) == (4, 6)
    # revenue = 100 + (50 - 20) + 30 + 80 + 200 + 10 = 450.00; AOV = 450 / 6 = 75.00
    assert (m["revenue"], m["aov"]) == ("450.00", "75.00")
    # purchase frequency = 6 / 4 = 1.5; repeat purchase rate = 1 (A) / 4 = 0.25; historic CLV = 450 / 4
    assert (m["purchase_frequency"], m["repeat_purchase_rate"], m["clv_historic"]) == ("1.5000", "0.2500", "112.50")
    # members 5 (all joined 2025-01-01); active (order in the 365 days to 03-31) = 4
    assert (m["members_total"], m["active_members"]) == (5, 4)
    # issued 100 + 80 + 20 = 200; redeemed 50; expired 30; outstanding 200 - 50 - 30 = 120
    assert (m["points_issued"], m["points_redeemed"], m["points_expired"], m["points_outstanding"]) == (
        200, 50, 30, 120)
    # breakage = expired / (redeemed + expired) = 30 / 80 = 0.375; gross liability 120 × 0.01 = 1.20;
    # expected breakage 1.20 × 0.375 = 0.45; liability 0.75; redemption rate 50 / 200 = 0.25
    assert (m["breakage_rate"], m["liability_gross"], m["expected_breakage_value"], m["liability"]) == (
        "0.3750", "1.20", "0.45", "0.75")
    assert m["redemption_rate"] == "0.2500"
    # reward cost 5.00; share of member revenue 5 / 450 = 0.0111; every purchase has a member
    assert (m["reward_cost"], m["reward_cost_share"]) == ("5.00", "0.0111")
    assert (m["member_revenue"], m["non_member_revenue"]) == ("450.00", None)
    assert m["nps"] is None and m["csat"] is None  # no survey answers
    # segments (see test_rfm_scores): A loyal, B lost, C at risk, D promising
    assert m["segments"] == {"at_risk": 1, "lost": 1, "loyal": 1, "promising": 1}


def test_month_and_quarter_rows_with_retention(data):
    metrics_rollup(as_of=AS_OF)
    jan, feb, mar = (snapshot("month", date(2025, k, 1)) for k in (1, 2, 3))
    # January: A 100, B 80 → 2 customers, 2 orders, 180.00, AOV 90.00, no repeat
    assert (jan["customers"], jan["orders"], jan["revenue"], jan["aov"], jan["repeat_purchase_rate"]) == (
        2, 2, "180.00", "90.00", "0.0000")
    # retention Jan → Feb: {A, B} ∩ {A, C} = {A}: 1 / 2; churn 0.5
    assert (jan["retention_rate"], jan["churn_rate"]) == ("0.5000", "0.5000")
    # February: A 30 (net), C 200 → 230.00; retention Feb → Mar: {A, C} ∩ {A, D} = {A}: 0.5 (March is complete)
    assert (feb["customers"], feb["revenue"], feb["retention_rate"]) == (2, "230.00", "0.5000")
    # March: A 30, D 10 → 40.00; April has not ended: no retention yet
    assert (mar["customers"], mar["revenue"], mar["retention_rate"], mar["churn_rate"]) == (2, "40.00", None, None)
    # members joined in January 5; points issued in January 100 + 80 = 180, redeemed in February 50
    assert (jan["members_joined"], jan["points_issued"], feb["points_redeemed"], mar["points_expired"]) == (
        5, 180, 50, 30)
    q1 = snapshot("quarter", date(2025, 1, 1))
    # Q1: 4 customers, 6 orders, 450.00, repeat 1 / 4; Q2 not over: no retention
    assert (q1["customers"], q1["orders"], q1["revenue"], q1["repeat_purchase_rate"], q1["retention_rate"]) == (
        4, 6, "450.00", "0.2500", None)
    # the previous quarter is in the default range, empty
    assert snapshot("quarter", date(2024, 10, 1))["customers"] == 0
    # weeks from Monday: 2025-03-31 is a Monday, D's order alone
    week = MetricSnapshot.objects.get(as_of=AS_OF, period="week", period_start=date(2025, 3, 31))
    assert (week.period_end, week.metrics["orders"], week.metrics["revenue"]) == (date(2025, 4, 1), 1, "10.00")


def test_cohort_table(data):
    metrics_rollup(as_of=AS_OF)
    cells = {(c.cohort_month, c.months_since): (c.customers, c.active) for c in CohortCell.objects.filter(as_of=AS_OF)}
    # January cohort {A, B}: month 0 both, month 1 A, month 2 A; February {C}; March {D}
    assert cells == {
        (date(2025, 1, 1), 0): (2, 2), (date(2025, 1, 1), 1): (2, 1), (date(2025, 1, 1), 2): (2, 1),
        (date(2025, 2, 1), 0): (1, 1), (date(2025, 3, 1), 0): (1, 1),
    }


def test_rfm_scores(data):
    metrics_rollup(as_of=AS_OF)
    s = {k: MemberScore.objects.get(member=m) for k, m in data.items()}
    # recency: A 03-31 − 03-20 = 11, B − 01-05 = 85 (returned purchase ignored), C − 02-01 = 58, D 0
    assert [s[k].recency_days for k in "ABCD"] == [11, 85, 58, 0]
    assert [s[k].frequency for k in "ABCD"] == [3, 1, 1, 1]
    assert [s[k].monetary for k in "ABCD"] == [Decimal("160.00"), Decimal("80.00"), Decimal("200.00"),
                                               Decimal("10.00")]
    # NTILE(5) over 4 customers gives tiles 1..4. R by recency desc: B 1, C 2, A 3, D 4.
    # F by frequency asc, ties by key (D's digits < "B" < "C"): D 1, B 2, C 3, A 4. M asc: D 1, B 2, A 3, C 4.
    assert [(s[k].r_score, s[k].f_score, s[k].m_score) for k in "ABCD"] == [(3, 4, 3), (1, 2, 2), (2, 3, 4),
                                                                            (4, 1, 1)]
    # FM = (F + M + 1) // 2: A 4, B 2, C 4, D 1 → A (3,4) loyal, B (1,2) lost, C (2,4) at risk, D (4,1) promising
    assert [s[k].segment for k in "ABCD"] == ["loyal", "lost", "at_risk", "promising"]
    assert s["A"].clv_historic == Decimal("160.00")
    assert (s["E"].frequency, s["E"].r_score, s["E"].segment) == (0, None, "")


def test_segment_map_is_complete():
    assert {segment_for(r=r, f=f, m=m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)} == set(
        MemberScore.Segment.values)
    assert segment_for(r=5, f=5, m=5) == "champions" and segment_for(r=1, f=1, m=1) == "lost"


def test_rfm_ties_are_deterministic(settings):
    """Ten identical customers: scores follow the tie key (external id ascending), whatever the insert order."""
    settings.FIDELIO_WELCOME_BONUS = 0
    for n, key in enumerate(["J", "B", "F", "A", "H", "C", "I", "D", "G", "E"]):
        member = ShopMemberFactory()
        Member.objects.filter(pk=member.pk).update(external_id=key)
        Purchase.objects.create(member=member, source="shop", order_id=f"t{n}", amount=Decimal("10.00"),
                                currency="EUR", occurred_at=at("2025-03-01"), confirm_after=at("2025-03-01"))
    metrics_rollup(as_of=AS_OF)
    scores = dict(MemberScore.objects.values_list("member__external_id", "f_score"))
    # ten rows in five tiles of two, in key order A..J
    assert scores == {"A": 1, "B": 1, "C": 2, "D": 2, "E": 3, "F": 3, "G": 4, "H": 4, "I": 5, "J": 5}


def test_rollup_twice_gives_identical_snapshots(data):
    metrics_rollup(as_of=AS_OF)
    first = list(MetricSnapshot.objects.filter(as_of=AS_OF).values_list("period", "period_start", "period_end",
                                                                        "metrics").order_by("period", "period_start"))
    scores = list(MemberScore.objects.order_by("pk").values())
    cells = list(CohortCell.objects.order_by("pk").values_list("cohort_month", "months_since", "customers", "active"))
    metrics_rollup(as_of=AS_OF)
    again = list(MetricSnapshot.objects.filter(as_of=AS_OF).values_list("period", "period_start", "period_end",
                                                                        "metrics").order_by("period", "period_start"))
    assert again == first
    assert list(MemberScore.objects.order_by("pk").values()) == scores
    assert list(CohortCell.objects.order_by("pk").values_list("cohort_month", "months_since", "customers",
                                                              "active")) == cells


def test_as_of_sees_only_the_past(data):
    metrics_rollup(as_of=date(2025, 1, 31))
    m = MetricSnapshot.objects.get(as_of=date(2025, 1, 31), period="all").metrics
    # up to January: A 100, B 80 → 2 customers, 180.00; points 180 issued, nothing redeemed
    assert (m["customers"], m["revenue"], m["points_issued"], m["points_redeemed"]) == (2, "180.00", 180, 0)
    a = MemberScore.objects.get(member=data["A"])
    assert (a.as_of, a.recency_days, a.frequency) == (date(2025, 1, 31), 21, 1)
    # no row for periods after the as-of day
    assert not MetricSnapshot.objects.filter(as_of=date(2025, 1, 31), period_start__gt=date(2025, 1, 31)).exists()


def test_command_backfill(data, capsys):
    call_command("rollup_metrics", "--as-of", "2025-03-31", "--backfill-from", "2024-01-01")
    assert MetricSnapshot.objects.filter(as_of=AS_OF, period="month").count() == 15  # 2024-01 … 2025-03
    assert "snapshots" in capsys.readouterr().out


def test_member_detail_gains_rfm_and_clv(data, token_client):
    url = f"/api/v1/members/{data['A'].pk}/"
    assert token_client.get(url).json()["rfm"] is None
    metrics_rollup(as_of=AS_OF)
    with CaptureQueriesContext(connection) as ctx:
        body = token_client.get(url).json()
    assert body["rfm"] == {"r": 3, "f": 4, "m": 3, "segment": "loyal", "as_of": "2025-03-31"}
    assert body["clv"] == {"historic": "160.00", "predicted_12m": None, "expected_purchases_12m": None,
                           "p_alive": None} or body["clv"]["historic"] == "160.00"
    # The scores reach loyalty's member view through the fields backoffice registers (loyalty reads no
    # back-office table): one query for both fields, whatever else the view reads.
    assert sum("backoffice_memberscore" in q["sql"] for q in ctx.captured_queries) == 1
