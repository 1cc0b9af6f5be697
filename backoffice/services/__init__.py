"""Back-office services (writes), one module per sub-domain; their public names are re-exported here.

`backoffice.clv` (the predictive CLV model) stays outside this package: it must import without Django
(bench/clv.py fits without settings) and numpy/scipy load only when a rollup runs it (metrics.clv_predict)."""

from backoffice.services.demo import DemoLogin, demo_seed
from backoffice.services.health import heartbeat_record
from backoffice.services.metrics import (
    ROLLUP_STEPS,
    SEGMENT_MAP,
    RollupResult,
    metrics_rollup,
    rollup_default_day,
    rollup_progress_get,
    rollup_progress_set,
    segment_for,
)
from backoffice.services.newsletters import (
    NewsletterSendInterrupted,
    SendResult,
    UnsubscribeLinkExpired,
    UnsubscribeLinkInvalid,
    audience_validate,
    markdown_to_html,
    newsletter_audience_count,
    newsletter_audience_qs,
    newsletter_deliveries_materialise,
    newsletter_preview_send,
    newsletter_schedule,
    newsletter_send_run,
    newsletter_send_start,
    newsletter_stats_annotate,
    newsletter_unschedule,
    newsletter_unsubscribe,
    newsletters_due_ids,
    unsubscribe_target_get,
    unsubscribe_token_make,
    unsubscribe_token_read,
    unsubscribe_url,
)
from backoffice.services.schedule import periodic_tasks_ensure
from backoffice.services.staff_groups import staff_groups_sync

__all__ = [
    "ROLLUP_STEPS",
    "SEGMENT_MAP",
    "DemoLogin",
    "NewsletterSendInterrupted",
    "RollupResult",
    "SendResult",
    "UnsubscribeLinkExpired",
    "UnsubscribeLinkInvalid",
    "audience_validate",
    "demo_seed",
    "heartbeat_record",
    "markdown_to_html",
    "metrics_rollup",
    "newsletter_audience_count",
    "newsletter_audience_qs",
    "newsletter_deliveries_materialise",
    "newsletter_preview_send",
    "newsletter_schedule",
    "newsletter_send_run",
    "newsletter_send_start",
    "newsletter_stats_annotate",
    "newsletter_unschedule",
    "newsletter_unsubscribe",
    "newsletters_due_ids",
    "periodic_tasks_ensure",
    "rollup_default_day",
    "rollup_progress_get",
    "rollup_progress_set",
    "segment_for",
    "staff_groups_sync",
    "unsubscribe_target_get",
    "unsubscribe_token_make",
    "unsubscribe_token_read",
    "unsubscribe_url",
]
