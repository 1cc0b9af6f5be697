"""The hot-stock race of issue 4: many real HTTP clients redeem the same reward at the same moment.

`race()` opens one TCP connection per client (each its own thread), holds them all at a barrier, then
releases them together: every client sends ONE `POST /api/v1/redemptions/` (integration token, its own
Idempotency-Key, a different member each) and reads the answer. It returns each client's status, the error
code of the JSON body and the time from the release to the last answer. Loopback only; every socket has a
timeout, so a run ends by itself. Used by `bench/run.py --only race`, which makes the reward, funds the
members and checks the database afterwards.
"""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

PATH = "/api/v1/redemptions/"


def race(url: str, token: str, reward: int, members: list[int], *, tag: str, timeout: float = 30.0) -> dict:
    """One redemption of `reward` per member in `members`, all released together. Returns the figures."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the race only targets this machine (loopback), not {parts.hostname}")
    n = len(members)
    answers: list[dict | None] = [None] * n
    released: dict[str, float] = {}
    barrier = threading.Barrier(n, action=lambda: released.setdefault("at", time.monotonic()), timeout=timeout)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        body = json.dumps({"member": members[i], "reward": reward})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                   "Idempotency-Key": f"{tag}-{i}"}
        sent = None
        try:
            conn.connect()  # connected before the release: the race is between requests, not handshakes
            barrier.wait()
            sent = time.monotonic()
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            answers[i] = {"status": response.status, "body": text[:2000], "sent": sent, "done": time.monotonic()}
        except Exception as exc:  # every failure is a result to report
            answers[i] = {"status": None, "body": "", "error": f"{type(exc).__name__}: {exc}", "sent": sent,
                          "done": time.monotonic()}
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), name=f"race-{i}", daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2 * timeout + 10
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    done = [a for a in answers if a is not None]
    start = released.get("at")
    statuses = collections.Counter(str(a["status"]) for a in done)
    outcomes = collections.Counter(f"{a['status']} {_code(a) or ''}".strip() for a in done)
    return {
        "clients": n,
        "answered": sum(1 for a in done if a["status"] is not None),
        "hung_clients": hung,
        "client_errors": sorted({a["error"] for a in done if a.get("error")}),
        "statuses": dict(sorted(statuses.items())),
        "outcomes": dict(sorted(outcomes.items())),
        "status_5xx": sum(1 for a in done if a["status"] is not None and a["status"] >= 500),
        "deadlock_mentions": sum(1 for a in done if "deadlock" in a["body"].lower()),
        "created_members": [members[i] for i, a in enumerate(answers) if a and a["status"] == 201],
        "wall_s": (max(a["done"] for a in done) - start) if done and start is not None else None,
        "first_answer_s": (min(a["done"] for a in done) - start) if done and start is not None else None,
        "bodies_5xx": [a["body"][:500] for a in done if a["status"] is not None and a["status"] >= 500][:5],
    }


def _code(answer: dict) -> str | None:
    if answer["status"] is None or answer["status"] < 400:
        return None
    try:
        return json.loads(answer["body"]).get("code")
    except (ValueError, AttributeError):
        return "non-json"
