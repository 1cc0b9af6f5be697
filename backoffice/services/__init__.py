"""Back-office services (writes), one module per sub-domain; their public names are re-exported here."""

from backoffice.services.health import heartbeat_record
from backoffice.services.schedule import periodic_tasks_ensure
from backoffice.services.staff_groups import staff_groups_sync

__all__ = [
    "heartbeat_record",
    "periodic_tasks_ensure",
    "staff_groups_sync",
]
