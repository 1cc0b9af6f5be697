"""How long does the whole daily metric rollup take, and how much memory, with 100,000 members and 1,000,000
purchases? Target (issue 7): <= 120 s and <= 2 GB peak RSS.

    .venv/bin/python bench/rollup.py [--members 100000] [--purchases 1000000] [--json PATH]

Throwaway PostgreSQL + Redis (config/embedded.py exec --throwaway), migrate, demo program; members through the
importer's set-based path (bench.run.members_enrol), then purchases with one INSERT … SELECT over
generate_series (spread over three years, about 3 % partly and 2 % fully returned), ANALYZE, then
`metrics_rollup(as_of=today)` timed in-process. Figures written to bench/results/rollup-<commit>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

_PURCHASES = """
INSERT INTO loyalty_purchase (member_id, source, order_id, amount, currency, occurred_at, status, awards_points,
    points_earned, points_pending, points_reversed, returned_amount, confirm_after, confirmed_at, earn_breakdown,
    request_hash, created_at)
SELECT ids.id, 'bench', 'rollup-' || g, amt, 'EUR', at, 'confirmed', false, 0, 0, 0,
       CASE WHEN mod(g, 50) = 0 THEN amt WHEN mod(g, 33) = 0 THEN round(amt / 2, 2) ELSE 0 END,
       at, at, '', '', at
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT (5 + (hashint4(g) & 1023) / 7.0)::numeric(12, 2) AS amt,
                           now() - (interval '1 minute' * ((hashint4(g * 7) & 2147483647) %% 1576800)) AS at) AS v
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM members_member) AS ids
  ON ids.rn = (hashint4(g * 13) & 2147483647) %% %(members)s
"""


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dashboard_times(runs: int = 15) -> dict:
    """Server time of the staff dashboard pages after the rollup (Django's test client, in-process: the
    whole request through the middleware and the view, without a network hop): median and max in ms."""
    import statistics

    from django.core.management import call_command
    from django.test import Client

    call_command("collectstatic", interactive=False, verbosity=0)  # production settings: hashed static names

    from members.models import User

    staff = User.objects.create_superuser(email="bench-staff@example.test", password="x" * 12)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)
    pages = {"dashboard": "/admin/dashboard/", "dashboard_quarter": "/admin/dashboard/?period=quarter",
             "csv_series": "/admin/dashboard/?format=csv&table=series",
             "segment_page": "/admin/dashboard/segments/champions/"}
    out = {}
    for name, url in pages.items():
        client.get(url)  # warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
        out[name] = {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}
    return out


def inside(args) -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_setup, members_enrol, sql

    inprocess_setup("rollup")

    from backoffice.services import metrics_rollup
    from config.periods import local_date

    started = time.monotonic()
    members_enrol(args.members)
    members = sql("SELECT count(*) FROM members_member")[0][0]
    print(f"members: {members} in {time.monotonic() - started:.1f} s", flush=True)
    started = time.monotonic()
    sql(_PURCHASES, {"n": args.purchases, "members": members})
    sql("ANALYZE")
    purchases = sql("SELECT count(*) FROM loyalty_purchase")[0][0]
    print(f"purchases: {purchases} in {time.monotonic() - started:.1f} s", flush=True)

    as_of = local_date()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    steps: list[tuple[str, float]] = []
    result = metrics_rollup(as_of=as_of, progress=lambda name: steps.append((name, round(time.monotonic() - started,
                                                                                          2))))
    seconds = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    dashboard = dashboard_times()
    figures = {
        "commit": commit(), "members": members, "purchases": purchases, "as_of": as_of.isoformat(),
        "rollup_seconds": round(seconds, 2), "steps_cumulative_seconds": steps,
        "peak_rss_mb_python": round(peak_mb, 1), "rss_mb_before_rollup": round(rss_before / 1024, 1),
        "snapshots": result.snapshots, "cohort_cells": result.cohort_cells, "member_scores": result.member_scores,
        "clv": result.clv, "target_seconds": 120, "target_peak_mb": 2048,
        "ok": seconds <= 120 and peak_mb <= 2048,
        "note": "peak RSS is the Python process (the rollup runs in PostgreSQL; its memory is the server's).",
        "dashboard_ms": dashboard, "dashboard_target_ms": 300,
    }
    print(json.dumps(figures, indent=2))
    out = Path(args.json) if args.json else BASE_DIR / "bench" / "results" / f"rollup-{figures['commit']}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {out}")
    return 0 if figures["ok"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--json", help="where to write the figures (default bench/results/rollup-<commit>.json)")
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_main

    return inprocess_main(parser, inside, __file__)


if __name__ == "__main__":
    sys.exit(main())
