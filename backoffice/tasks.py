from celery import shared_task

from backoffice.services import heartbeat_record


@shared_task(acks_late=True, ignore_result=False, soft_time_limit=30, time_limit=60)
def heartbeat() -> str:
    """Runs every minute from beat; /healthz reads the last run."""
    from celery import current_task

    worker = getattr(current_task.request, "hostname", "") or ""
    beat = heartbeat_record(name="celery", worker=worker)
    return beat.last_run_at.isoformat()


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=2000)
def metrics_rollup_daily(as_of: str | None = None) -> dict:
    """Metric rollups, cohorts, RFM and CLV for `as_of` (ISO date; default: yesterday in program time, the
    nightly 02:00 run). Safe to re-run: the day's rows are replaced."""
    from datetime import date

    from django.utils import timezone

    from backoffice.services import metrics_rollup, rollup_default_day, rollup_progress_set

    day = date.fromisoformat(as_of) if as_of else rollup_default_day(now=timezone.now())
    done: list[str] = []

    def progress(step: str) -> None:
        done.append(step)
        rollup_progress_set(as_of=day, step=step, done=len(done))

    rollup_progress_set(as_of=day, step="started", done=0)
    result = metrics_rollup(as_of=day, progress=progress)
    rollup_progress_set(as_of=day, step="finished", done=len(done), seconds=result.seconds)
    # Offers' audiences read the fresh scores: assign after every rollup (the nightly one and "Run rollup now").
    from campaigns.tasks import offers_assign

    offers_assign.delay()
    return {"as_of": day.isoformat(), "snapshots": result.snapshots, "member_scores": result.member_scores,
            "seconds": result.seconds}


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360, autoretry_for=(ConnectionError,),
             retry_backoff=30, retry_backoff_max=900, max_retries=20)
def newsletter_send(newsletter_id: int) -> int:
    """Send one newsletter's pending deliveries (starting it if due) for up to 4 minutes, then queue itself
    again if rows are left. Safe to retry or run twice: each delivery is sent at most once."""
    from backoffice.services import NewsletterSendInterrupted, newsletter_send_run

    try:
        result = newsletter_send_run(newsletter_id=newsletter_id, time_budget=240)
    except NewsletterSendInterrupted as exc:  # mail server trouble: accepted rows are recorded; retry the rest
        raise ConnectionError(str(exc)) from exc
    if result.more:
        newsletter_send.delay(newsletter_id=newsletter_id)
    return result.sent


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def newsletters_start_due() -> int:
    """Every 5 minutes: queue the send of scheduled newsletters that are due (and resume unfinished ones)."""
    from backoffice.services import newsletters_due_ids

    ids = newsletters_due_ids()
    for newsletter_id in ids:
        newsletter_send.delay(newsletter_id=newsletter_id)
    return len(ids)
