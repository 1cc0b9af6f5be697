"""Purchase-history import from CSV, streamed and set-based.

Rows are parsed and checked in Python, then COPY'd chunk by chunk into a temporary table; members that do
not exist yet are created in bulk, and purchases are inserted with one INSERT … SELECT … ON CONFLICT DO
NOTHING per chunk, so a re-run adds nothing. Memory stays flat: only one chunk is held at a time.

With `awards_points=False` (`--no-points`) the history is recorded for metrics only: no points, no tier
changes. Otherwise each chunk goes through `purchases_record_batch`, the same rules as the API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from config.periods import program_tz
from config.sql import fetch_all, fetch_row
from loyalty.models import Purchase
from loyalty.services.batch import purchases_record_batch
from members.codes import member_number_generate, referral_code_generate
from members.models import Tier

COLUMNS = {"customer_id", "customer_email", "order_id", "occurred_at", "amount", "currency"}
CENT = Decimal("0.01")


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    existing: int = 0
    members_created: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)


@dataclass(frozen=True)
class Row:
    line: int
    customer_id: str
    email: str
    order_id: str
    occurred_at: datetime
    amount: Decimal
    currency: str


def parse_row(line: int, raw: dict[str, str], *, now: datetime, currency: str) -> Row:
    """One CSV row, checked as the API checks a purchase. Raises ValueError with the reason."""
    customer_id = (raw.get("customer_id") or "").strip()
    email = (raw.get("customer_email") or "").strip().lower()
    if not customer_id and not email:
        raise ValueError("customer_id or customer_email is required")
    if email and ("@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254):
        raise ValueError(f"customer_email {email!r} is not an e-mail address")
    if len(customer_id) > 100:
        raise ValueError("customer_id is longer than 100 characters")
    order_id = (raw.get("order_id") or "").strip()
    if not order_id or len(order_id) > 100:
        raise ValueError("order_id is required (at most 100 characters)")
    try:
        amount = Decimal((raw.get("amount") or "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"amount {raw.get('amount')!r} is not a number") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be greater than zero")
    if amount != amount.quantize(CENT):
        raise ValueError("amount has more than 2 decimal places")
    if amount >= Decimal("1e10"):
        raise ValueError("amount is too large")
    row_currency = (raw.get("currency") or "").strip().upper() or currency
    if row_currency != currency:
        raise ValueError(f"currency {row_currency} is not the program's {currency}")
    text = (raw.get("occurred_at") or "").strip()
    try:
        occurred_at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"occurred_at {text!r} is not an ISO 8601 date-time") from exc
    if occurred_at.tzinfo is None:  # naive times are program time
        occurred_at = occurred_at.replace(tzinfo=program_tz())
    if occurred_at > now + timedelta(seconds=settings.FIDELIO_MAX_FUTURE_SECONDS):
        raise ValueError("occurred_at is in the future")
    return Row(line, customer_id, email, order_id, occurred_at.astimezone(UTC), amount.quantize(CENT), row_currency)


def _rows(stream: Iterable[str], report: ImportReport, *, now: datetime) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    header = set(reader.fieldnames or [])
    missing = {"order_id", "occurred_at", "amount"} - header
    if missing or not header & {"customer_id", "customer_email"}:
        need = sorted(missing) or ["customer_id or customer_email"]
        raise ValueError(f"the CSV header lacks: {', '.join(need)}")
    currency = settings.FIDELIO_CURRENCY
    for raw in reader:
        report.rows += 1
        line = reader.line_num
        try:
            yield parse_row(line, raw, now=now, currency=currency)
        except ValueError as exc:
            report.rejected.append((line, str(exc)))


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS import_rows (
    line bigint, customer_id varchar(100), email varchar(254), order_id varchar(100),
    occurred_at timestamptz, amount numeric(12, 2), currency varchar(3), member_id bigint
) ON COMMIT DELETE ROWS
"""

# Match rows to members: by external id when the row has one, else by e-mail.
_MATCH = """
UPDATE import_rows r SET member_id = m.id FROM members_member m
WHERE r.member_id IS NULL AND (
    (r.customer_id <> '' AND m.external_id = r.customer_id)
    OR (r.customer_id = '' AND lower(m.email) = r.email AND m.email <> ''))
"""

_LINK_BY_EMAIL = """
UPDATE members_member m SET external_id = r.customer_id, updated_at = %s
FROM (SELECT DISTINCT ON (email) email, customer_id FROM import_rows
      WHERE member_id IS NULL AND customer_id <> '' AND email <> '' ORDER BY email, line) r
WHERE lower(m.email) = r.email AND m.external_id IS NULL AND m.email <> ''
  AND NOT EXISTS (SELECT 1 FROM members_member x WHERE x.external_id = r.customer_id)
"""

_MISSING = """
SELECT DISTINCT ON (key) key, customer_id, email FROM (
    SELECT CASE WHEN customer_id <> '' THEN 'id:' || customer_id ELSE 'email:' || email END AS key,
           customer_id, email, line
    FROM import_rows WHERE member_id IS NULL) t
ORDER BY key, line
"""

_INSERT_MEMBERS = """
INSERT INTO members_member (created_at, updated_at, user_id, member_number, referral_code, email, external_id,
    first_name, last_name, display_name, birthday, tier_id, tier_achieved_at, tier_period_end, points_balance,
    pending_points, lifetime_points, referred_by_id, referral_rewarded_at, marketing_consent, marketing_consent_at)
SELECT %s, %s, NULL, n, c, CASE WHEN e <> '' AND NOT EXISTS (
           SELECT 1 FROM members_member x WHERE lower(x.email) = e) THEN e ELSE '' END,
       NULLIF(x, ''), '', '', '', NULL, %s, NULL, NULL, 0, 0, 0, NULL, NULL, false, NULL
FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[]) AS u(n, c, e, x)
ON CONFLICT DO NOTHING
RETURNING external_id, email
"""

_INSERT_PURCHASES = """
INSERT INTO loyalty_purchase (member_id, source, order_id, amount, currency, occurred_at, status, awards_points,
    points_earned, points_pending, points_reversed, returned_amount, confirm_after, confirmed_at, earn_breakdown,
    request_hash, created_at)
SELECT member_id, %(source)s, order_id, amount, currency, occurred_at, %(status)s, false, 0, 0, 0, 0,
       occurred_at + make_interval(days => %(window)s), %(now)s, %(breakdown)s,
       encode(sha256(convert_to(concat_ws('|', member_id, order_id, amount, currency,
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''), 'UTF8')), 'hex'),
       %(now)s
FROM import_rows WHERE member_id IS NOT NULL
ORDER BY line
ON CONFLICT (source, order_id) DO NOTHING
"""

_CONFLICTS = """
SELECT r.line, r.order_id FROM import_rows r
JOIN loyalty_purchase p ON p.source = %(source)s AND p.order_id = r.order_id
WHERE p.request_hash <> encode(sha256(convert_to(concat_ws('|', r.member_id, r.order_id, r.amount, r.currency,
           to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''), 'UTF8')), 'hex')
ORDER BY r.line
"""

_UNMATCHED = "SELECT line FROM import_rows WHERE member_id IS NULL ORDER BY line"
_MATCHED = "SELECT line, member_id FROM import_rows WHERE member_id IS NOT NULL"
_MATCHED_COUNT = "SELECT count(*) AS matched FROM import_rows WHERE member_id IS NOT NULL"


def _copy_chunk(cursor: CursorWrapper, chunk: list[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in chunk:
        writer.writerow((r.line, r.customer_id, r.email, r.order_id, r.occurred_at.isoformat(), r.amount, r.currency))
    buffer.seek(0)
    with cursor.copy("COPY import_rows (line, customer_id, email, order_id, occurred_at, amount, currency) "
                     "FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (customer_id, email))") as copy:
        while data := buffer.read(1 << 20):
            copy.write(data)


def _create_members(cursor: CursorWrapper, now: datetime, entry_tier_id: int | None) -> int:
    cursor.execute(_MISSING)
    missing = fetch_all(cursor)
    created = 0
    for _attempt in range(6):  # a random code may collide; retry just those
        if not missing:
            break
        numbers = [member_number_generate() for _ in missing]
        codes = [referral_code_generate() for _ in missing]
        cursor.execute(_INSERT_MEMBERS, [now, now, entry_tier_id, numbers, codes,
                                         [m["email"] for m in missing], [m["customer_id"] for m in missing]])
        done = fetch_all(cursor)
        created += len(done)
        by_id = {d["external_id"] for d in done if d["external_id"]}
        by_email = {d["email"] for d in done if not d["external_id"] and d["email"]}
        missing = [m for m in missing if not ((m["customer_id"] and m["customer_id"] in by_id)
                                              or (not m["customer_id"] and m["email"] in by_email))]
        # e-mail-only customers whose address was taken meanwhile will match by e-mail below
        missing = [m for m in missing if m["customer_id"]]
    return created


def purchases_import(
    stream: Iterable[str],
    *,
    awards_points: bool = True,
    source: str = "",
    chunk_size: int = 100_000,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import purchase history from CSV text. Returns counts and the rejected lines with reasons."""
    now = now or timezone.now()
    source = source or settings.FIDELIO_DEFAULT_SOURCE
    report = ImportReport()
    entry_tier_id = Tier.objects.order_by("rank").values_list("pk", flat=True).first()
    if awards_points:  # the rules engine takes batches of at most 500
        chunk_size = min(chunk_size, settings.FIDELIO_BATCH_MAX_ITEMS)
    for chunk in _chunks(_rows(stream, report, now=now), chunk_size):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_TEMP)
            cursor.execute("TRUNCATE import_rows")  # also inside an outer transaction (tests, callers)
            _copy_chunk(cursor, chunk)
            cursor.execute(_MATCH)
            cursor.execute(_LINK_BY_EMAIL, [now])
            cursor.execute(_MATCH)
            report.members_created += _create_members(cursor, now, entry_tier_id)
            cursor.execute(_MATCH)
            cursor.execute(_UNMATCHED)
            for row in fetch_all(cursor):
                report.rejected.append((row["line"], "no member could be matched or created for this customer"))
            if awards_points:
                cursor.execute(_MATCHED)
                members = {row["line"]: row["member_id"] for row in fetch_all(cursor)}
                rows = [r for r in chunk if r.line in members]
                validated = [(k, {"member": members[r.line], "order_id": r.order_id, "amount": r.amount,
                                  "occurred_at": r.occurred_at, "currency": r.currency, "source": source})
                             for k, r in enumerate(rows)]
                results = purchases_record_batch(items=[{}] * len(rows), validated=validated, now=now)
                for r, result in zip(rows, results, strict=True):
                    if result["result"] == "created":
                        report.created += 1
                    elif result["result"] == "replayed":
                        report.existing += 1
                    else:
                        report.rejected.append((r.line, f"{result['code']}: {result['detail']}"))
            else:
                params = {"source": source, "window": settings.FIDELIO_RETURN_WINDOW_DAYS, "now": now,
                          "status": Purchase.Status.CONFIRMED, "breakdown": "history import: no points"}
                cursor.execute(_INSERT_PURCHASES, params)
                inserted = cursor.rowcount
                cursor.execute(_CONFLICTS, params)
                conflicts = fetch_all(cursor)
                for row in conflicts:
                    report.rejected.append((row["line"], f"order {row['order_id']} exists with different details"))
                cursor.execute(_MATCHED_COUNT)
                matched = fetch_row(cursor)["matched"]
                report.created += inserted
                report.existing += matched - inserted - len(conflicts)
        if progress:
            progress(len(chunk))
    report.rejected.sort()
    return report
