"""Where a request's time goes: each endpoint of the benchmarks called in-process through Django's test
client, with the time per SQL statement (an execute wrapper) and a cProfile of the Python side.

    .venv/bin/python bench/profile_requests.py [--requests 300] [--top 25] [--only purchase,minimal,...]

Starts throwaway PostgreSQL + Redis (config/embedded.py exec --throwaway), migrates, loads the demo
program, enrols 2,000 members and 10,000 purchases for one of them, then for each endpoint (minimal, purchase,
batch, detail) prints: mean wall time per request, the share spent waiting on SQL, each distinct statement
with its count per request and mean time, and the top functions by cumulative time. Same settings as the
gunicorn benchmark (DEBUG off, bench.settings). Single process, no concurrency: this explains per-request
cost, bench/run.py measures throughput.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ALL = ("minimal", "purchase", "batch", "detail", "redeem")


def inside(args) -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import history_create, inprocess_setup, member_id, members_enrol, members_fund, reward_create, sql

    token = inprocess_setup("profile")
    from django.db import connection
    from django.test import Client

    from bench.minimal import SETUP_SQL

    ids = members_enrol(2000)
    for statement in SETUP_SQL:
        sql(statement)
    history = member_id("BENCH-HISTORY")
    members_fund(ids, 1_000_000)
    reward = reward_create("Profile reward", stock=None)
    history_create(history, 10_000)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    counter = iter(range(10**9))

    def body():
        n = next(counter)
        return {"member": ids[(n * 7919) % len(ids)], "order_id": f"prof-{n}", "amount": f"{1 + n % 150}.25",
                "occurred_at": occurred}

    calls = {
        "minimal": lambda: client.post("/bench/minimal/", json.dumps(body()), content_type="application/json"),
        "purchase": lambda: client.post("/api/v1/purchases/", json.dumps(body()), content_type="application/json"),
        "batch": lambda: client.post("/api/v1/purchases/batch/",
                                     json.dumps({"purchases": [body() for _ in range(100)]}),
                                     content_type="application/json"),
        "detail": lambda: client.get(f"/api/v1/members/{history}/"),
        "redeem": lambda: client.post("/api/v1/redemptions/",
                                      json.dumps({"member": body()["member"], "reward": reward}),
                                      content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"p-{next(counter)}"),
    }
    only = args.only.split(",") if args.only else list(ALL)
    for name in only:
        call = calls[name]
        n = max(10, args.requests // (20 if name == "batch" else 1))
        for _ in range(20 if name != "batch" else 3):  # warm-up
            call()
        started = time.perf_counter()
        for _ in range(n):
            call()
        plain = (time.perf_counter() - started) / n
        stats: dict[str, list[float]] = defaultdict(list)

        def wrapper(execute, sql_text, params, many, context, stats=stats):
            started = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                key = re.sub(r'SAVEPOINT "[^"]+"', "SAVEPOINT <name>", re.sub(r"\s+", " ", sql_text))[:160]
                stats[key].append(time.perf_counter() - started)

        profiler = cProfile.Profile()
        statuses = defaultdict(int)
        with connection.execute_wrapper(wrapper):
            started = time.perf_counter()
            profiler.enable()
            for _ in range(n):
                statuses[call().status_code] += 1
            profiler.disable()
            wall = time.perf_counter() - started
        sql_total = sum(sum(v) for v in stats.values())
        print(f"\n{'=' * 110}\n{name}: {plain * 1000:.2f} ms per request without the profiler ({n} requests)")
        print(f"with the profiler and SQL timing: {n} requests, statuses {dict(statuses)}, {wall / n * 1000:.2f} ms "
              f"per request, "
              f"SQL {sql_total / n * 1000:.2f} ms ({sql_total / wall:.0%}), "
              f"{sum(len(v) for v in stats.values()) / n:.1f} statements per request")
        for key, times in sorted(stats.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {len(times) / n:5.2f}x  {sum(times) / len(times) * 1000:7.3f} ms  {key}")
        project = re.escape(str(BASE_DIR)) + r"/(?!\.venv)"
        for order, restriction, title in (("cumulative", project, "Fidelio's own functions"),
                                          ("cumulative", "", "all functions"), ("tottime", "", "all functions")):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*filter(None, [restriction]), args.top)
            print(f"-- {title}: top {args.top} by {order} time (seconds over all {n} requests; cProfile adds "
                  f"overhead, compare shares)")
            print("\n".join(line.replace(str(BASE_DIR) + "/", "").replace(sys.prefix + "/", "")
                            for line in out.getvalue().splitlines()[6:] if line.strip()))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_main

    return inprocess_main(parser, inside, __file__)


if __name__ == "__main__":
    sys.exit(main())
