"""Fidelio's performance benchmarks (issues 3 and 4): one driver that starts everything and prints a results table.

Run from the project folder (needs `wrk`: `apt-get install -y wrk`)::

    .venv/bin/python bench/run.py                      # everything, 3 runs each (about 15 minutes)
    .venv/bin/python bench/run.py --only api,batch     # some of: api, hot, batch, detail, import, redeem, race
    .venv/bin/python bench/run.py --runs 5 --duration 30 --json bench/results/my-run.json

What it does, all on 127.0.0.1 only and bounded in time:

1. Starts fresh throwaway PostgreSQL + Redis through `config/embedded.py exec --throwaway` (or uses
   DATABASE_URL / REDIS_URL when both are set; the role then needs CREATEDB for the import benchmark),
   migrates, loads the demo program (`seed_demo`: tiers, earning rules), creates an integration token with
   `manage.py create_integration_token`, enrols --members members through the CSV importer and creates the
   baseline views' tables with raw SQL (bench/minimal.py). For redeem/race: funds every member with
   FUND_POINTS points (set-based, loyalty.ledger.points_credit_many) and creates an unlimited reward.
2. Starts `gunicorn config.wsgi -w 4` with DJANGO_SETTINGS_MODULE=bench.settings (Fidelio's settings plus
   the baselines /bench/minimal/ and /bench/conventional/), DEBUG off, persistent connections
   (DJANGO_CONN_MAX_AGE default 60). Waits while other benchmark or test processes use the machine.
3. api:    wrk, 8 connections, POST /bench/minimal/ (raw SQL), /bench/conventional/ (Serializer + ORM) and
           /api/v1/purchases/ in turn (ABC, then CBA), --runs times each, same body (random member among
           --members, unique order id), same load.
   hot:    the same with every post for one member (one hot row lock), shorter runs.
   batch:  POST /api/v1/purchases/batch/ with 100 purchases per call, 8 connections.
   detail: GET /api/v1/members/{id}/ for a member with 10,000 purchases and for one with 1.
   redeem: (issue 4) wrk, 8 connections, /bench/minimal/, /bench/conventional/ (purchase bodies, as in api)
           and POST /api/v1/redemptions/ (a random funded member, one unlimited reward, a unique
           Idempotency-Key per request) in turn (ABC, then CBA), --runs times each; vouchers created are
           checked against the requests wrk completed.
   race:   (issue 4) RACE_CLIENTS real HTTP clients (threads, connected, released by one barrier) each send
           ONE redemption of the same reward (stock RACE_STOCK) for a different member; --runs races, a new
           reward and new members each. Statuses, 5xx, deadlock errors (answers and gunicorn log), the time
           from the release to the last answer, vouchers == stock, stock left 0, balances, check_ledger.
4. import: `manage.py import_purchases FILE --no-points --quiet` of a generated CSV (--import-rows rows,
           200,000 customers), each run on a fresh copy of the migrated database; wall time and the
           command's maximum RSS (getrusage of the child).
5. Stops gunicorn and the servers (also on failure or Ctrl-C) and prints medians, ratios and PASS/FAIL.

Query counts per request (Django's CaptureQueriesContext through the test client) are recorded too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
WRK_DIR = BENCH_DIR / "wrk"
PY = sys.executable
ALL = ("api", "hot", "batch", "detail", "import", "redeem", "race")
CLIENTS = 8
BATCH_SIZE = 100

# Targets of issue 3.
TARGET_API_THROUGHPUT_RATIO = 0.60  # purchase req/s >= 60 % of the minimal view's
TARGET_API_P99_RATIO = 1.5  # purchase p99 <= 1.5 x the minimal view's
TARGET_BATCH_PURCHASES_PER_S = 2000
TARGET_IMPORT_SECONDS = 60
TARGET_IMPORT_RSS_MB = 500

# Targets of issue 4 (rewards), and the set-up of their benchmarks.
TARGET_REDEEM_THROUGHPUT_RATIO = 0.50  # redemption req/s >= 50 % of the baseline view's
TARGET_REDEEM_P99_RATIO = 2.0  # redemption p99 <= 2 x the baseline view's
TARGET_RACE_SECONDS = 5.0  # the 200-client race settles (last answer) within 5 s
FUND_POINTS = 1_000_000  # each member's points for the redemption benchmarks: nobody runs out
REDEEM_COST = 10  # cost_points of the benchmark rewards
RACE_CLIENTS = 200
RACE_STOCK = 50

BENCH_ENV = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "False",
    "DJANGO_LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
    "FIDELIO_PUBLIC_URL": "https://bench.fidelio.test",
    # The API's rate limits stay on (their cost is part of every figure) but far above the load generator's rate.
    "FIDELIO_THROTTLE_ANON": "100000000/min",
    "FIDELIO_THROTTLE_CUSTOMER": "100000000/min",
    "FIDELIO_THROTTLE_TOKEN": "100000000/min",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values):
    return statistics.median(values) if values else None


# ------------------------------------------------------------------------------------------- processes
def manage(*args: str, env: dict, capture: bool = False) -> str:
    out = subprocess.run([PY, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR, check=True,
                         stdout=subprocess.PIPE if capture else None, text=True)
    return out.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, env: dict, workers: int = 4):
        self.port = free_port()
        self.log_path = Path(tempfile.gettempdir()) / f"fidelio-bench-gunicorn-{os.getpid()}.log"
        gunicorn = shutil.which("gunicorn", path=str(Path(PY).parent)) or "gunicorn"
        self.argv = [gunicorn, "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        self.env = dict(env, DJANGO_SETTINGS_MODULE="bench.settings")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        log(f"starting {' '.join(self.argv[1:])} (log {self.log_path})")
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=BASE_DIR, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(self.url + "/bench/minimal/", timeout=2)  # noqa: S310 - loopback
            except urllib.error.HTTPError:
                return self  # 405 for GET: the app answers
            except OSError:
                time.sleep(0.2)
                continue
            return self
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


# Command-line fragments of processes that load the machine: other benchmarks, servers, test and CI runs.
_LOAD_WORDS = ("wrk ", "gunicorn", "pytest", "bench/run.py", "profile_requests.py", "soak_purchase.py", ".ci/run",
               "ci-clone", "make test")


def foreign_load() -> list[str]:
    """Other load on this machine that would skew the figures: wrk, gunicorn, pytest or benchmark processes
    that are not ours (neither this process's ancestors nor its descendants)."""
    ours, parents, found = {os.getpid()}, {}, []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    pid = os.getpid()
    while pid in parents and parents[pid] > 1:  # our ancestors (the launcher, the outer run.py) are ours too
        pid = parents[pid]
        ours.add(pid)
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    for pid in parents:
        if pid in ours:
            continue
        with contextlib.suppress(OSError):
            cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if any(word in cmd for word in _LOAD_WORDS):
                found.append(f"{pid}: {cmd[:100]}")
    return found


def wait_for_quiet(results: dict, limit: float = 600) -> None:
    """Wait (up to `limit` s) while another benchmark or test run uses the machine; note it in the results."""
    deadline = time.monotonic() + limit
    others = foreign_load()
    if others:
        log(f"other load on this machine, waiting for it to end: {others}")
    while others and time.monotonic() < deadline:
        time.sleep(5)
        others = foreign_load()
    if others:
        log(f"WARNING: measuring while other load runs; figures are skewed: {others}")
        results.setdefault("contended", []).extend(others)


def wrk(url: str, script: str, args: list[str], *, duration: int, connections: int = CLIENTS,
        threads: int = 2) -> dict:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", str(WRK_DIR / script), url, "--", *args]
    seen = set(foreign_load())
    with tempfile.TemporaryFile("w+") as output:
        proc = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + duration + 60
        while proc.poll() is None:  # look for other load every second while wrk runs
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError("wrk did not finish in time")
            seen.update(foreign_load())
            time.sleep(1)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, argv)
        output.seek(0)
        out = output.read()
    other_load = sorted(seen)
    if other_load:
        log(f"  WARNING: other load on the machine during this run: {other_load}")
    line = next((x for x in out.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    r = json.loads(line[len("BENCHJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    r["other_load"] = other_load
    return r


# ------------------------------------------------------------------------------------------------ django
def django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def sql(query: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def members_enrol(count: int) -> list[int]:
    """Enrol `count` members (plus three special ones) through the CSV importer's set-based path."""
    from loyalty.services import purchases_import
    from members.models import Member

    moment = (datetime.now(UTC) - timedelta(days=800)).isoformat()
    names = [f"BENCH{n:06d}" for n in range(count)] + ["BENCH-HOT", "BENCH-HISTORY", "BENCH-FRESH"]
    lines = ["customer_id,customer_email,order_id,occurred_at,amount,currency\n"]
    lines += [f"{name},{name.lower()}@bench.test,seed-{name},{moment},10.00,EUR\n" for name in names]
    # The importer matches rows to members in one transaction after inserting them all; in some 100,000-member
    # enrolments its last match ran for over 10 minutes on a plan for a tiny members table (an autoanalyze seeing
    # only the members committed at that moment, we think). Statistics first, and no autoanalyze meanwhile.
    sql("ANALYZE members_member")
    sql("ALTER TABLE members_member SET (autovacuum_enabled = off)")
    try:
        report = purchases_import(lines, awards_points=False)
    finally:
        sql("ALTER TABLE members_member RESET (autovacuum_enabled)")
        sql("ANALYZE members_member")
    if report.rejected:
        raise RuntimeError(f"member enrolment rejected rows: {report.rejected[:5]}")
    return list(Member.objects.filter(external_id__startswith="BENCH0").order_by("pk").values_list("pk", flat=True))


def member_id(external_id: str) -> int:
    from members.models import Member

    return Member.objects.values_list("pk", flat=True).get(external_id=external_id)


def history_create(member: int, purchases: int) -> float:
    """`purchases` purchases for one member over the last 3 years, through the batch service (with points,
    ledger entries and lots for those past their return window)."""
    from loyalty.services import purchases_record_batch

    started = time.monotonic()
    now = datetime.now(UTC)
    for start in range(0, purchases, 500):
        items = [{"member": member, "order_id": f"history-{member}-{n}", "amount": f"{10 + n % 90}.50",
                  "occurred_at": (now - timedelta(hours=1 + n * 26280 // purchases)).isoformat()}
                 for n in range(start, min(start + 500, purchases))]
        results = purchases_record_batch(items=items)
        bad = [r for r in results if r["result"] != "created"]
        if bad:
            raise RuntimeError(f"history purchases failed: {bad[:3]}")
    return time.monotonic() - started


def offers_running(count: int) -> float:
    """`count` live offers held by every member (issue 14's purchase targets hold with 20): points multipliers, every
    other one for a category the bench's purchases (no items) do not have, so one offer counts on each post."""
    from campaigns.models import Offer
    from campaigns.services.offers import offer_assign

    started = time.monotonic()
    now = datetime.now(UTC)
    for i in range(count):
        offer = Offer.objects.create(name=f"Bench offer {i}", starts_at=now - timedelta(days=1),
                                     ends_at=now + timedelta(days=30), multiplier=Decimal("1.5") + Decimal(i) / 100,
                                     holdout_percent=0, category="" if i % 2 else f"bench-category-{i}")
        offer_assign(offer=offer, now=now)
    return time.monotonic() - started


def members_fund(ids: list[int], points: int) -> float:
    """Give every member `points` spendable points that never expire, set-based through the ledger
    (loyalty.ledger.points_credit_many: entries and lots in bulk, one balance UPDATE per chunk)."""
    from loyalty.ledger import Credit, points_credit_many
    from loyalty.models import LedgerEntry

    started = time.monotonic()
    now = datetime.now(UTC)
    for start in range(0, len(ids), 2000):
        points_credit_many(credits=[
            Credit(member_id=pk, points=points, kind=LedgerEntry.Kind.ADJUST, description="Benchmark funding",
                   idempotency_key=f"bench-fund-{pk}", reference="bench", expires_at=None)
            for pk in ids[start:start + 2000]
        ], now=now)
    return time.monotonic() - started


def reward_create(name: str, *, stock: int | None, cost: int = REDEEM_COST) -> int:
    """An active fixed-discount reward, no tier, no per-member limit; `stock` None = unlimited."""
    from decimal import Decimal

    from rewards.models import Reward

    return Reward.objects.create(name=name, kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("5.00"),
                                 cost_points=cost, stock=stock, limit_per_member=None, is_active=True).pk


def vouchers_count(reward: int) -> int:
    return sql("SELECT count(*) FROM rewards_voucher WHERE reward_id = %s", [reward])[0][0]


def query_counts(token: str, ids: list[int], history: int, fresh: int, reward: int | None = None) -> dict:
    """Queries per request through Django's test client (same settings as the server)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    out = {}

    def measure(name, method, path, body=None, **headers):
        with CaptureQueriesContext(connection) as ctx:
            if method == "get":
                response = client.get(path)
            else:
                response = client.post(path, data=json.dumps(body), content_type="application/json", **headers)
        out[name] = {"status": response.status_code, "queries": len(ctx.captured_queries),
                     "sql": [q["sql"][:300] for q in ctx.captured_queries]}

    def purchase(n):
        return {"member": ids[n % len(ids)], "order_id": f"qc-{n}", "amount": "42.50", "occurred_at": occurred}

    client.get(f"/api/v1/members/{fresh}/")  # token last_used_at is written at most once a minute: not counted
    measure("minimal_post", "post", "/bench/minimal/", purchase(0))
    measure("purchase_post", "post", "/api/v1/purchases/", purchase(1))
    measure("purchase_post_replay", "post", "/api/v1/purchases/", purchase(1))
    measure("batch_post_100", "post", "/api/v1/purchases/batch/",
            {"purchases": [purchase(n) for n in range(100, 200)]})
    measure("member_detail_10000_purchases", "get", f"/api/v1/members/{history}/")
    measure("member_detail_1_purchase", "get", f"/api/v1/members/{fresh}/")
    if reward is not None:
        body = {"member": ids[-1], "reward": reward}
        measure("redemption_post", "post", "/api/v1/redemptions/", body, HTTP_IDEMPOTENCY_KEY="qc-redeem")
        measure("redemption_post_replay", "post", "/api/v1/redemptions/", body, HTTP_IDEMPOTENCY_KEY="qc-redeem")
    return out


def inprocess_main(parser: argparse.ArgumentParser, inside, script: str) -> int:
    """The entry point of the in-process tools: parse the arguments, then either run `inside(args)` (already
    under the launcher) or start the script again under `config/embedded.py exec --throwaway` (fresh
    PostgreSQL and Redis, removed afterwards)."""
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        return inside(args)
    return subprocess.call([sys.executable, str(BASE_DIR / "config" / "embedded.py"), "exec", "--throwaway", "--",
                            sys.executable, str(Path(script).resolve()), "--inside", *sys.argv[1:]], cwd=BASE_DIR)


def inprocess_setup(token_name: str) -> str:
    """For the in-process tools (profile_requests.py, soak_purchase.py): migrate and seed the throwaway
    database, create a token, and set Django up with the benchmark settings. Returns the token."""
    env = dict(os.environ, **BENCH_ENV)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    os.environ.update(BENCH_ENV)
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("seed_demo", "--force", env=env, capture=True)
    token = manage("create_integration_token", token_name, env=env, capture=True).strip()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    return token


# -------------------------------------------------------------------------------------------- benchmarks
def bench_api(url: str, token: str, ids_file: Path, *, runs: int, duration: int, tag: str) -> dict:
    """The baseline views and the purchase API in turn (ABC, CBA, ...), same body, same load."""
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    paths = {"minimal": "/bench/minimal/", "conventional": "/bench/conventional/",
             "purchase": "/api/v1/purchases/"}
    counts = {"minimal": minimal_count, "conventional": conventional_count, "purchase": purchases_count}
    for name, path in paths.items():  # warm-up: workers import lazily, connections open
        wrk(url, "purchase.lua", [path, token, str(ids_file), f"{tag}-warm-{name}", occurred], duration=3)
    results: dict[str, list] = {name: [] for name in paths}
    for i in range(runs):
        order = list(paths) if i % 2 == 0 else list(reversed(paths))
        for name in order:
            before = counts[name]()
            r = wrk(url, "purchase.lua", [paths[name], token, str(ids_file), f"{tag}-{i}-{name}", occurred],
                    duration=duration)
            r["rows_written"] = counts[name]() - before
            results[name].append(r)
            log(f"  {tag} run {i + 1} {name:12}: {r['rps']:7.1f} req/s  p50 {r['lat_p50_us'] / 1000:6.1f} ms  "
                f"p99 {r['lat_p99_us'] / 1000:6.1f} ms  errors {r['errors']}  rows {r['rows_written']}")
    return results


def purchases_count() -> int:
    return sql("SELECT count(*) FROM loyalty_purchase")[0][0]


def minimal_count() -> int:
    return sql("SELECT count(*) FROM bench_minimal_event")[0][0]


def conventional_count() -> int:
    return sql("SELECT count(*) FROM bench_conv_event")[0][0]


def bench_batch(url: str, token: str, ids_file: Path, *, runs: int, duration: int) -> list[dict]:
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    wrk(url, "batch.lua", [token, str(ids_file), "batch-warm", occurred, str(BATCH_SIZE)], duration=3)
    out = []
    for i in range(runs):
        before = purchases_count()
        r = wrk(url, "batch.lua", [token, str(ids_file), f"batch-{i}", occurred, str(BATCH_SIZE)],
                duration=duration)
        r["rows_written"] = purchases_count() - before
        r["purchases_per_s"] = r["requests"] * BATCH_SIZE / (r["duration_us"] / 1e6)
        out.append(r)
        log(f"  batch run {i + 1}: {r['rps']:6.1f} calls/s = {r['purchases_per_s']:7.0f} purchases/s  "
            f"p99 {r['lat_p99_us'] / 1000:6.1f} ms  errors {r['errors']}  rows {r['rows_written']}")
    return out


def bench_detail(url: str, token: str, members: dict[str, int], *, runs: int, duration: int) -> dict:
    out: dict[str, list] = {}
    for name, pk in members.items():
        path = f"/api/v1/members/{pk}/"
        wrk(url, "get.lua", [path, token], duration=2)
        out[name] = []
        for i in range(runs):
            r = wrk(url, "get.lua", [path, token], duration=duration)
            out[name].append(r)
            log(f"  detail {name} run {i + 1}: {r['rps']:7.1f} req/s  p50 {r['lat_p50_us'] / 1000:6.1f} ms  "
                f"p99 {r['lat_p99_us'] / 1000:6.1f} ms  errors {r['errors']}")
    return out


def bench_redeem(url: str, token: str, ids_file: Path, reward: int, *, runs: int, duration: int, tag: str) -> dict:
    """Issue 4: the two baseline views (purchase bodies, as in `api`) and the redemption API in turn (ABC,
    CBA, ...), same load. Each redemption is a new one (unique Idempotency-Key) for a random funded member of
    one unlimited reward; the vouchers it wrote must match the 2xx answers wrk counted (within in-flight)."""
    occurred = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    loads = {
        "minimal": ("purchase.lua", lambda t: ["/bench/minimal/", token, str(ids_file), t, occurred], minimal_count),
        "conventional": ("purchase.lua", lambda t: ["/bench/conventional/", token, str(ids_file), t, occurred],
                         conventional_count),
        "redemption": ("redeem.lua", lambda t: [token, str(ids_file), t, str(reward)],
                       lambda: vouchers_count(reward)),
    }
    for name, (script, args, _) in loads.items():  # warm-up: workers import lazily, connections open
        wrk(url, script, args(f"{tag}-warm-{name}"), duration=3)
    results: dict[str, list] = {name: [] for name in loads}
    for i in range(runs):
        order = list(loads) if i % 2 == 0 else list(reversed(loads))
        for name in order:
            script, args, count = loads[name]
            before = count()
            r = wrk(url, script, args(f"{tag}-{i}-{name}"), duration=duration)
            time.sleep(0.5)  # the requests still in flight when wrk stopped commit
            r["rows_written"] = count() - before
            r["non_2xx"] = r["status_errors"]  # wrk counts answers with a status above 399
            ok_answers = r["requests"] - r["status_errors"]
            r["rows_match"] = ok_answers <= r["rows_written"] <= r["requests"] + CLIENTS
            results[name].append(r)
            log(f"  {tag} run {i + 1} {name:12}: {r['rps']:7.1f} req/s  p50 {r['lat_p50_us'] / 1000:6.1f} ms  "
                f"p99 {r['lat_p99_us'] / 1000:6.1f} ms  errors {r['errors']} (non-2xx {r['non_2xx']})  "
                f"rows {r['rows_written']} for {r['requests']} answers: {'ok' if r['rows_match'] else 'MISMATCH'}")
    return results


def _log_tail(path: Path, offset: int) -> str:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _log_problems(text: str) -> list[str]:
    """Lines of the gunicorn log that tell of a server error: ERROR/CRITICAL records (Django's and gunicorn's),
    worker timeouts, anything mentioning a deadlock, and the exception line that ends each traceback."""
    found, in_traceback = [], False
    for line in text.splitlines():
        low = line.lower()
        if line.startswith("Traceback"):
            in_traceback = True
            continue
        if in_traceback and line and not line[0].isspace():
            if not line.startswith(("During handling", "The above exception")):
                found.append(line.strip()[:400])
                in_traceback = False
            continue
        if (" error " in low or " critical " in low or "[error]" in low or "[critical]" in low
                or "worker timeout" in low or ("deadlock" in low and not in_traceback)):
            found.append(line.strip()[:400])
    return found


def bench_race(url: str, token: str, members: list[int], *, runs: int, tag: str, log_path: Path) -> list[dict]:
    """Issue 4's hot-stock race: RACE_CLIENTS clients released together, each redeeming the same reward
    (stock RACE_STOCK) once for a different member; a new reward and new members per run."""
    from bench.race import race

    if len(members) < RACE_CLIENTS * runs:
        raise RuntimeError(f"the race needs {RACE_CLIENTS * runs} members, {len(members)} enrolled")
    out = []
    for i in range(runs):
        who = members[i * RACE_CLIENTS:(i + 1) * RACE_CLIENTS]
        reward = reward_create(f"Bench race {tag}-{i}", stock=RACE_STOCK)
        before = dict(sql("SELECT id, points_balance FROM members_member WHERE id = ANY(%s)", [who]))
        offset = log_path.stat().st_size
        r = race(url, token, reward, who, tag=f"{tag}-{i}")
        time.sleep(0.5)  # let the gunicorn log catch up
        problems = _log_problems(_log_tail(log_path, offset))
        after = dict(sql("SELECT id, points_balance FROM members_member WHERE id = ANY(%s)", [who]))
        winners = set(r.pop("created_members"))
        wrong = [pk for pk in who if after[pk] != before[pk] - (REDEEM_COST if pk in winners else 0)]
        r.update(
            reward=reward, stock=RACE_STOCK, cost_points=REDEEM_COST,
            vouchers=vouchers_count(reward),
            redemptions=sql("SELECT count(*) FROM rewards_redemption WHERE reward_id = %s", [reward])[0][0],
            stock_left=sql("SELECT stock FROM rewards_reward WHERE id = %s", [reward])[0][0],
            negative_balances=sql("SELECT count(*) FROM members_member WHERE points_balance < 0")[0][0],
            balances_wrong=len(wrong), balances_wrong_sample=wrong[:5],
            log_problems=problems[:40], log_deadlocks=sum("deadlock" in x.lower() for x in problems),
        )
        r["ok"] = bool(
            r["answered"] == RACE_CLIENTS and not r["client_errors"] and not r["hung_clients"]
            and r["status_5xx"] == 0 and r["deadlock_mentions"] == 0 and r["log_deadlocks"] == 0
            and r["wall_s"] is not None and r["wall_s"] <= TARGET_RACE_SECONDS
            and r["vouchers"] == r["redemptions"] == RACE_STOCK == r["statuses"].get("201", 0)
            and r["stock_left"] == 0 and r["negative_balances"] == 0 and r["balances_wrong"] == 0
        )
        out.append(r)
        wall = f"{r['wall_s']:.2f} s" if r["wall_s"] is not None else "n/a"
        log(f"  race run {i + 1}: last answer {wall} after the release (first {r['first_answer_s'] or 0:.2f} s), "
            f"outcomes {r['outcomes']}, 5xx {r['status_5xx']}, deadlocks {r['deadlock_mentions']} in answers / "
            f"{r['log_deadlocks']} in the log, vouchers {r['vouchers']}/{RACE_STOCK}, stock left {r['stock_left']}, "
            f"negative balances {r['negative_balances']}, wrong balances {r['balances_wrong']}"
            + (f", client errors {r['client_errors']}" if r["client_errors"] else ""))
        for line in problems[:10]:
            log(f"    gunicorn log: {line}")
    return out


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str):
    import psycopg

    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


def measure_command(argv: list[str], env: dict) -> dict:
    """Run a command in a child that reports the command's wall time and maximum RSS (getrusage)."""
    out = subprocess.run([PY, str(Path(__file__)), "_measure", "--", *argv], env=env, cwd=BASE_DIR,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCHJSON "))
    result = json.loads(line[len("BENCHJSON "):])
    result["output"] = [x for x in out.splitlines() if not x.startswith("BENCHJSON ")]
    return result


def _measure(argv: list[str]) -> int:
    started = time.monotonic()
    proc = subprocess.run(argv, check=False)
    wall = time.monotonic() - started
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print("BENCHJSON " + json.dumps({"seconds": wall, "max_rss_mb": rss_kb / 1024, "returncode": proc.returncode}),
          flush=True)
    return proc.returncode


def bench_import(env: dict, template: str, *, runs: int, rows: int, customers: int, workdir: Path) -> dict:
    from bench.make_import_csv import write_csv

    csv_path = workdir / f"purchases-{rows}.csv"
    started = time.monotonic()
    write_csv(str(csv_path), rows=rows, customers=min(customers, rows))
    log(f"  CSV: {rows} rows, {min(customers, rows)} customers, {csv_path.stat().st_size / 1e6:.0f} MB "
        f"in {time.monotonic() - started:.1f} s")
    base_url = env["DATABASE_URL"]
    out: dict[str, list] = {"fresh": [], "rerun": []}
    for i in range(runs):
        name = f"bench_import_{i}"
        with _admin(base_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        run_env = dict(env, DATABASE_URL=_with_db(base_url, name), DJANGO_SETTINGS_MODULE="config.settings")
        argv = [PY, "manage.py", "import_purchases", str(csv_path), "--no-points", "--quiet"]
        r = measure_command(argv, run_env)
        import psycopg

        with psycopg.connect(run_env["DATABASE_URL"]) as conn:
            r["purchases_in_db"] = conn.execute("SELECT count(*) FROM loyalty_purchase WHERE order_id LIKE 'ORD%'"
                                                ).fetchone()[0]
            r["members_in_db"] = conn.execute("SELECT count(*) FROM members_member WHERE external_id LIKE 'CUST%'"
                                              ).fetchone()[0]
        r["rows_per_s"] = rows / r["seconds"]
        out["fresh"].append(r)
        log(f"  import run {i + 1}: {r['seconds']:.1f} s ({r['rows_per_s']:.0f} rows/s), max RSS "
            f"{r['max_rss_mb']:.0f} MB, {r['purchases_in_db']} purchases / {r['members_in_db']} members in the "
            f"database; {' '.join(r['output'])}")
        if i == runs - 1:  # the same file again into the same database: everything already there
            r2 = measure_command(argv, run_env)
            out["rerun"].append(r2)
            log(f"  import re-run (all rows present): {r2['seconds']:.1f} s, max RSS {r2['max_rss_mb']:.0f} MB; "
                f"{' '.join(r2['output'])}")
        with _admin(base_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    csv_path.unlink()
    return out


# ------------------------------------------------------------------------------------------------ report
def machine_facts() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    mem_kb = 0
    with contextlib.suppress(OSError, StopIteration):
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    facts = {
        "cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(), "python": platform.python_version(),
    }
    with contextlib.suppress(Exception):
        import django
        import gunicorn
        import rest_framework

        facts.update(django=django.get_version(), drf=rest_framework.VERSION, gunicorn=gunicorn.__version__)
    with contextlib.suppress(Exception):
        facts["postgresql"] = sql("SELECT version()")[0][0]
        facts["pg_settings"] = dict(sql(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('shared_buffers', "
            "'fsync', 'synchronous_commit', 'max_connections', 'work_mem', 'wal_level', 'max_wal_size')"))
    with contextlib.suppress(Exception):
        git = ["git", "-C", str(BASE_DIR)]
        facts["git_commit"] = subprocess.run([*git, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        facts["git_modified_files"] = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True
        ).stdout.split("\n")[:-1]
    with contextlib.suppress(Exception):
        facts["wrk"] = subprocess.run(["wrk", "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True).stdout.splitlines()[0]
    return facts


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def summarise(results: dict) -> list[str]:
    lines = []
    ms = 1000.0

    def api_block(key: str, title: str, judge: bool, subject: str = "purchase", subject_label: str = "purchase API",
                  targets: tuple[float, float] = (TARGET_API_THROUGHPUT_RATIO, TARGET_API_P99_RATIO)):
        data = results.get(key)
        if not data:
            return
        target_tput, target_p99 = targets
        pu = data[subject]
        pu_rps, pu_p99 = median([r["rps"] for r in pu]), median([r["lat_p99_us"] for r in pu])
        lines.append(f"{title} (8 connections, {len(pu)} runs, medians)")
        for name, label in (("minimal", "raw-SQL floor view"), ("conventional", "conventional DRF view"),
                            (subject, subject_label)):
            rows = data.get(name) or []
            if rows:
                checks = ""
                if "rows_match" in rows[0]:
                    checks = (f"   non-2xx {sum(r['non_2xx'] for r in rows)}   rows vs answers "
                              f"{'ok' if all(r['rows_match'] for r in rows) else 'MISMATCH'}")
                lines.append(f"  {label:22} {median([r['rps'] for r in rows]):8.1f} req/s   p50 "
                             f"{median([r['lat_p50_us'] for r in rows]) / ms:6.1f} ms   p99 "
                             f"{median([r['lat_p99_us'] for r in rows]) / ms:6.1f} ms   "
                             f"errors {sum(r['errors'] for r in rows)}{checks}")
        for name, label in (("minimal", "vs raw-SQL floor"), ("conventional", "vs conventional DRF")):
            base = data.get(name) or []
            if not base:
                continue
            b_rps, b_p99 = median([r["rps"] for r in base]), median([r["lat_p99_us"] for r in base])
            run_ratios = [p["rps"] / m["rps"] for m, p in zip(base, pu, strict=True)]
            run_p99 = [p["lat_p99_us"] / m["lat_p99_us"] for m, p in zip(base, pu, strict=True)]
            tput_ratio, p99_ratio = pu_rps / b_rps, pu_p99 / b_p99
            lines.append(f"  {label}: throughput ratio {tput_ratio:.2f} (runs "
                         f"{', '.join(f'{x:.2f}' for x in run_ratios)})"
                         + (f" target >= {target_tput:.2f}: {verdict(tput_ratio >= target_tput)}"
                            + ("" if name == "conventional" else " (reported; the verdict is vs conventional)")
                            if judge else ""))
            lines.append(f"  {label}: p99 ratio        {p99_ratio:.2f} (runs "
                         f"{', '.join(f'{x:.2f}' for x in run_p99)})"
                         + (f" target <= {target_p99:.2f}: {verdict(p99_ratio <= target_p99)}"
                            + ("" if name == "conventional" else " (reported; the verdict is vs conventional)")
                            if judge else ""))

    api_block("api", "POST /api/v1/purchases/ vs the baseline DRF views, 10,000 members", True)
    api_block("hot", "Same, every post for ONE member (hot row)", False)
    api_block("redeem", "POST /api/v1/redemptions/ vs the baseline DRF views, random funded members, one reward",
              True, subject="redemption", subject_label="redemption API",
              targets=(TARGET_REDEEM_THROUGHPUT_RATIO, TARGET_REDEEM_P99_RATIO))
    if results.get("race"):
        races = results["race"]
        walls = [r["wall_s"] for r in races if r["wall_s"] is not None]
        lines.append(f"Hot-stock race: {RACE_CLIENTS} clients released together, one reward with stock {RACE_STOCK}, "
                     f"{len(races)} runs")
        for i, r in enumerate(races, 1):
            wall = f"{r['wall_s']:.2f} s" if r["wall_s"] is not None else "n/a"
            outcomes = ", ".join(f"{k}: {v}" for k, v in r["outcomes"].items())
            lines.append(f"  run {i}: statuses {r['statuses']} ({outcomes})   last answer {wall} after the release")
            lines.append(f"         5xx {r['status_5xx']}, deadlock in answers {r['deadlock_mentions']} / in the "
                         f"gunicorn log {r['log_deadlocks']}, server-error log lines {len(r['log_problems'])}, "
                         f"client errors {len(r['client_errors'])}; vouchers {r['vouchers']} (stock {r['stock']}), "
                         f"stock left {r['stock_left']}, negative balances {r['negative_balances']}, "
                         f"wrong balances {r['balances_wrong']}")
        no_5xx = all(r["status_5xx"] == 0 and r["answered"] == r["clients"] and not r["client_errors"]
                     for r in races)
        no_deadlock = all(r["deadlock_mentions"] == 0 and r["log_deadlocks"] == 0 for r in races)
        settled = len(walls) == len(races) and max(walls) <= TARGET_RACE_SECONDS
        consistent = all(r["vouchers"] == r["redemptions"] == r["stock"] == r["statuses"].get("201", 0)
                         and r["stock_left"] == 0 and r["negative_balances"] == 0 and r["balances_wrong"] == 0
                         for r in races)
        worst = f"{max(walls):.2f} s" if walls else "n/a"
        lines.append(f"  no 5xx, every client answered: {verdict(no_5xx)}   no deadlock error: {verdict(no_deadlock)}"
                     f"   settles <= {TARGET_RACE_SECONDS:.0f} s (worst {worst}): {verdict(settled)}")
        lines.append(f"  vouchers == stock == 201s, stock left 0, no negative or wrong balances: {verdict(consistent)}")
    if results.get("ledger_check"):
        c = results["ledger_check"]
        lines.append(f"check_ledger after the redemptions: {c['members']} member and {c['lots']} lot mismatches "
                     f"({verdict(c['members'] == 0 and c['lots'] == 0)})")
    if results.get("batch"):
        b = results["batch"]
        pps = median([r["purchases_per_s"] for r in b])
        lines.append(f"POST /api/v1/purchases/batch/ ({BATCH_SIZE} per call, 8 connections, {len(b)} runs, medians)")
        lines.append(f"  {median([r['rps'] for r in b]):.1f} calls/s = {pps:.0f} purchases/s   "
                     f"p99 {median([r['lat_p99_us'] for r in b]) / ms:.1f} ms   errors {sum(r['errors'] for r in b)}"
                     f"   ratio to target {pps / TARGET_BATCH_PURCHASES_PER_S:.2f}"
                     f"   target >= {TARGET_BATCH_PURCHASES_PER_S}: {verdict(pps >= TARGET_BATCH_PURCHASES_PER_S)}")
    if results.get("detail"):
        lines.append("GET /api/v1/members/{id}/ (8 connections, medians)")
        for name, runs in results["detail"].items():
            lines.append(f"  {name:22} {median([r['rps'] for r in runs]):8.1f} req/s   "
                         f"p50 {median([r['lat_p50_us'] for r in runs]) / ms:6.1f} ms   "
                         f"p99 {median([r['lat_p99_us'] for r in runs]) / ms:6.1f} ms")
    if results.get("import"):
        f = results["import"]["fresh"]
        secs, rss = median([r["seconds"] for r in f]), max(r["max_rss_mb"] for r in f)
        lines.append(f"manage.py import_purchases --no-points --quiet, {results['import_rows']} rows "
                     f"({len(f)} runs, fresh database each)")
        run_secs = ", ".join(f"{r['seconds']:.1f}" for r in f)
        run_rss = ", ".join(f"{r['max_rss_mb']:.0f}" for r in f)
        lines.append(f"  median {secs:.1f} s ({results['import_rows'] / secs:,.0f} rows/s; runs {run_secs} s)   "
                     f"target <= {TARGET_IMPORT_SECONDS} s: {verdict(secs <= TARGET_IMPORT_SECONDS)}")
        lines.append(f"  max RSS {rss:.0f} MB (runs {run_rss})   "
                     f"target < {TARGET_IMPORT_RSS_MB} MB: {verdict(rss < TARGET_IMPORT_RSS_MB)}")
        for r in results["import"]["rerun"]:
            lines.append(f"  re-run of the same file (all present): {r['seconds']:.1f} s, "
                         f"max RSS {r['max_rss_mb']:.0f} MB")
    if results.get("queries"):
        counts = ", ".join(f"{k} {v['queries']}" for k, v in results["queries"].items())
        lines.append(f"Queries per request: {counts}")
    return lines


# -------------------------------------------------------------------------------------------------- main
def _stop(signum, frame):
    raise KeyboardInterrupt  # so that gunicorn and the servers are stopped on SIGTERM/SIGHUP too


def inside(args) -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    only = set(args.only.split(",")) if args.only else set(ALL)
    env = dict(os.environ, **BENCH_ENV)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py: config.settings; gunicorn: bench.settings
    os.environ.update(BENCH_ENV)
    workdir = Path(tempfile.mkdtemp(prefix="fidelio-bench-"))
    results: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "options": {"runs": args.runs, "duration_s": args.duration, "members": args.members,
                                 "clients": CLIENTS, "batch_size": BATCH_SIZE, "only": sorted(only),
                                 "fund_points": FUND_POINTS, "redeem_cost_points": REDEEM_COST,
                                 "race_clients": RACE_CLIENTS, "race_stock": RACE_STOCK}}
    try:
        log("migrate + seed_demo")
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("seed_demo", "--force", env=env, capture=True)
        template = "bench_base"
        if "import" in only:  # the migrated, seeded database before any benchmark data, for the imports
            with _admin(env["DATABASE_URL"]) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
                conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{urlsplit(env["DATABASE_URL"]).path[1:]}"')
        token = manage("create_integration_token", f"bench-{os.getpid()}", env=env, capture=True).strip()
        django_setup()
        results["machine"] = machine_facts()
        web = only & {"api", "hot", "batch", "detail", "redeem", "race"}
        if web:
            started = time.monotonic()
            ids = members_enrol(args.members)
            from bench.minimal import SETUP_SQL

            for statement in SETUP_SQL:
                sql(statement)
            log(f"{len(ids)} members enrolled in {time.monotonic() - started:.1f} s")
            ids_file, hot_file = workdir / "members.txt", workdir / "hot.txt"
            ids_file.write_text("\n".join(map(str, ids)) + "\n")
            hot = member_id("BENCH-HOT")
            hot_file.write_text(f"{hot}\n")
            history, fresh = member_id("BENCH-HISTORY"), member_id("BENCH-FRESH")
            if "detail" in only:
                seconds = history_create(history, 10_000)
                log(f"10,000 purchases for member {history} in {seconds:.1f} s")
            reward = None
            if only & {"redeem", "race"}:
                seconds = members_fund(ids, FUND_POINTS)
                reward = reward_create(f"Bench unlimited {os.getpid()}", stock=None)
                results["redeem_setup"] = {"reward": reward, "cost_points": REDEEM_COST, "stock": None,
                                           "fund_points": FUND_POINTS, "members_funded": len(ids),
                                           "fund_seconds": round(seconds, 2)}
                log(f"{len(ids)} members funded with {FUND_POINTS:,} points each in {seconds:.1f} s; "
                    f"reward {reward} (cost {REDEEM_COST}, unlimited stock)")
            if args.offers:
                seconds = offers_running(args.offers)
                results["offers"] = {"live": args.offers, "assigned_to": "every member", "seconds": round(seconds, 2)}
                log(f"{args.offers} live offers assigned to every member in {seconds:.1f} s")
            results["queries"] = query_counts(token, ids, history, fresh, reward)
            log("queries per request: " + ", ".join(f"{k} {v['queries']} ({v['status']})"
                                                    for k, v in results["queries"].items()))
            from django.db import connections

            connections.close_all()
            with Gunicorn(env) as server:
                if "api" in only:
                    wait_for_quiet(results)
                    log(f"api: {args.runs} x {args.duration} s per view")
                    results["api"] = bench_api(server.url, token, ids_file, runs=args.runs,
                                               duration=args.duration, tag=f"api{os.getpid()}")
                if "hot" in only:
                    wait_for_quiet(results)
                    log(f"hot: {args.runs} x {max(5, args.duration // 2)} s per view, member {hot}")
                    results["hot"] = bench_api(server.url, token, hot_file, runs=args.runs,
                                               duration=max(5, args.duration // 2), tag=f"hot{os.getpid()}")
                if "batch" in only:
                    wait_for_quiet(results)
                    log(f"batch: {args.runs} x {args.duration} s")
                    results["batch"] = bench_batch(server.url, token, ids_file, runs=args.runs,
                                                   duration=args.duration)
                if "detail" in only:
                    wait_for_quiet(results)
                    log(f"detail: {args.runs} x {max(5, args.duration // 2)} s per member")
                    results["detail"] = bench_detail(
                        server.url, token, {"10,000 purchases": history, "1 purchase": fresh},
                        runs=args.runs, duration=max(5, args.duration // 2))
                if "redeem" in only:
                    wait_for_quiet(results)
                    log(f"redeem: {args.runs} x {args.duration} s per view, reward {reward}")
                    results["redeem"] = bench_redeem(server.url, token, ids_file, reward, runs=args.runs,
                                                     duration=args.duration, tag=f"redeem{os.getpid()}")
                if "race" in only:
                    wait_for_quiet(results)
                    if "redeem" not in only:  # warm the workers' redemption path (lazy imports, connections)
                        wrk(server.url, "redeem.lua", [token, str(ids_file), f"race{os.getpid()}-warm", str(reward)],
                            duration=3)
                    log(f"race: {args.runs} x {RACE_CLIENTS} clients, stock {RACE_STOCK}")
                    results["race"] = bench_race(server.url, token, ids, runs=args.runs, tag=f"race{os.getpid()}",
                                                 log_path=server.log_path)
            connections.close_all()
            if only & {"redeem", "race"}:
                from loyalty.selectors import ledger_mismatches

                started = time.monotonic()
                found = ledger_mismatches()
                results["ledger_check"] = {"members": len(found["members"]), "lots": len(found["lots"]),
                                           "sample": (found["members"][:3] + found["lots"][:3]),
                                           "seconds": round(time.monotonic() - started, 2)}
                log(f"check_ledger: {results['ledger_check']['members']} member / "
                    f"{results['ledger_check']['lots']} lot mismatches")
        if "import" in only:
            wait_for_quiet(results)
            log(f"import: {args.runs} runs of {args.import_rows} rows")
            results["import_rows"] = args.import_rows
            results["import"] = bench_import(env, template, runs=args.runs, rows=args.import_rows,
                                             customers=args.import_customers, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n" + "=" * 100)
    m = results.get("machine", {})
    print(f"Machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_gib')} GiB, Python {m.get('python')}, "
          f"{(m.get('postgresql') or '').split(' on ')[0]}, Django {m.get('django')}, gunicorn {m.get('gunicorn')}")
    print(f"Code: commit {m.get('git_commit')}, {len(m.get('git_modified_files') or [])} modified tracked files")
    for line in summarise(results):
        print(line)
    skewed = sorted({x for key in ("api", "hot", "detail", "redeem") for runs in (results.get(key) or {}).values()
                     for r in runs for x in r.get("other_load", [])}
                    | {x for r in results.get("batch") or [] for x in r.get("other_load", [])}
                    | set(results.get("contended", [])))
    if skewed:
        print(f"WARNING: other benchmark/test processes ran during some measurements: {skewed}")
    print("=" * 100)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
        print(f"raw results: {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_measure"]:
        return _measure(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per benchmark (median reported)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per load run (hot/detail: half)")
    parser.add_argument("--members", type=int, default=10_000, help="members the posts are spread over")
    parser.add_argument("--offers", type=int, default=0, help="live offers every member holds during the run")
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--import-customers", type=int, default=200_000)
    parser.add_argument("--json", default="", help="also write the raw results to this file")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only and not set(args.only.split(",")) <= set(ALL):
        parser.error(f"--only takes {','.join(ALL)}")
    if args.inside:
        return inside(args)
    wanted = set(args.only.split(",")) if args.only else set(ALL)
    if wanted - {"import"} and not shutil.which("wrk"):
        parser.error("wrk is needed for the HTTP benchmarks: apt-get install -y wrk")
    # Fresh throwaway servers (or DATABASE_URL/REDIS_URL when set), stopped whatever happens.
    return subprocess.call([PY, str(BASE_DIR / "config" / "embedded.py"), "exec", "--throwaway", "--",
                            PY, str(Path(__file__).resolve()), "--inside", *argv], cwd=BASE_DIR)


if __name__ == "__main__":
    sys.exit(main())
