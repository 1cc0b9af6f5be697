"""Write a purchase-history CSV for the import benchmark (`manage.py import_purchases`).

    .venv/bin/python bench/make_import_csv.py OUT.csv [--rows 1000000] [--customers 200000] [--seed 1]

Columns customer_id,customer_email,order_id,occurred_at,amount,currency (the importer's format): every
customer has an id and an e-mail, order ids are unique, occurred_at is spread over the last 3 years (UTC,
ISO 8601 with offset), amounts 1.00-299.99 EUR. The same seed gives the same file.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta


def write_csv(path: str, *, rows: int, customers: int, seed: int = 1, currency: str = "EUR") -> None:
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    span = int(timedelta(days=3 * 365).total_seconds())
    start = end - timedelta(seconds=span)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("customer_id,customer_email,order_id,occurred_at,amount,currency\n")
        lines = []
        for n in range(1, rows + 1):
            c = rng.randrange(1, customers + 1) if n > customers else n  # every customer at least once
            moment = (start + timedelta(seconds=rng.randrange(span))).isoformat()
            cents = rng.randrange(100, 30000)
            lines.append(f"CUST{c:07d},customer{c}@example.test,ORD{n:09d},{moment},{cents // 100}.{cents % 100:02d},"
                         f"{currency}\n")
            if len(lines) >= 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    write_csv(args.out, rows=args.rows, customers=min(args.customers, args.rows), seed=args.seed)
    print(f"{args.rows} rows for {min(args.customers, args.rows)} customers in {args.out} "
          f"({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
