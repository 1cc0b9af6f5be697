"""Predictive CLV (backoffice/clv.py): the models against published fits, and the member scores."""

from __future__ import annotations

import csv
import itertools
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from backoffice import clv
from backoffice.models import MemberScore
from loyalty.services import PurchaseIn, purchase_record, purchase_return
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Published maximum-likelihood estimates on CDNOW (2,357 customers, 39 weeks, time unit weeks):
# BG/NBD: Fader, Hardie & Lee (2005), Marketing Science 24(2), 275-284 (log-likelihood -9582.4);
# Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value". The same figures are
# asserted by the lifetimes package's own tests (test_estimation.py, TestBetaGeoFitter and
# TestGammaGammaFitter: test_params_out_is_close_to_Hardie_paper).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LOG_LIKELIHOOD = -9582.4
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


# The CDNOW sample of Fader, Hardie & Lee, per customer: x, t_x, T in weeks and zbar (mean repeat value), as
# shipped by the lifetimes package (MIT licensed); tests/backoffice/data/README.md says where it comes from.
CDNOW = Path(__file__).parent / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    with CDNOW.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0] if key != "ID"}


def same_to_2_significant_digits(fitted: float, published: float) -> bool:
    """Within half a unit of the second significant digit of the published value."""
    return abs(fitted - published) <= 0.5 * 10 ** (math.floor(math.log10(abs(published))) - 1)


@pytest.fixture(scope="module")
def bgnbd(cdnow) -> clv.BgNbdParams:
    return clv.bgnbd_fit(x=cdnow["x"], t_x=cdnow["t_x"], T=cdnow["T"])


def test_bgnbd_fit_on_cdnow_matches_the_published_parameters(cdnow, bgnbd):
    assert len(cdnow["T"]) == 2357
    for name, published in PUBLISHED_BGNBD.items():
        assert same_to_2_significant_digits(getattr(bgnbd, name), published), (name, getattr(bgnbd, name))
        assert getattr(bgnbd, name) == pytest.approx(published, abs=1e-3)  # as tight as lifetimes' own test
    log_likelihood = clv.bgnbd_log_likelihood(bgnbd, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert log_likelihood == pytest.approx(PUBLISHED_BGNBD_LOG_LIKELIHOOD, abs=0.05)


def test_gamma_gamma_fit_on_cdnow_matches_the_published_parameters(cdnow):
    fitted = clv.gamma_gamma_fit(x=cdnow["x"], monetary=cdnow["zbar"])
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert same_to_2_significant_digits(getattr(fitted, name), published), (name, getattr(fitted, name))
        assert getattr(fitted, name) == pytest.approx(published, abs=1e-2)
    # The expected order value shrinks the customer's own mean towards the population mean p v / (q - 1).
    population = fitted.p * fitted.v / (fitted.q - 1)
    value = clv.gamma_gamma_expected_value(fitted, x=[0, 1, 10], monetary=[0, 100.0, 100.0])
    assert value[0] == pytest.approx(population)
    assert population < value[1] < value[2] < 100.0


def test_conditional_expectation_matches_hardies_spreadsheet(bgnbd):
    # Hardie's BG/NBD Excel sheet, as in lifetimes'
    # test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet.
    expected = clv.bgnbd_expected_purchases(bgnbd, 39, x=2, t_x=30.43, T=38.86)
    assert float(expected) == pytest.approx(1.226, abs=1e-3)


def test_predictions_are_sane(cdnow, bgnbd):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    p_alive = clv.bgnbd_p_alive(bgnbd, x=x, t_x=t_x, T=T)
    assert np.all((p_alive >= 0) & (p_alive <= 1))
    assert np.all(p_alive[x == 0] == 1.0)
    assert np.all(p_alive[x > 0] < 1.0)
    # A customer who bought often but long ago is less likely alive than one who just bought.
    stale, recent = clv.bgnbd_p_alive(bgnbd, x=[6, 6], t_x=[10.0, 38.0], T=[38.86, 38.86])
    assert stale < recent
    horizons = [clv.bgnbd_expected_purchases(bgnbd, t, x=x, t_x=t_x, T=T) for t in (0, 1, 10, 39, 52)]
    assert np.all(horizons[0] == 0)
    for shorter, longer in itertools.pairwise(horizons):
        assert np.all(longer > shorter)


def test_clv_is_the_discounted_sum_of_monthly_purchases(bgnbd):
    kwargs = {"x": np.array([3.0]), "t_x": np.array([200.0]), "T": np.array([250.0])}
    days = clv.BgNbdParams(r=bgnbd.r, alpha=bgnbd.alpha * 7, a=bgnbd.a, b=bgnbd.b)  # the same model in days
    undiscounted = clv.clv_predict(days, 20.0, monthly_discount=0.0, **kwargs)
    assert undiscounted[0] == pytest.approx(20.0 * clv.bgnbd_expected_purchases(days, 360, **kwargs)[0])
    discounted = clv.clv_predict(days, 20.0, monthly_discount=0.01, **kwargs)
    assert undiscounted[0] / 1.01**12 < discounted[0] < undiscounted[0] / 1.01


# ------------------------------------------------------------------------------------------------ service
AS_OF = date(2025, 3, 31)
NOW = datetime(2025, 4, 10, tzinfo=UTC)


def buy(member, order_id: str, amount: str, at: datetime) -> None:
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id=order_id, amount=Decimal(amount),
                                    occurred_at=at, currency="EUR"), now=NOW)


@pytest.fixture
def history(settings):
    """Three customers as of 2025-03-31 (program time Europe/Berlin), one member who only buys later and one
    whose old prediction must go. Expected (x, t_x, T, mean repeat-day value):
    A: days Jan 1 (two orders), Jan 11, Feb 10 → (2, 40, 89, (30 + 50) / 2 = 40);
    B: 23:30 UTC on Jan 31 is Feb 1 in Berlin → (0, 0, 58, —);
    C: Jan 5, Jan 20 (fully returned, does not count), Mar 1 (20 with 5 returned) → (1, 55, 85, 15)."""
    settings.FIDELIO_TIME_ZONE = "Europe/Berlin"
    settings.FIDELIO_CLV_MONTHLY_DISCOUNT = Decimal("0.01")
    a, b, c, later, gone = (MemberFactory() for _ in range(5))
    buy(a, "A1", "100.00", datetime(2025, 1, 1, 9, tzinfo=UTC))
    buy(a, "A2", "20.00", datetime(2025, 1, 1, 14, tzinfo=UTC))
    buy(a, "A3", "30.00", datetime(2025, 1, 11, 12, tzinfo=UTC))
    buy(a, "A4", "50.00", datetime(2025, 2, 10, 12, tzinfo=UTC))
    buy(b, "B1", "40.00", datetime(2025, 1, 31, 23, 30, tzinfo=UTC))
    buy(c, "C1", "60.00", datetime(2025, 1, 5, 12, tzinfo=UTC))
    buy(c, "C2", "25.00", datetime(2025, 1, 20, 12, tzinfo=UTC))
    purchase_return(order_id="C2", return_id="R1", amount=Decimal("25.00"), now=NOW)
    buy(c, "C3", "20.00", datetime(2025, 3, 1, 12, tzinfo=UTC))
    purchase_return(order_id="C3", return_id="R2", amount=Decimal("5.00"), now=NOW)
    buy(later, "L1", "99.00", datetime(2025, 4, 2, 12, tzinfo=UTC))
    MemberScore.objects.create(member=gone, as_of=date(2025, 1, 1), p_alive=0.5, expected_purchases_12m=1.0,
                               clv_12m=Decimal("10.00"))
    MemberScore.objects.create(member=a, as_of=date(2025, 1, 1), frequency=4, monetary=Decimal("200.00"),
                               r_score=5, segment=MemberScore.Segment.CHAMPIONS)
    return {"a": a, "b": b, "c": c, "later": later, "gone": gone}


def scores() -> dict[int, tuple]:
    return {s.member_id: (s.as_of, s.p_alive, s.expected_purchases_12m, s.clv_12m, s.frequency, s.r_score, s.segment)
            for s in MemberScore.objects.all()}


def test_clv_scores_update_scores_every_customer_from_their_history(history):
    result = clv_scores = clv.clv_scores_update(as_of=AS_OF)
    assert (result["customers"], result["repeat_customers"]) == (3, 2)
    assert result["bgnbd"] is not None and result["gamma_gamma"] is not None

    bgnbd = clv.BgNbdParams(**clv_scores["bgnbd"])
    gamma_gamma = clv.GammaGammaParams(**clv_scores["gamma_gamma"])
    x, t_x, T, m = np.array([2.0, 0.0, 1.0]), np.array([40.0, 0.0, 55.0]), np.array([89.0, 58.0, 85.0]), \
        np.array([40.0, 0.0, 15.0])
    p_alive = clv.bgnbd_p_alive(bgnbd, x=x, t_x=t_x, T=T)
    expected = clv.bgnbd_expected_purchases(bgnbd, 360, x=x, t_x=t_x, T=T)
    value = clv.gamma_gamma_expected_value(gamma_gamma, x=x, monetary=m)
    clv_12m = clv.clv_predict(bgnbd, value, x=x, t_x=t_x, T=T, monthly_discount=0.01)

    rows = {s.member_id: s for s in MemberScore.objects.all()}
    assert set(rows) == {history[k].pk for k in ("a", "b", "c", "gone")}  # no row for the later buyer
    for i, key in enumerate(("a", "b", "c")):
        row = rows[history[key].pk]
        assert row.as_of == AS_OF
        assert row.p_alive == pytest.approx(p_alive[i])
        assert row.expected_purchases_12m == pytest.approx(expected[i])
        assert row.clv_12m == Decimal(str(round(clv_12m[i], 2)))
        assert 0 <= row.p_alive <= 1 and row.expected_purchases_12m >= 0 and row.clv_12m >= 0
    assert rows[history["b"].pk].p_alive == 1.0  # no repeat purchase yet
    # The RFM columns of an existing row are left to the RFM rollup.
    assert (rows[history["a"].pk].frequency, rows[history["a"].pk].r_score) == (4, 5)
    assert rows[history["a"].pk].segment == MemberScore.Segment.CHAMPIONS
    # Not a customer as of the day: the old prediction is cleared, not kept.
    gone = rows[history["gone"].pk]
    assert (gone.p_alive, gone.expected_purchases_12m, gone.clv_12m) == (None, None, None)


def test_clv_scores_update_is_idempotent(history):
    first = clv.clv_scores_update(as_of=AS_OF)
    before = scores()
    second = clv.clv_scores_update(as_of=AS_OF)
    assert scores() == before
    assert (second["bgnbd"], second["gamma_gamma"]) == (first["bgnbd"], first["gamma_gamma"])


def test_clv_scores_update_without_customers_writes_nothing(settings):
    settings.FIDELIO_TIME_ZONE = "Europe/Berlin"
    MemberFactory()
    result = clv.clv_scores_update(as_of=AS_OF)
    assert (result["customers"], result["bgnbd"], result["gamma_gamma"]) == (0, None, None)
    assert not MemberScore.objects.exists()


def test_clv_scores_update_without_repeat_purchases_skips_gamma_gamma(settings, caplog):
    settings.FIDELIO_TIME_ZONE = "Europe/Berlin"
    one, two = MemberFactory(), MemberFactory()
    buy(one, "O1", "10.00", datetime(2025, 1, 1, 12, tzinfo=UTC))
    buy(two, "T1", "10.00", datetime(2025, 3, 1, 12, tzinfo=UTC))
    with caplog.at_level("INFO", logger="backoffice.clv"):
        result = clv.clv_scores_update(as_of=AS_OF)
    assert (result["customers"], result["repeat_customers"], result["gamma_gamma"]) == (2, 0, None)
    assert "Gamma-Gamma skipped" in caplog.text
    for score in MemberScore.objects.all():
        assert score.p_alive == 1.0 and score.clv_12m is None and score.expected_purchases_12m >= 0
