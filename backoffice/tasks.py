from celery import shared_task

from backoffice.services import heartbeat_record


@shared_task(acks_late=True, ignore_result=False, soft_time_limit=30, time_limit=60)
def heartbeat() -> str:
    """Runs every minute from beat; /healthz reads the last run."""
    from celery import current_task

    worker = getattr(current_task.request, "hostname", "") or ""
    beat = heartbeat_record(name="celery", worker=worker)
    return beat.last_run_at.isoformat()
