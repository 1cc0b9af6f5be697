"""What processing one purchase's challenge events adds to the purchase post (issue 5: <= 5 ms at p50).

    .venv/bin/python bench/challenges.py [--posts 600] [--rounds 4] [--challenges 10] [--json FILE]

Throwaway PostgreSQL + Redis (config/embedded.py exec --throwaway), migrate, demo program, 10,000 members.
The return window is set to 0, so every post confirms its purchase at once and runs the challenge events in
the same request (with a window, they run later in the confirmation task). Posts go through Django's test
client in one process (same settings as the gunicorn benchmark), each a new order for a random member with
two items in two categories. Rounds alternate: challenges OFF (none active), then ON (--challenges active,
automatically enrolled challenges of every purchase-fed goal: purchases, spend, categories, streak, and
weekly/monthly recurring ones), so drift on the machine hits both alike. Reports the p50 and p95 per post
for each, and the added p50.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def inside(args) -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_setup, machine_facts, members_enrol

    token = inprocess_setup("challenges")
    from django.conf import settings
    from django.test import Client

    from gamification.models import Challenge
    from gamification.services.challenges import challenges_changed

    settings.FIDELIO_RETURN_WINDOW_DAYS = 0
    ids = members_enrol(10_000)
    now = datetime.now(UTC)
    goals = [("purchases", "none", "5"), ("spend", "none", "500"), ("categories", "none", "4"),
             ("streak", "none", "4"), ("purchases", "weekly", "3"), ("spend", "monthly", "200")]
    for i in range(args.challenges):
        goal, recurrence, target = goals[i % len(goals)]
        Challenge.objects.create(title=f"Bench {i} {goal}", goal=goal, recurrence=recurrence, target=Decimal(target),
                                 starts_at=now - timedelta(days=30), ends_at=now + timedelta(days=60),
                                 bonus_points=50, is_active=False)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    occurred = (now - timedelta(minutes=1)).isoformat()
    rng = random.Random(5)
    counter = iter(range(10**9))
    times: dict[str, list[float]] = {"off": [], "on": []}

    def post() -> float:
        n = next(counter)
        body = {"member": rng.choice(ids), "order_id": f"ch-{n}", "amount": "30.00", "occurred_at": occurred,
                "items": [{"sku": "A", "category": f"cat-{n % 7}", "quantity": 1, "unit_price": "10.00"},
                          {"sku": "B", "category": f"cat-{(n + 3) % 7}", "quantity": 2, "unit_price": "10.00"}]}
        started = time.perf_counter()
        response = client.post("/api/v1/purchases/", json.dumps(body), content_type="application/json")
        elapsed = time.perf_counter() - started
        if response.status_code != 201 or response.json()["status"] != "confirmed":
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
        return elapsed

    for _ in range(50):  # warm-up
        post()
    for round_no in range(args.rounds):
        for mode in ("off", "on"):
            Challenge.objects.update(is_active=mode == "on")
            challenges_changed()  # update() sends no signal: forget the memoised list as an admin save would
            for _ in range(args.posts):
                times[mode].append(post())
        print(f"round {round_no + 1}: off p50 {statistics.median(times['off'][-args.posts:]) * 1000:.2f} ms, "
              f"on p50 {statistics.median(times['on'][-args.posts:]) * 1000:.2f} ms", flush=True)

    def q(values, p):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000

    result = {
        "machine": machine_facts(), "posts_per_mode": len(times["off"]), "challenges": args.challenges,
        "off": {"p50_ms": q(times["off"], 0.5), "p95_ms": q(times["off"], 0.95)},
        "on": {"p50_ms": q(times["on"], 0.5), "p95_ms": q(times["on"], 0.95)},
    }
    result["added_p50_ms"] = result["on"]["p50_ms"] - result["off"]["p50_ms"]
    result["verdict"] = "PASS" if result["added_p50_ms"] <= 5 else "FAIL"
    print(f"purchase post with its events, {len(times['off'])} posts each: without challenges p50 "
          f"{result['off']['p50_ms']:.2f} ms (p95 {result['off']['p95_ms']:.2f}), with {args.challenges} active "
          f"p50 {result['on']['p50_ms']:.2f} ms (p95 {result['on']['p95_ms']:.2f}); added p50 "
          f"{result['added_p50_ms']:.2f} ms (target <= 5 ms): {result['verdict']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=600, help="posts per mode per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--challenges", type=int, default=10)
    parser.add_argument("--json", default="")
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_main

    return inprocess_main(parser, inside, __file__)


if __name__ == "__main__":
    sys.exit(main())
