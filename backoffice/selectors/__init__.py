"""Back-office read queries, one module per sub-domain: `health` (platform health) and `metrics` (metric scores
for the dashboard); their public names are re-exported here."""

from backoffice.selectors.health import HEARTBEAT_NAME, HEARTBEAT_TASK, health_get, health_ready_get
from backoffice.selectors.metrics import CLV_BUCKETS, clv_distribution, member_score_get

__all__ = [
    "CLV_BUCKETS",
    "HEARTBEAT_NAME",
    "HEARTBEAT_TASK",
    "clv_distribution",
    "health_get",
    "health_ready_get",
    "member_score_get",
]
