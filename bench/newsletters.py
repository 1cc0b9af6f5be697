"""How fast does a newsletter go out? Sends one newsletter to --members members through Django's SMTP backend
to a local SMTP sink (aiosmtpd in a thread on 127.0.0.1) and reports mails per second (target: >= 200).

    .venv/bin/python bench/newsletters.py [--members 10000] [--batch 50]

Throwaway PostgreSQL + Redis (config/embedded.py exec --throwaway), migrate, demo program, --members members
with marketing consent; then `newsletter_send_run` in this process, exactly as the Celery task calls it, with
every placeholder in the body (so the per-member lookups are measured too). Writes
bench/results/newsletters-<commit>.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

BODY = """# Your points, {first_name}

You have **{balance} points** in tier {tier}; {points_expiring} of them expire soon.
Why not treat yourself to the *{recommended_reward}*?

- Visit the [shop](https://shop.example.test/)
- See your [rewards](https://rewards.example.test/rewards/)
"""


class Sink:
    """aiosmtpd handler: counts messages per recipient."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        for rcpt in envelope.rcpt_tos:
            self.received[rcpt] += 1
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inside(args) -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_setup, members_enrol

    inprocess_setup("newsletters")
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.utils import timezone

    from backoffice.models import Newsletter, NewsletterDelivery
    from backoffice.services import newsletter_schedule, newsletter_send_run
    from members.models import Member

    started = time.perf_counter()
    ids = members_enrol(args.members)
    Member.objects.filter(pk__in=ids).update(marketing_consent=True, first_name="Bench")
    print(f"enrolled {len(ids)} members in {time.perf_counter() - started:.1f} s", flush=True)

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        newsletter = Newsletter.objects.create(subject="News for {first_name}", body_markdown=BODY)
        newsletter_schedule(newsletter=newsletter, when=timezone.now())
        started = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                result = newsletter_send_run(newsletter_id=newsletter.pk, batch_size=args.batch, rate=0)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
        else:
            result = newsletter_send_run(newsletter_id=newsletter.pk, batch_size=args.batch, rate=0)
        wall = time.perf_counter() - started
    finally:
        controller.stop()
    statuses = dict(Counter(NewsletterDelivery.objects.filter(newsletter=newsletter)
                            .values_list("status", flat=True)))
    duplicates = sum(1 for n in sink.received.values() if n > 1)
    rate = result.sent / wall if wall else 0.0
    print(f"sent {result.sent} (failed {result.failed}) in {wall:.1f} s = {rate:.0f} mails/s; "
          f"sink received {sum(sink.received.values())} for {len(sink.received)} recipients, "
          f"duplicates {duplicates}; deliveries {statuses}", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    out = BASE_DIR / "bench" / "results" / f"newsletters-{commit}.json"
    out.write_text(json.dumps({
        "benchmark": "newsletters", "commit": commit, "members": len(ids), "batch": args.batch,
        "sent": result.sent, "failed": result.failed, "seconds": round(wall, 2), "mails_per_s": round(rate, 1),
        "sink_messages": sum(sink.received.values()), "sink_recipients": len(sink.received),
        "duplicates": duplicates, "deliveries": statuses, "target_mails_per_s": 200,
        "note": "in-process newsletter_send_run, Django SMTP backend (one connection) to aiosmtpd on 127.0.0.1, "
                "throwaway embedded PostgreSQL; includes materialising the audience",
    }, indent=2) + "\n")
    print(f"wrote {out.relative_to(BASE_DIR)}")
    ok = result.sent == len(ids) and duplicates == 0 and len(sink.received) == len(ids)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the send")
    sys.path.insert(0, str(BASE_DIR))
    from bench.run import inprocess_main

    return inprocess_main(parser, inside, __file__)


if __name__ == "__main__":
    sys.exit(main())
