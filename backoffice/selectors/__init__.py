"""Back-office read queries, one module per sub-domain; their public names are re-exported here."""

from backoffice.selectors.health import HEARTBEAT_NAME, HEARTBEAT_TASK, health_get, health_ready_get

__all__ = [
    "HEARTBEAT_NAME",
    "HEARTBEAT_TASK",
    "health_get",
    "health_ready_get",
]
