"""Predictive customer lifetime value: BG/NBD (repeat purchases) and Gamma-Gamma (order value).

The models and their formulas:

- BG/NBD: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2), 275-284; the conditional expectation and P(alive) as in
  Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD Model" and Hardie's notes.
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value".
- 12-month CLV as the reference implementation `lifetimes.utils.customer_lifetime_value` computes it:
  months of 30 days, the expected purchases of month i times the expected order value, discounted by
  (1 + monthly rate) ** i, summed over i = 1..12.

A customer is (x, t_x, T): x = repeat purchase days (distinct purchase days - 1), t_x = days between the
first and the last purchase day, T = days from the first purchase day to the as-of day. Both models are
fitted by maximum likelihood (Nelder-Mead on the log-parameters, so they stay positive). Customers with
the same (x, t_x, T) are fitted once with a weight, which makes 100,000 customers cheap.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from config.sql import fetch_all

logger = logging.getLogger(__name__)

HORIZON_MONTHS = 12
DAYS_PER_MONTH = 30  # the reference implementations' month
_LOG_BOUNDS = (-15.0, 15.0)  # keeps a degenerate fit finite instead of running off to 0 or infinity
_UPSERT_CHUNK = 10_000


# ------------------------------------------------------------------------------------------------ BG/NBD
@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


def bgnbd_log_likelihood(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood (FHL 2005, eq. 6, in logs)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # The "died after the last purchase" term only exists for x > 0; b + x - 1 > 0 there.
    a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_fit(*, x, t_x, T) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for the customers (x, t_x, T) (arrays of equal length)."""
    data, weights = _compress(np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))
    x, t_x, T = data

    def negative_ll(log_params: np.ndarray) -> float:
        return -float(np.dot(weights, bgnbd_log_likelihood(BgNbdParams(*np.exp(log_params)), x, t_x, T)))

    start = np.log([1.0, max(float(np.average(T, weights=weights)), 1e-3), 1.0, 1.0])
    return BgNbdParams(*(float(v) for v in np.exp(_minimize(negative_ll, start))))


def bgnbd_p_alive(params: BgNbdParams, *, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T); 1 for customers without repeat purchases (the model lets nobody die before)."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    return 1.0 / (1.0 + _death_odds(params, x, t_x, T))


def bgnbd_expected_purchases(params: BgNbdParams, t, *, x, t_x, T) -> np.ndarray:
    """E[number of purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    t = np.asarray(t, float)
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1) * (1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp)
    return head / (1.0 + _death_odds(params, x, t_x, T))


def _death_odds(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """delta(x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), computed in logs."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_odds = (np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(repeat, np.exp(np.minimum(log_odds, 700.0)), 0.0)


# ------------------------------------------------------------------------------------------------ Gamma-Gamma
@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's log-likelihood of the mean value m of their x repeat purchases (x > 0)."""
    p, q, v = params.p, params.q, params.v
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v))


def gamma_gamma_fit(*, x, monetary) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters; only customers with x > 0 and a positive mean value count."""
    x, m = np.asarray(x, float), np.asarray(monetary, float)
    keep = (x > 0) & (m > 0)
    (x, m), weights = _compress(x[keep], m[keep])

    def negative_ll(log_params: np.ndarray) -> float:
        return -float(np.dot(weights, gamma_gamma_log_likelihood(GammaGammaParams(*np.exp(log_params)), x, m)))

    start = np.log([1.0, 2.0, max(float(np.average(m, weights=weights)), 1e-3)])
    return GammaGammaParams(*(float(v) for v in np.exp(_minimize(negative_ll, start))))


def gamma_gamma_expected_value(params: GammaGammaParams, *, x, monetary) -> np.ndarray:
    """E[average order value | x, mean m]: a weighted average of the customer's mean and the population's."""
    p, q, v = params.p, params.q, params.v
    x, m = np.asarray(x, float), np.asarray(monetary, float)
    m = np.where(x > 0, m, 0.0)
    return p * (v + x * m) / (p * x + q - 1)


# ------------------------------------------------------------------------------------------------ CLV
def clv_predict(bgnbd: BgNbdParams, expected_value, *, x, t_x, T, monthly_discount: float,
                months: int = HORIZON_MONTHS) -> np.ndarray:
    """Discounted value of the next `months` months of 30 days (T, t_x in days), as lifetimes computes it."""
    clv = np.zeros(np.shape(x), float)
    previous = np.zeros(np.shape(x), float)
    for i in range(1, months + 1):
        cumulative = bgnbd_expected_purchases(bgnbd, DAYS_PER_MONTH * i, x=x, t_x=t_x, T=T)
        clv += expected_value * (cumulative - previous) / (1.0 + monthly_discount) ** i
        previous = cumulative
    return clv


def _compress(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of the columns and how often each occurs (the likelihood is a sum over customers)."""
    if not len(columns[0]):
        return tuple(np.empty(0) for _ in columns), np.empty(0)
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return tuple(rows[:, i] for i in range(rows.shape[1])), counts.astype(float)


def _minimize(negative_ll, start: np.ndarray) -> np.ndarray:
    # The objective is scaled to its starting value, so the tolerance is relative: a sum over 100,000
    # customers is large, and an absolute 1e-7 would keep the simplex walking for thousands of steps when the
    # data pushes the parameters towards a boundary (e.g. no visible drop-out), for no gain in the estimates.
    scale = max(abs(float(negative_ll(start))), 1.0)
    result = minimize(lambda p: negative_ll(p) / scale, start, method="Nelder-Mead",
                      bounds=[_LOG_BOUNDS] * len(start),
                      options={"xatol": 1e-6, "fatol": 1e-11, "maxiter": 5_000, "maxfev": 5_000})
    if not result.success:
        logger.warning("clv: the likelihood maximisation stopped early: %s", result.message)
    return result.x


# ------------------------------------------------------------------------------------------------ service
# One set-based pass over loyalty_purchase: each member's purchase days (program time zone, up to and
# including as_of) with their revenue net of returns, fully returned purchases left out; then per member
# x = days - 1, t_x = last - first day, T = as_of - first day, and the mean daily revenue after the first day.
_CUSTOMERS_SQL = """
WITH days AS (
    SELECT member_id, (occurred_at AT TIME ZONE %(tz)s)::date AS day, SUM(amount - returned_amount) AS net
    FROM loyalty_purchase
    WHERE returned_amount < amount AND (occurred_at AT TIME ZONE %(tz)s)::date <= %(as_of)s
    GROUP BY member_id, day
), ranked AS (
    SELECT member_id, day, net, MIN(day) OVER (PARTITION BY member_id) AS first_day FROM days
)
SELECT member_id,
       COUNT(*) - 1 AS x,
       MAX(day) - MIN(day) AS t_x,
       %(as_of)s - MIN(day) AS age,
       COALESCE(SUM(net) FILTER (WHERE day > first_day) / NULLIF(COUNT(*) - 1, 0), 0)::float8 AS monetary
FROM ranked
GROUP BY member_id
ORDER BY member_id
"""

_UPSERT_SQL = """
INSERT INTO backoffice_memberscore
    (member_id, as_of, frequency, monetary, segment, clv_historic, p_alive, expected_purchases_12m, clv_12m)
SELECT u.member_id, %(as_of)s, 0, 0, '', 0, u.p_alive, u.expected, ROUND(u.clv::numeric, 2)
FROM unnest(%(ids)s::bigint[], %(p_alive)s::float8[], %(expected)s::float8[], %(clv)s::float8[])
     AS u(member_id, p_alive, expected, clv)
ON CONFLICT (member_id) DO UPDATE SET
    as_of = EXCLUDED.as_of,
    p_alive = EXCLUDED.p_alive,
    expected_purchases_12m = EXCLUDED.expected_purchases_12m,
    clv_12m = EXCLUDED.clv_12m
"""

# Members who are no longer customers as of the day (everything returned) keep no stale prediction.
_CLEAR_STALE_SQL = """
UPDATE backoffice_memberscore SET p_alive = NULL, expected_purchases_12m = NULL, clv_12m = NULL
WHERE (p_alive IS NOT NULL OR expected_purchases_12m IS NOT NULL OR clv_12m IS NOT NULL)
  AND NOT (member_id = ANY(%(ids)s::bigint[]))
"""


@transaction.atomic
def clv_scores_update(*, as_of: date) -> dict:
    """Fit BG/NBD and Gamma-Gamma on every customer's history up to `as_of` and store each customer's
    P(alive), expected purchases in the next 360 days and 12-month CLV on their MemberScore row."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMERS_SQL, {"tz": settings.FIDELIO_TIME_ZONE, "as_of": as_of})
        rows = fetch_all(cursor)
    summary: dict = {"as_of": as_of.isoformat(), "customers": len(rows), "repeat_customers": 0,
                     "bgnbd": None, "gamma_gamma": None}
    ids = [row["member_id"] for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(_CLEAR_STALE_SQL, {"ids": ids})
    if not rows:
        logger.info("clv %s: no customers with purchases; nothing to fit", as_of)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        return summary

    data = np.array([(row["x"], row["t_x"], row["age"], row["monetary"]) for row in rows], dtype=float)
    x, t_x, T, monetary = data[:, 0], data[:, 1], data[:, 2], data[:, 3]
    summary["repeat_customers"] = int((x > 0).sum())

    bgnbd = bgnbd_fit(x=x, t_x=t_x, T=T)
    summary["bgnbd"] = vars(bgnbd)
    p_alive = np.clip(bgnbd_p_alive(bgnbd, x=x, t_x=t_x, T=T), 0.0, 1.0)
    expected = bgnbd_expected_purchases(bgnbd, HORIZON_MONTHS * DAYS_PER_MONTH, x=x, t_x=t_x, T=T)

    clv: np.ndarray | None = None
    if summary["repeat_customers"] == 0:
        logger.info("clv %s: nobody has a repeat purchase; Gamma-Gamma skipped, clv_12m left empty", as_of)
    else:
        gamma_gamma = gamma_gamma_fit(x=x, monetary=monetary)
        if gamma_gamma.q <= 1:
            logger.info("clv %s: Gamma-Gamma fit has q = %.3g <= 1 (no finite mean order value); "
                        "clv_12m left empty", as_of, gamma_gamma.q)
        else:
            summary["gamma_gamma"] = vars(gamma_gamma)
            value = gamma_gamma_expected_value(gamma_gamma, x=x, monetary=monetary)
            clv = clv_predict(bgnbd, value, x=x, t_x=t_x, T=T,
                              monthly_discount=float(settings.FIDELIO_CLV_MONTHLY_DISCOUNT))

    with connection.cursor() as cursor:
        for start in range(0, len(ids), _UPSERT_CHUNK):
            chunk = slice(start, start + _UPSERT_CHUNK)
            cursor.execute(_UPSERT_SQL, {
                "as_of": as_of, "ids": ids[chunk],
                "p_alive": _floats_or_none(p_alive[chunk]),
                "expected": _floats_or_none(expected[chunk]),
                "clv": _floats_or_none(clv[chunk]) if clv is not None else [None] * len(ids[chunk]),
            })
    summary["seconds"] = round(time.perf_counter() - started, 3)
    logger.info("clv %s: %d customers (%d repeat) scored in %.1fs; BG/NBD %s; Gamma-Gamma %s", as_of,
                summary["customers"], summary["repeat_customers"], summary["seconds"], summary["bgnbd"],
                summary["gamma_gamma"])
    return summary


def _floats_or_none(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]
