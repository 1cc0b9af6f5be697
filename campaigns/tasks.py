from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=2000)
def offers_assign() -> dict:
    """Assign every running offer to its audience (nightly after the metric rollup). Safe to re-run: a member
    who has an offer keeps it and their group."""
    from campaigns.services.offers import offers_assign_all

    return offers_assign_all()
