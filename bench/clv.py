"""Issue 7's predictive-CLV target: the BG/NBD + Gamma-Gamma fit on 100,000 customers in <= 60 s.

    .venv/bin/python bench/clv.py [--customers 100000] [--runs 3] [--seed 7] [--json FILE]

No database: the customers are sampled in numpy from the models themselves, with CDNOW-like parameters
converted to days (r 0.243, alpha 4.414 weeks = 30.9 days, a 0.793, b 2.426; Gamma-Gamma p 6.25, q 3.74,
v 15.44) and first purchases spread uniformly over the last two years (T = 30..730 days). The BG/NBD
process: purchase rate lambda ~ Gamma(r, alpha), drop-out probability p ~ Beta(a, b); exponential gaps
between purchases; after each repeat purchase the customer drops out with probability p. Times are then
cut to whole days, as clv_scores_update sees them (x = repeat purchases, t_x and T in days). Order values:
nu ~ Gamma(q, v), each value ~ Gamma(p, nu); the customer's mean of their repeat purchases.

Timed (median of --runs): `bgnbd_fit`, `gamma_gamma_fit`, and the predictions for every customer (P(alive),
expected purchases in 360 days, 12-month CLV at 1 % a month). Also reported: the recovered parameters next
to the true ones. Figures written to bench/results/clv-<commit>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

TARGET_SECONDS = 60.0
TRUE_BGNBD = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}  # CDNOW's, per day
TRUE_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def customers_sample(count: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BGNBD.values()
    rate = rng.gamma(r, 1.0 / alpha, count)
    dropout = rng.beta(a, b, count)
    age = rng.integers(30, 731, count).astype(float)
    x = np.zeros(count)
    t_x = np.zeros(count)
    clock = np.zeros(count)
    active = np.ones(count, bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / rate[idx])
        bought = clock[idx] <= age[idx]
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = clock[buyers]
        active[idx[~bought]] = False
        active[buyers[rng.random(len(buyers)) < dropout[buyers]]] = False
    p, q, v = TRUE_GAMMA_GAMMA.values()
    nu = rng.gamma(q, 1.0 / v, count)
    # The mean of x Gamma(p, nu) values is Gamma(p x, nu x).
    monetary = np.where(x > 0, rng.gamma(np.maximum(p * x, 1e-9), 1.0 / (nu * np.maximum(x, 1))), 0.0)
    return {"x": x, "t_x": np.floor(t_x), "T": age, "monetary": monetary}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="where to write the figures (default bench/results/clv-<commit>.json)")
    args = parser.parse_args()

    from backoffice import clv  # numpy/scipy only at import; Django settings are not touched by the fit

    started = time.perf_counter()
    data = customers_sample(args.customers, args.seed)
    sample_seconds = time.perf_counter() - started
    x, t_x, T, monetary = data["x"], data["t_x"], data["T"], data["monetary"]
    distinct = len(np.unique(np.column_stack([x, t_x, T]), axis=0))
    print(f"{args.customers:,} customers sampled in {sample_seconds:.1f} s: {int((x > 0).sum()):,} with repeat "
          f"purchases, mean x {x.mean():.2f}, max x {int(x.max())}, {distinct:,} distinct (x, t_x, T)")

    runs = []
    for run in range(args.runs):
        t0 = time.perf_counter()
        bgnbd = clv.bgnbd_fit(x=x, t_x=t_x, T=T)
        t1 = time.perf_counter()
        gamma_gamma = clv.gamma_gamma_fit(x=x, monetary=monetary)
        t2 = time.perf_counter()
        p_alive = clv.bgnbd_p_alive(bgnbd, x=x, t_x=t_x, T=T)
        expected = clv.bgnbd_expected_purchases(bgnbd, 360, x=x, t_x=t_x, T=T)
        value = clv.gamma_gamma_expected_value(gamma_gamma, x=x, monetary=monetary)
        clv_12m = clv.clv_predict(bgnbd, value, x=x, t_x=t_x, T=T, monthly_discount=0.01)
        t3 = time.perf_counter()
        assert np.all(np.isfinite(p_alive)) and np.all(np.isfinite(expected)) and np.all(np.isfinite(clv_12m))
        runs.append({"bgnbd_fit_seconds": round(t1 - t0, 3), "gamma_gamma_fit_seconds": round(t2 - t1, 3),
                     "predict_seconds": round(t3 - t2, 3), "total_seconds": round(t3 - t0, 3)})
        print(f"  run {run + 1}: {runs[-1]}")

    total = statistics.median(r["total_seconds"] for r in runs)
    results = {
        "customers": args.customers, "seed": args.seed, "target_seconds": TARGET_SECONDS,
        "repeat_customers": int((x > 0).sum()), "distinct_customer_rows": distinct,
        "sample_seconds": round(sample_seconds, 2), "runs": runs,
        "median_seconds": {key: statistics.median(r[key] for r in runs) for key in runs[0]},
        "true": {"bgnbd": TRUE_BGNBD, "gamma_gamma": TRUE_GAMMA_GAMMA},
        "fitted": {"bgnbd": {k: round(v, 4) for k, v in vars(bgnbd).items()},
                   "gamma_gamma": {k: round(v, 4) for k, v in vars(gamma_gamma).items()}},
        "predictions": {"p_alive_mean": round(float(p_alive.mean()), 4),
                        "expected_purchases_12m_mean": round(float(expected.mean()), 4),
                        "clv_12m_mean": round(float(clv_12m.mean()), 2)},
        "verdict": {"fit_and_predict_median_seconds": total, "pass": total <= TARGET_SECONDS},
        "machine": {"python": sys.version.split()[0], "numpy": np.__version__,
                    "scipy": __import__("scipy").__version__, "git_commit": git_commit()},
    }
    commit = results["machine"]["git_commit"]
    out = Path(args.json) if args.json else BASE_DIR / "bench" / "results" / f"clv-{commit}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"fitted {results['fitted']} (true {results['true']})")
    print(f"verdict: fit + predictions on {args.customers:,} customers in {total} s median (target "
          f"{TARGET_SECONDS:.0f} s): {'PASS' if results['verdict']['pass'] else 'FAIL'}; written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
