"""Does a purchase post get slower as data accumulates? Posts purchases in blocks and reports, per block, the
time per post, the time of each SQL statement and PostgreSQL's table statistics.

    .venv/bin/python bench/soak_purchase.py [--blocks 10] [--per-block 3000] [--members 10000] [--hot]

Throwaway PostgreSQL + Redis (config/embedded.py exec --throwaway), migrate, demo program, --members members;
then single-process posts through Django's test client (same settings as the gunicorn benchmark), each for a
random member (or, with --hot, all for one member). No concurrency: this isolates growth with data from
lock contention.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

_STATS = """
SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, autovacuum_count,
       pg_size_pretty(pg_total_relation_size(relid))
FROM pg_stat_user_tables WHERE relname IN ('members_member', 'loyalty_purchase') ORDER BY relname
"""


def inside(args) -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_setup, member_id, members_enrol, sql

    token = inprocess_setup("soak")
    from django.db import connection
    from django.test import Client

    ids = members_enrol(args.members)
    if args.hot:
        ids = [member_id("BENCH-HOT")]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    rng = random.Random(1)
    n = 0
    print(f"{'block':>5} {'posts':>7} {'ms/post':>8} {'SQL ms/post':>11}  slowest statements (ms each)")
    for block in range(args.blocks):
        stats: dict[str, list[float]] = defaultdict(list)

        def wrapper(execute, sql_text, params, many, context, stats=stats):
            started = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                stats[re.sub(r"\s+", " ", sql_text).strip()[:60]].append(time.perf_counter() - started)

        with connection.execute_wrapper(wrapper):
            started = time.perf_counter()
            for _ in range(args.per_block):
                n += 1
                body = {"member": rng.choice(ids), "order_id": f"soak-{n}", "amount": f"{rng.randrange(1, 200)}.50",
                        "occurred_at": occurred}
                response = client.post("/api/v1/purchases/", json.dumps(body), content_type="application/json")
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
            wall = time.perf_counter() - started
        sql_total = sum(sum(v) for v in stats.values())
        top = sorted(stats.items(), key=lambda kv: -sum(kv[1]))[:3]
        print(f"{block + 1:>5} {n:>7} {wall / args.per_block * 1000:8.2f} {sql_total / args.per_block * 1000:11.2f}  "
              + "; ".join(f"{sum(v) / len(v) * 1000:.2f} {k}" for k, v in top), flush=True)
        for row in sql(_STATS):
            print(f"        {row[0]}: live {row[1]}, dead {row[2]}, updates {row[3]} (HOT {row[4]}), "
                  f"autovacuums {row[5]}, size {row[6]}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--per-block", type=int, default=3000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--hot", action="store_true", help="every post for one member")
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_main

    return inprocess_main(parser, inside, __file__)


if __name__ == "__main__":
    sys.exit(main())
